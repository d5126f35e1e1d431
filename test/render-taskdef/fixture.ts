import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientFactory } from '../../lib/aws.js';
import { ActionError, formatProblem } from '../../lib/errors.js';
import { memoryReporter, type MemoryReporter } from '../../lib/report.js';
import { getInputs } from '../../actions/render-taskdef/inputs.js';
import { run, type RunResult } from '../../actions/render-taskdef/run.js';
import { workspace } from '../../actions/render-taskdef/workspace.js';
import { repoRoot } from '../helpers/run-bundle.js';

export const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123';
const EXAMPLE = join(repoRoot, 'examples/delivery-app');

/** A fresh workspace holding a copy of examples/delivery-app/infra as `infra/`. */
export function exampleWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'render-ws-'));
  cpSync(join(EXAMPLE, 'infra'), join(dir, 'infra'), { recursive: true });
  return dir;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures edit arbitrary JSON shapes
export function editJson(root: string, file: string, edit: (doc: any) => void): void {
  const path = join(root, file);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
}

export const baseInputs: Record<string, string> = {
  template: 'infra/taskdef/backend.json',
  'features-dir': 'infra/env/features',
  feature: 'core',
  environment: 'test',
  image: IMAGE,
};

export interface Rendered {
  result?: RunResult;
  error?: ActionError;
  /** Every problem, one per line, formatted as the annotations show them. */
  text: string;
  reporter: MemoryReporter;
  runnerTemp: string;
}

/** Runs the action's logic in-process (no bundle) against a workspace; clients must not be needed unless given. */
export async function render(
  root: string,
  inputs: Record<string, string>,
  opts: { env?: NodeJS.ProcessEnv; clients?: (region: string) => ClientFactory } = {},
): Promise<Rendered> {
  const reporter = memoryReporter();
  const runnerTemp = mkdtempSync(join(tmpdir(), 'render-tmp-'));
  const env = { AWS_REGION: 'eu-west-1', RUNNER_TEMP: runnerTemp, ...opts.env };
  const clients =
    opts.clients ??
    (() => {
      throw new Error('no AWS client may be created without verify');
    });
  try {
    const parsed = getInputs((name) => inputs[name] ?? '');
    const result = await run(parsed, { reporter, ws: workspace(root), env, clients });
    return { result, text: '', reporter, runnerTemp };
  } catch (err) {
    if (!(err instanceof ActionError)) throw err;
    const all = err.problems.length ? err.problems : [err];
    return { error: err, text: all.map((p) => formatProblem(p)).join('\n'), reporter, runnerTemp };
  }
}
