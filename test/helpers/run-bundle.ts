import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { noteBundleRun } from '../iam/recording.js';
import { assertNoFixtureSecrets, registerFixtureSecret, registerSecretsInText, registerTerraformOutputs } from './fixture-secrets.js';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface BundleRun {
  code: number | null;
  /** Outputs parsed from the GITHUB_OUTPUT file, as the runner reads them. */
  outputs: Record<string, string>;
  /** Variables exported through GITHUB_ENV. */
  exported: Record<string, string>;
  summary: string;
  stdout: string;
  stderr: string;
  /** `::error ...::message` lines (workflow commands) from stdout. */
  errors: string[];
  runnerTemp: string;
  workspace: string;
}

export interface RunOptions {
  inputs?: Record<string, string | number | boolean>;
  env?: Record<string, string | undefined>;
  /** GITHUB_WORKSPACE and cwd; default: a fresh temp dir. */
  workspace?: string;
  timeoutMs?: number;
  /** Called with the child once spawned (e.g. to send SIGTERM in cancel tests). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  /** The checkout whose `dist/` bundle and `action.yml` defaults are run (a bench's baseline commit); default: this one. */
  root?: string;
}

/** Parses the `name<<delim\nvalue\ndelim` and `name=value` formats the runner accepts. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
      out[name!] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/**
 * Registers the secrets a run is given (fixture-secrets.ts): the sensitive outputs of the
 * Terraform file or JSON, passwords in URLs and access keys in any input, the credentials in env.
 */
function registerGivenSecrets(inputs: Record<string, string>, env: Record<string, string>, workspace: string): void {
  for (const [name, value] of Object.entries(inputs)) registerSecretsInText(value, `input ${name}`);
  for (const name of ['terraform-outputs-file', 'terraform-outputs']) {
    const value = inputs[name]?.trim();
    if (!value) continue;
    if (value.startsWith('{')) registerTerraformOutputs(value, `input ${name}`);
    else if (existsSync(resolve(workspace, value))) registerTerraformOutputs(readFileSync(resolve(workspace, value), 'utf8'), value);
  }
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) if (env[name]) registerFixtureSecret(env[name], `env ${name}`);
}

/**
 * Runs `dist/<action>/index.js` with node exactly the way the GitHub runner
 * does: inputs as `INPUT_<NAME>` (upper-cased, dashes kept), command files for
 * outputs/env/summary, RUNNER_TEMP and GITHUB_WORKSPACE set. Rejects when the run
 * showed a test fixture's secret anywhere (fixture-secrets.ts).
 */
export async function runBundle(action: string, opts: RunOptions = {}): Promise<BundleRun> {
  const base = mkdtempSync(join(tmpdir(), `bundle-${action}-`));
  const workspace = opts.workspace ?? join(base, 'workspace');
  const runnerTemp = join(base, 'runner-temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(runnerTemp, { recursive: true });
  const files = { output: join(base, 'output'), env: join(base, 'env'), summary: join(base, 'summary'), state: join(base, 'state') };
  for (const f of Object.values(files)) writeFileSync(f, '');

  const env: Record<string, string> = {};
  // A clean environment: only what a runner would give, plus PATH/HOME for node itself.
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k]!;
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_ENV: files.env,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: runnerTemp,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/delivery-app',
    GITHUB_RUN_ID: '1234567890',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_SERVER_URL: 'https://github.com',
  });
  // The runner sets every input that has a default in action.yml, given or not: an action
  // must not mistake a default for the user's choice.
  const declared =
    (
      parseYaml(readFileSync(join(opts.root ?? repoRoot, 'actions', action, 'action.yml'), 'utf8')) as {
        inputs?: Record<string, { default?: unknown }>;
      }
    ).inputs ?? {};
  for (const [name, spec] of Object.entries(declared)) {
    if (spec?.default !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(spec.default);
  }
  for (const [name, value] of Object.entries(opts.inputs ?? {})) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value);
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  registerGivenSecrets(Object.fromEntries(Object.entries(opts.inputs ?? {}).map(([k, v]) => [k, String(v)])), env, workspace);

  // BUNDLE_NODE: the node binary the bundles run on; under vitest, the Node release action.yml
  // declares (test/helpers/bundle-node.ts), while vitest itself stays on the machine's node.
  const node = process.env.BUNDLE_NODE ? resolve(repoRoot, process.env.BUNDLE_NODE) : process.execPath;
  const child = spawn(node, [join(opts.root ?? repoRoot, 'dist', action, 'index.js')], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${action} bundle did not exit within ${opts.timeoutMs ?? 60000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolvePromise(c);
    });
  });
  // 'exit' can fire before the pipes drain; wait for them.
  await new Promise((r) => setImmediate(r));
  noteBundleRun(repoRoot, action);
  const written = {
    GITHUB_OUTPUT: readFileSync(files.output, 'utf8'),
    GITHUB_ENV: readFileSync(files.env, 'utf8'),
    GITHUB_STATE: readFileSync(files.state, 'utf8'),
    GITHUB_STEP_SUMMARY: readFileSync(files.summary, 'utf8'),
  };
  assertNoFixtureSecrets(action, { stdout, stderr, ...written });
  return {
    code,
    outputs: parseCommandFile(written.GITHUB_OUTPUT),
    exported: parseCommandFile(written.GITHUB_ENV),
    summary: written.GITHUB_STEP_SUMMARY,
    stdout,
    stderr,
    errors: stdout.split('\n').filter((l) => l.startsWith('::error')),
    runnerTemp,
    workspace,
  };
}
