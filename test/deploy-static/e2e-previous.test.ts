/**
 * `rollback-to: previous` means the release before the live one that was not rolled away from:
 * run twice, it steps back twice and never returns to the release the first rollback replaced.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRelease } from '../../actions/deploy-static/rollback-plan.js';
import type { Release } from '../../actions/deploy-static/record.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { getBytes, s3Client } from './fixtures.js';
import { s3Env, startLocalS3, type LocalS3 } from './local-s3.js';

let emu: Emulator;
let s3: LocalS3;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  s3 = await startLocalS3(['twice']);
  env = { ...emu.env(), ...s3Env(s3.endpoint) };
});
afterAll(async () => {
  await s3?.stop();
  await emu?.stop();
});

const run = (inputs: Record<string, string | number | boolean>, sha: string, runId: string) =>
  runBundle('deploy-static', {
    inputs: { bucket: 'twice', ...inputs },
    env: { ...env, GITHUB_SHA: sha, GITHUB_ACTOR: 'alice', GITHUB_RUN_ID: runId },
    timeoutMs: 90_000,
  });

function build(tag: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'prev-')), 'dist');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><title>${tag}</title>`);
  return dir;
}
const live = async () => (await getBytes(s3Client(s3.endpoint), 'twice', 'index.html')).toString();

describe('deploy-static rollback-to: previous, twice (bundle)', () => {
  it('v1, v2, v3 deployed; previous gives v2, previous again gives v1 (not v3), a third has nothing left', async () => {
    for (const [i, tag] of ['v1', 'v2', 'v3'].entries()) {
      const r = await run({ source: build(tag) }, `${String(i + 1).repeat(7)}${'0'.repeat(33)}`, `${i + 1}00`);
      expect(r.code, r.stdout).toBe(0);
    }
    expect(await live()).toContain('v3');
    const first = await run({ 'rollback-to': 'previous' }, 'f'.repeat(40), '400');
    expect(first.code, first.stdout).toBe(0);
    expect(await live()).toContain('v2');
    const second = await run({ 'rollback-to': 'previous' }, 'f'.repeat(40), '500');
    expect(second.code, second.stdout).toBe(0);
    expect(await live()).toContain('v1');
    const third = await run({ 'rollback-to': 'previous' }, 'f'.repeat(40), '600');
    expect(third.code).toBe(1);
    expect(third.errors.join('\n')).toMatch(/every release before the live one .* was rolled away from/);
    expect(await live()).toContain('v1');
  });
});

describe('previous on a release history', () => {
  const rel = (id: string, extra: Partial<Release> = {}): Release => ({
    id,
    commit: `${id}000000`,
    at: '2026-11-27T10:00:00.000Z',
    kind: 'deploy',
    files: {},
    ...extra,
  });
  it('skips releases rolled away from; a deploy after a rollback starts a new step', () => {
    const history = [rel('v1'), rel('v2'), rel('v3'), rel('r1', { kind: 'rollback', restored: 'v2' })];
    expect(resolveRelease(history, 'previous', 'x').id).toBe('v1');
    expect(resolveRelease([...history, rel('v4')], 'previous', 'x').id).toBe('v2');
    // Rolling forward by id to a release that was rolled away from is a step of its own.
    expect(resolveRelease([...history, rel('r2', { kind: 'rollback', restored: 'v3' })], 'previous', 'x').id).toBe('v2');
  });
});
