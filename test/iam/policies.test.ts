/**
 * Each action's README IAM policy against every call its code made in this vitest run: every call
 * allowed (by @cloud-copilot/iam-simulate, IAM's evaluation logic), and every statement (and every
 * action of a statement) used by some call unless the README says why no test reaches it.
 *
 * The calls come from the run's IAM log (recording.ts). This file runs in the last project group
 * (vitest.config.ts), after every e2e test of the run. Whatever representative test files below did
 * not run in this run (run alone: `npx vitest run test/iam`), it runs itself first, in a nested
 * vitest writing into the same log: the check never runs on an empty or partial floor of calls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IamLogEntry } from '../emulator/iam-log.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { evaluate, readReadmePolicy } from './policies.js';
import { filesThatRan, readCalls } from './recording.js';

/**
 * The e2e test files whose calls every README statement is checked against: together they reach
 * every feature each README has a policy block for. A run that includes them all (the whole suite)
 * is used as is; otherwise the missing ones are run first.
 */
const REPRESENTATIVE: Record<string, string[]> = {
  'deploy-ecs': [
    'test/deploy-ecs/e2e.test.ts',
    'test/deploy-ecs/gate-e2e.test.ts',
    // The ECS-native rollback (StopServiceDeployment) of a deployment whose gate expired.
    'test/deploy-ecs/gate-expiry-e2e.test.ts',
    'test/deploy-ecs/e2e-codedeploy.test.ts',
    'test/deploy-ecs/e2e-scheduled.test.ts',
    'test/deploy-ecs/e2e-promote-from.test.ts',
    'test/deploy-ecs/rollback-e2e.test.ts',
  ],
  'deploy-static': ['test/deploy-static/e2e.test.ts', 'test/deploy-static/e2e-releases.test.ts'],
  'migrate-db': ['test/migrate-db/e2e.test.ts'],
  'render-taskdef': ['test/render-taskdef/e2e.test.ts'],
};

let calls: IamLogEntry[] = [];

/** The failed tests of a vitest JSON report, or what is known when there is none (vitest failed to start). */
function failedTests(report: string): string {
  if (!existsSync(report)) return 'vitest wrote no report';
  const r = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: { status: string; fullName: string }[] }[] };
  return r.testResults
    .flatMap((f) => f.assertionResults)
    .filter((a) => a.status === 'failed')
    .map((a) => a.fullName)
    .join('; ');
}
/** Set when the representative files run here had failures: their calls may stop short. */
let partial = '';

beforeAll(() => {
  const dir = process.env.IAM_CALLS_DIR;
  if (!dir)
    throw new Error('IAM_CALLS_DIR is not set: run this file through vitest.config.ts (its globalSetup test/iam/setup.ts sets it).');
  const ran = filesThatRan(dir);
  const missing = Object.values(REPRESENTATIVE)
    .flat()
    .filter((f) => !ran.has(f));
  if (missing.length) {
    const report = join(mkdtempSync(join(tmpdir(), 'iam-nested-')), 'results.json');
    const run = spawnSync(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'bundles', ...missing], {
      cwd: repoRoot,
      env: { ...process.env, VITEST_JSON_REPORT: report },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    // A failed e2e test still made its calls (every one must be allowed), but may have stopped
    // before some: an unused statement is then reported with that caveat rather than hidden.
    if (run.status !== 0)
      partial = ` (the representative e2e tests run here had failures, so their calls may stop short: ${failedTests(report)})`;
  }
  const after = filesThatRan(dir);
  const absent = Object.values(REPRESENTATIVE)
    .flat()
    .filter((f) => !after.has(f));
  if (absent.length) throw new Error(`These representative test files ran no bundle: ${absent.join(', ')}.`);
  calls = readCalls(dir);
});

describe.each(Object.keys(REPRESENTATIVE))('the %s README IAM policy', (action) => {
  it('allows every call the e2e tests made, and has no statement or action that no call uses', async () => {
    const made = calls.filter((c) => c.actor === action);
    expect(made.length, `no call of ${action} was recorded`).toBeGreaterThan(0);
    const policy = readReadmePolicy(repoRoot, action);
    const { denied, unused } = await evaluate(
      policy,
      made.flatMap((c) => c.calls),
    );
    // One line per IAM action denied: the first call as an example, and how many calls like it.
    const byAction = new Map<string, typeof denied>();
    for (const d of denied) byAction.set(d.call.action, [...(byAction.get(d.call.action) ?? []), d]);
    const named = [...byAction.values()].map((ds) => {
      const { call, result } = ds[0]!;
      return `${call.action} on ${call.resource}${call.context ? ` ${JSON.stringify(call.context)}` : ''}: ${result}${ds.length > 1 ? ` (and ${ds.length - 1} more)` : ''}`;
    });
    expect(named, `calls the actions/${action}/README.md policy does not allow`).toEqual([]);
    expect(unused, `statements (Sid) or actions (Sid action) of actions/${action}/README.md no call used${partial}`).toEqual([]);
  });
});
