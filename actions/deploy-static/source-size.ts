import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds above this many files run in a worker thread with a capped young generation
 * (lib/worker-thread.ts). Measured on Node 24 (`BENCH_RECORD=5000,10000,20000,50000
 * BENCH_RECORD_LAYOUTS=3 npx tsx bench/static/record.ts`, with and without the cap): a no-op
 * peaks at the same RSS up to 10,000 files (134/136, 150/151 MiB), from 20,000 the cap saves
 * 14 MiB, at 50,000 83 MiB, at 100,000 88 MiB. The worker's start (~0.1 s on a runner-sized machine)
 * is paid only where it buys that; a rollback or a purge (no source) runs in this thread.
 */
export const WORKER_ABOVE_FILES = 10_000;

/**
 * Whether the folder holds more than `limit` entries that are not folders, counted without
 * reading any file and stopping at limit + 1: what the entry point needs to choose where the
 * run goes before the action's code is loaded. An unreadable folder counts as empty (the run
 * itself then says what is wrong with it).
 */
export function holdsMoreFilesThan(dir: string, limit: number): boolean {
  if (dir === '') return false;
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
