import { code, markdownTable } from '../../lib/markdown.js';
import { FREE_PATHS_PER_MONTH } from './invalidation.js';
import { formatBytes, type TargetResult } from './deploy.js';
import { releasesMarkdown } from './releases.js';
import { snapshotKey, stateOf } from './state.js';
import { type RollbackPlan } from './rollback-plan.js';
import type { RecordStore } from './record-store.js';

export interface Totals {
  uploaded: number;
  metadataUpdated: number;
  deleted: number;
  unchanged: number;
  bytesUploaded: number;
  invalidationPaths: number;
}

export function totals(results: readonly TargetResult[]): Totals {
  const t: Totals = { uploaded: 0, metadataUpdated: 0, deleted: 0, unchanged: 0, bytesUploaded: 0, invalidationPaths: 0 };
  for (const r of results) {
    t.uploaded += r.plan.uploads.length;
    t.metadataUpdated += r.plan.copies.length;
    t.deleted += r.plan.deletes.length;
    t.unchanged += r.plan.unchanged.length;
    t.bytesUploaded += r.plan.uploads.reduce((n, o) => n + o.file.size, 0);
    t.invalidationPaths += r.invalidation?.paths.length ?? 0;
  }
  return t;
}

/** The JSON written to the `plan` output path: what was (or, with dry-run, would be) done. */
export function planJson(results: readonly TargetResult[], dryRun: boolean): unknown {
  return {
    dryRun,
    targets: results.map((r) => ({
      bucket: r.target.bucket,
      prefix: r.target.prefix,
      distributionId: r.target.distributionId ?? null,
      uploads: r.plan.uploads.map((o) => ({
        key: o.file.key,
        reason: o.reason,
        size: o.file.size,
        contentType: o.file.headers.contentType,
        cacheControl: o.file.headers.cacheControl ?? null,
        phase: o.file.entry ? 'entry' : 'asset',
      })),
      metadataUpdates: r.plan.copies.map((o) => ({
        key: o.file.key,
        contentType: o.file.headers.contentType,
        cacheControl: o.file.headers.cacheControl ?? null,
        phase: o.file.entry ? 'entry' : 'asset',
      })),
      deletes: r.plan.deletes,
      // Not in source and not written by this action: kept unless `delete: all`.
      leftInPlace: r.plan.foreign,
      unchanged: r.plan.unchanged.length,
      invalidation: r.invalidation
        ? { id: r.invalidationId ?? null, paths: r.invalidation.paths, note: r.invalidation.note ?? null }
        : null,
    })),
  };
}

export function summaryMarkdown(results: readonly TargetResult[], dryRun: boolean): string {
  const t = totals(results);
  const out: string[] = [`### deploy-static${dryRun ? ' (dry run: nothing written)' : ''}`, ''];
  out.push(
    markdownTable(
      ['target', 'uploaded', 'headers updated', 'deleted', 'unchanged', 'bytes uploaded', 'invalidation'],
      results.map((r) => [
        `s3://${r.target.bucket}/${r.target.prefix}`,
        r.plan.uploads.length,
        r.plan.copies.length,
        r.plan.deletes.length,
        r.plan.unchanged.length,
        formatBytes(r.plan.uploads.reduce((n, o) => n + o.file.size, 0)),
        r.invalidation ? `${r.invalidationId ? `${r.invalidationId}: ` : ''}${r.invalidation.paths.length} paths` : '—',
      ]),
    ),
  );
  const changed = results.flatMap((r) =>
    [...r.plan.uploads, ...r.plan.copies].map((o) => ({ key: o.file.key, size: o.file.size, reason: o.reason })),
  );
  if (changed.length > 0) {
    out.push('', `**Top changed files** (${changed.length} in all)`, '');
    out.push(
      markdownTable(
        ['key', 'why', 'size'],
        changed
          .sort((a, b) => b.size - a.size)
          .slice(0, 10)
          .map((c) => [code(c.key), c.reason, formatBytes(c.size)]),
      ),
    );
  }
  for (const r of results) {
    if (!r.invalidation) continue;
    const shown = r.invalidation.paths.slice(0, 30).map(code).join(' ');
    out.push(
      '',
      `**Invalidation ${r.target.distributionId}**: ` +
        `${shown}${r.invalidation.paths.length > 30 ? ' …' : ''}${r.invalidation.note ? ` (${r.invalidation.note})` : ''}`,
    );
  }
  for (const r of results) {
    if (r.plan.foreign.length === 0) continue;
    out.push(
      '',
      `**Left in place** in s3://${r.target.bucket}/${r.target.prefix}: ${r.plan.foreign.length} objects not in source and not written ` +
        `by deploy-static (another app's, or from before its record), e.g. ${r.plan.foreign.slice(0, 5).map(code).join(' ')}. \`delete: all\` removes them.`,
    );
  }
  if (t.invalidationPaths > 0)
    out.push(
      '',
      `Invalidation paths this run: ${t.invalidationPaths} (a wildcard counts as one; the first ` +
        `${FREE_PATHS_PER_MONTH.toLocaleString('en')} paths each month are free).`,
    );
  for (const r of results) out.push(releaseList(r.store, `s3://${r.target.bucket}/${r.target.prefix}`, r.release?.release.id));
  const exposures = [...new Set(results.map((r) => r.exposure).filter(Boolean))];
  if (exposures.length > 0) out.push('', ...exposures.map((e) => `> [!WARNING]\n> ${e}`));
  return `${out.join('\n')}\n`;
}

