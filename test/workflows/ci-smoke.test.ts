/**
 * Runs the smoke jobs of .github/workflows/ci.yml here, the way the runner would:
 * each `uses: ./actions/<name>` step runs the committed bundle with its `with:`
 * (expressions for earlier step outputs and env resolved), each `run:` step runs
 * with bash -eo pipefail and its env, against the same seeded emulator the CI job
 * starts. So a smoke job that would fail on GitHub fails here first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { actionNames } from '../helpers/actions.js';
import { seed } from './smoke-emulator.js';
import { loadWorkflow, type Step } from './workflow-files.js';

const ci = loadWorkflow(join(repoRoot, '.github', 'workflows', 'ci.yml'));
const smokeJobs = Object.entries(ci.doc.jobs).filter(([name]) => name.startsWith('smoke-'));

/** Actions a smoke job runs; a job whose bundle is not built yet is skipped, by name. */
const actionsOf = (steps: Step[]) => steps.filter((s) => s.uses?.startsWith('./actions/')).map((s) => s.uses!.slice('./actions/'.length));
const built = (name: string) => existsSync(join(repoRoot, 'dist', name, 'index.js'));

function evaluate(value: unknown, outputs: Record<string, Record<string, string>>, env: Record<string, string>): string {
  return String(value).replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
    const step = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (step) return outputs[step[1]!]?.[step[2]!] ?? '';
    const e = /^env\.(\w+)$/.exec(expr);
    if (e) return env[e[1]!] ?? '';
    throw new Error(`ci-smoke cannot evaluate \${{ ${expr} }}; extend evaluate() or simplify the smoke job`);
  });
}

let emu: Emulator;
let emuEnv: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator();
  emuEnv = await seed(emu);
});
afterAll(async () => {
  await emu?.stop();
});

describe('ci.yml smoke jobs, run locally', () => {
  it('has a smoke job for every action', () => {
    const covered = new Set(smokeJobs.flatMap(([, job]) => actionsOf(job.steps ?? [])));
    for (const name of actionNames()) expect([...covered]).toContain(name);
    expect(smokeJobs.map(([name]) => name).sort()).toEqual(actionNames().map((name) => `smoke-${name}`));
  });

  describe.each(smokeJobs)('%s', (name, job) => {
    const steps = job.steps ?? [];
    const missing = [...new Set(actionsOf(steps))].filter((a) => !built(a));
    const title = missing.length
      ? `SKIPPED: dist/${missing.join(', dist/')} not built yet`
      : 'passes with the committed bundles against the emulator';
    it.skipIf(missing.length > 0)(title, async () => {
      const workspace = mkdtempSync(join(tmpdir(), `ci-${name}-`));
      symlinkSync(join(repoRoot, 'examples'), join(workspace, 'examples'));
      const usesEmulator = steps.some((s) => s.run?.includes('start-emulator.sh'));
      const env: Record<string, string> = usesEmulator ? { ...emuEnv } : {};
      const outputs: Record<string, Record<string, string>> = {};
      for (const [index, step] of steps.entries()) {
        const label = `${name} step ${index} ${step.name ?? step.uses ?? step.run}`;
        if (step.uses?.startsWith('./actions/')) {
          const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, evaluate(v, outputs, env)]));
          const run = await runBundle(step.uses.slice('./actions/'.length), { workspace, inputs, env, timeoutMs: 120_000 });
          expect(run.errors, `${label}\n${run.stdout}\n${run.stderr}`).toEqual([]);
          expect(run.code, label).toBe(0);
          if (step.id) outputs[step.id] = run.outputs;
        } else if (step.run && !/^npm ci|start-emulator\.sh/.test(step.run.replace(/^bash /, ''))) {
          const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(v, outputs, env)]));
          const res = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
            cwd: workspace,
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, ...stepEnv },
            encoding: 'utf8',
          });
          expect(res.status, `${label}\n${res.stdout}\n${res.stderr}`).toBe(0);
        }
        // actions/checkout, actions/setup-node, npm ci and the emulator start are
        // the runner's and the job's setup: here the workspace and emulator exist.
      }
    });
  });
});
