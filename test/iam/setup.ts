/**
 * globalSetup: one fresh IAM log directory per vitest run (test/iam/recording.ts). The workers
 * inherit IAM_CALLS_DIR, so every emulator of the run writes there. A vitest started by the policy
 * test itself (to record what this run did not) finds IAM_CALLS_DIR set and writes into its
 * parent's directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  if (process.env.IAM_CALLS_DIR) return () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'iam-calls-'));
  process.env.IAM_CALLS_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