/** The releases kept in a target's record, newest first. */
function releaseList(store: Pick<RecordStore, 'releaseList'> | undefined, where: string, current?: string): string {
  const releases = store?.releaseList() ?? [];
  return releasesMarkdown(where, releases, current ?? releases.at(-1)?.id);
}

/** The plan file of a rollback: the exact objects it changes. */
export function rollbackJson(plans: readonly RollbackPlan[], dryRun: boolean): unknown {
  return {
    dryRun,
    rollback: true,
    targets: plans.map((p) => ({
      bucket: p.target.bucket,
      prefix: p.target.prefix,
      distributionId: p.target.distributionId ?? null,
      release: p.release.id,
      // Copied aside first: live files of kept releases that have no snapshot yet.
      keptAside: p.preserve.copies.map((c) => ({ key: p.target.prefix + c.rel, to: snapshotKey(stateOf(p.target), c.snap, c.rel) })),
      restores: p.restores.map((rel) => ({
        key: p.target.prefix + rel,
        from: snapshotKey(stateOf(p.target), p.release.files[rel]!.snap!, rel),
      })),
      deletes: p.deletes,
      unchanged: p.unchanged,
      invalidation: p.invalidation
        ? { id: p.invalidationId ?? null, paths: p.invalidation.paths, note: p.invalidation.note ?? null }
        : null,
      recorded: p.recorded?.release.id ?? null,
    })),
  };
}

export function rollbackMarkdown(plans: readonly RollbackPlan[], dryRun: boolean): string {
  const out: string[] = [`### deploy-static rollback${dryRun ? ' (dry run: nothing written)' : ''}`, ''];
  out.push(
    markdownTable(
      [
        'target',
        'restored release',
        'files restored (CopyObject)',
        'deleted',
        'unchanged',
        'bytes uploaded',
        'invalidation',
        'new release',
      ],
      plans.map((p) => [
        `s3://${p.target.bucket}/${p.target.prefix}`,
        code(p.release.id),
        p.restores.length,
        p.deletes.length,
        p.unchanged,
        '0 B',
        p.invalidation ? `${p.invalidationId ? `${p.invalidationId}: ` : ''}${p.invalidation.paths.length} paths` : '—',
        p.recorded ? code(p.recorded.release.id) : '—',
      ]),
    ),
  );
  for (const p of plans) {
    const objects = [
      ...p.preserve.copies.map(
        (c) =>
          `COPY ${code(p.target.prefix + c.rel)} → ${code(snapshotKey(stateOf(p.target), c.snap, c.rel))} (kept for release ${code(c.snap)})`,
      ),
      ...p.restores.map(
        (rel) => `COPY ${code(snapshotKey(stateOf(p.target), p.release.files[rel]!.snap!, rel))} → ${code(p.target.prefix + rel)}`,
      ),
      ...p.deletes.map((k) => `DELETE ${code(k)}`),
    ];
    if (objects.length > 0)
      out.push(
        '',
        `**Objects ${dryRun ? 'this rollback would change' : 'changed'}** in s3://${p.target.bucket}/${p.target.prefix} (${objects.length}):`,
        '',
        ...objects.slice(0, 200).map((o) => `- ${o}`),
        ...(objects.length > 200 ? [`- … ${objects.length - 200} more in the plan file`] : []),
      );
    if (p.invalidation?.note)
      out.push('', `**Invalidation ${p.target.distributionId}**: ${p.invalidation.paths.join(' ')} (${p.invalidation.note})`);
    out.push(releaseList(p.store, `s3://${p.target.bucket}/${p.target.prefix}`));
  }
  return `${out.join('\n')}\n`;
}
