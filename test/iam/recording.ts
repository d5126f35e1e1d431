/**
 * The IAM log of one vitest run. test/iam/setup.ts (globalSetup) gives the run a fresh directory in
 * IAM_CALLS_DIR; the emulator and the test S3 append every call an action makes
 * (test/emulator/iam-log.ts), and runBundle notes which test file ran which bundle. The policy test
 * runs in the last project group (vitest.config.ts), after every other test file of the run, and
 * reads it all.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import type { IamLogEntry } from '../emulator/iam-log.js';

/** Called by runBundle: this test file ran this action's bundle. */
export function noteBundleRun(root: string, action: string): void {
  const dir = process.env.IAM_CALLS_DIR;
  // Benchmarks and the demo run bundles outside vitest: no test file to name.
  if (!dir || !process.env.VITEST) return;
  // A process a test spawns (the demo) inherits VITEST but has no vitest state to ask.
  let file: string | undefined;
  try {
    file = expect.getState().testPath;
  } catch {
    return;
  }
  if (!file) return;
  appendFileSync(join(dir, `bundles-${process.pid}.ndjson`), `${JSON.stringify({ file: relative(root, file), action })}\n`);
}

const lines = <T>(dir: string, prefix: string): T[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(prefix) && f.endsWith('.ndjson'))
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
        .map((l) => JSON.parse(l) as T)
    : [];

export function readCalls(dir: string): IamLogEntry[] {
  return lines<IamLogEntry>(dir, 'calls-');
}

/** The test files (repository-relative) that ran a bundle in this run. */
export function filesThatRan(dir: string): Set<string> {
  return new Set(lines<{ file: string }>(dir, 'bundles-').map((l) => l.file));
}
