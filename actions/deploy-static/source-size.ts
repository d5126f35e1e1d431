import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds above this many files run in a worker thread with a capped young generation
 * (lib/worker-thread.ts). Measured on Node 24, a no-op with a record
 * (`BENCH_RECORD=5000,10000,20000,50000 BENCH_RECORD_LAYOUTS=3 npx tsx bench/static/record.ts`,
 * without and with `BENCH_NODE_OPTIONS=--max-semi-space-size=16`, the same cap): the same peak
 * RSS up to 10,000 files (134 / 136, 150 / 151 MiB); 206 / 192 MiB at 20,000, 321 / 238 at 50,000.
 * A worker takes ~0.1 s to start on this 2-core machine: paid only where the cap saves memory. A run
 * without a source (a rollback, a purge) stays in the main thread.
 */
export const WORKER_ABOVE_FILES = 10_000;

/**
 * Whether the folder holds more than `limit` entries that are not folders, counted without
 * reading any file and stopping at limit + 1: what the entry point needs to choose where the
 * run goes before the action's code is loaded. No source (''), or a folder that cannot be read,
 * counts as empty (the run itself then says what is wrong with it).
 */
export function holdsMoreFilesThan(dir: string, limit: number): boolean {
  const folders = [dir];
  let files = 0;
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isDirectory()) folders.push(join(folder, e.name));
      else if (++files > limit) return true;
    }
  }
  return false;
}
