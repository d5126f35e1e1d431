/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping result
 * order (deploy-static's uploads and copies, deploy-ecs's per-service calls). The first failure stops new work from starting and is rethrown once
 * the calls already in flight have settled, so a failed run never leaves
 * writes racing in the background.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
  return results;
}
