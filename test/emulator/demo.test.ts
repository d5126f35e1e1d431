/**
 * `npm run demo` as a user runs it: the happy path and a failure scenario exit 0,
 * an unknown scenario lists the known ones and exits 1. Plus the log
 * formatting that turns workflow commands into readable lines.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import type { DemoStep } from '../../scripts/demo/context.js';
import { compactJson, readableLine } from '../../scripts/demo/print.js';

const stepsDir = join(repoRoot, 'scripts', 'demo', 'steps');
const steps: DemoStep[] = await Promise.all(
  readdirSync(stepsDir)
    .filter((f) => f.endsWith('.ts'))
    .map(async (f) => ((await import(pathToFileURL(join(stepsDir, f)).href)) as { default: DemoStep }).default),
);
const scenarioNames = () => steps.flatMap((step) => Object.keys(step.scenarios ?? {}));

function demo(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo/index.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run demo', () => {
  it('runs the pipeline and exits 0, printing each step and the API calls made', { timeout: 300_000 }, async () => {
    const { code, out } = await demo();
    expect(out, out).toContain('demo finished');
    expect(code).toBe(0);
    expect(out).toMatch(/━━ 1\/\d+ Render the task definitions/);
    expect(out).toContain('render core/test/backend');
    expect(out).toContain('AWS API calls made by the bundles');
    expect(out).not.toContain('skipped: dist/');
  });

  // Every scenario any step offers: each must show its failure and still exit 0.
  it.each(scenarioNames())('plays scenario %s and still exits 0 after showing the failure', { timeout: 300_000 }, async (name) => {
    const { code, out } = await demo('--scenario', name);
    expect(out, out).toContain(`scenario ${name} played`);
    expect(out).toMatch(/exited [1-9]\d* — the failure this scenario shows/);
    expect(code).toBe(0);
  });

  it('offers at least one failure scenario', () => {
    expect(scenarioNames()).toContain('image-not-pushed');
  });

  it('lists the known scenarios and exits 1 on an unknown one', async () => {
    const { code, out } = await demo('--scenario', 'no-such-thing');
    expect(code).toBe(1);
    expect(out).toContain("Unknown scenario 'no-such-thing'.");
    expect(out).toMatch(/image-not-pushed\s+render with verify: true/);
  });
});

describe('readable bundle logs', () => {
  it.each([
    ['::group::Verify against AWS', '▸ Verify against AWS'],
    ['::endgroup::', undefined],
    ['::debug::internal', undefined],
    ['::add-mask::s3cr3t', undefined],
    [
      '::error file=infra/env/features/core.json,line=12::unknown key%0Afix: remove it',
      '✖ error (infra/env/features/core.json:12): unknown key\nfix: remove it',
    ],
    ['::warning::slow rollout', '⚠ warning: slow rollout'],
    ['plain line', 'plain line'],
  ])('%s', (line, expected) => {
    expect(readableLine(line)).toBe(expected);
  });

  it('keeps small JSON values on one line', () => {
    expect(compactJson({ a: [1, 2], b: { c: 'd' } })).toBe('{"a":[1,2],"b":{"c":"d"}}');
    expect(compactJson({ a: 'x'.repeat(60), b: 'y'.repeat(60) }, '', 40)).toBe(
      `{\n  "a": "${'x'.repeat(60)}",\n  "b": "${'y'.repeat(60)}"\n}`,
    );
  });
});
