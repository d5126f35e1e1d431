/**
 * A small stand-in for the GitHub runner, enough to run the suite's reusable
 * workflows end to end in tests: GitHub's own expression engine
 * (@actions/expressions, the parser's dependency) evaluates `if:`, `with:`,
 * `env:` and outputs; our actions run as their committed bundles; each job gets a
 * fresh workspace like a fresh runner. Third-party actions (checkout, credentials,
 * buildx, artifacts) are replaced by handlers the test supplies, which also assert
 * how they were called.
 *
 * GitHub semantics modelled (each checked against the docs in mini-runner.test.ts):
 * status functions success()/failure()/cancelled()/always() and the implicit
 * `success() &&` of an `if:` without one; truthiness of `if:` values; later steps
 * and dependent jobs after a failure; the default shell `bash -e {0}` and
 * `shell: bash` = `bash --noprofile --norc -eo pipefail {0}`; workflow < job < step
 * `env:`; `needs.<job>.result` from what really happened.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';
import { parse } from 'yaml';
import { parseCommandFile, runBundle } from '../helpers/run-bundle.js';
import type { Job, Step, WorkflowFile } from './workflow-files.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type Contexts = Record<string, Json>;

const CONTEXT_NAMES = ['github', 'inputs', 'vars', 'secrets', 'job', 'needs', 'steps', 'env', 'runner', 'jobs', 'matrix', 'strategy'];

/** What the status functions see: a failed step (or ancestor job), and whether the run was cancelled. */
export interface Status {
  failed: boolean;
  cancelled?: boolean;
  /** A job this one depends on was skipped: success() is false, failure() is not true. */
  skippedAncestor?: boolean;
}

const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always'];

/**
 * https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions
 * success(): no previous step (or ancestor job) failed or was cancelled; always(): true, even
 * when cancelled; cancelled(): the run was cancelled; failure(): a previous step or ancestor job failed.
 */
function statusFunctions(status: Status): Map<string, { name: string; minArgs: number; maxArgs: number; call: () => data.ExpressionData }> {
  const values: Record<string, boolean> = {
    success: !status.failed && !status.cancelled && !status.skippedAncestor,
    failure: status.failed,
    cancelled: Boolean(status.cancelled),
    always: true,
  };
  return new Map(STATUS_FUNCTIONS.map((name) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(values[name]!) }]));
}

function evaluate(expr: string, ctx: Contexts, status: Status = { failed: false }): data.ExpressionData {
  const lexed = new Lexer(expr).lex();
  const functions = statusFunctions(status);
  const tree = new Parser(lexed.tokens, CONTEXT_NAMES, [...functions.values()]).parse();
  return new Evaluator(tree, JSON.parse(JSON.stringify(ctx), data.reviver) as data.Dictionary, functions).evaluate();
}

/** A `with:`/`env:` value as the runner passes it: every `${{ }}` replaced by its string value. */
export function interpolate(value: unknown, ctx: Contexts, status?: Status): string {
  if (typeof value !== 'string') return String(value);
  return value.replace(/\$\{\{(.*?)\}\}/gs, (_m, expr: string) => evaluate(expr, ctx, status).coerceString());
}

/**
 * `if:` as GitHub evaluates it
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsif):
 * `${{ }}` is optional; without a status function the condition is `success() && (<if>)`
 * (no `if:` = `success()`); the value is then coerced with the expression language's
 * truthiness (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#operators:
 * false, 0, -0, '', null and NaN are falsy; any other string — 'false' too — arrays and objects are truthy).
 */
export function condition(expr: string | boolean | number | null | undefined, ctx: Contexts, status: Status = { failed: false }): boolean {
  const raw = expr === undefined ? '' : typeof expr === 'string' ? expr : JSON.stringify(expr);
  const inner = (/^\s*\$\{\{(.*)\}\}\s*$/s.exec(raw)?.[1] ?? raw).trim();
  if (inner === '') return evaluate('success()', ctx, status).coerceString() === 'true';
  const hasStatus = new RegExp(`\\b(${STATUS_FUNCTIONS.join('|')})\\s*\\(`, 'i').test(inner);
  return truthy(evaluate(hasStatus ? inner : `success() && (${inner})`, ctx, status));
}

/**
 * The command a `run:` step runs with
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell):
 * unspecified = `bash -e {0}` (no pipefail), `bash` = `bash --noprofile --norc -eo pipefail {0}`,
 * `sh` = `sh -e {0}`, anything else is a template with `{0}` for the script file.
 */
function shellCommand(shell: string | undefined, script: string): [string, string[]] {
  if (shell === undefined) return ['bash', ['-e', script]];
  if (shell === 'bash') return ['bash', ['--noprofile', '--norc', '-eo', 'pipefail', script]];
  if (shell === 'sh') return ['sh', ['-e', script]];
  const words = shell.split(/\s+/).filter(Boolean);
  if (!words.includes('{0}')) words.push('{0}');
  return [words[0]!, words.slice(1).map((w) => (w === '{0}' ? script : w))];
}

function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

interface StepCall {
  job: string;
  step: Step;
  /** `with:` after interpolation. */
  with: Record<string, string>;
  workspace: string;
}

/** Replacements for third-party actions: return the step's outputs (and env to export). */
export type Handler = (call: StepCall) => { outputs?: Record<string, string>; env?: Record<string, string> } | void;

export interface RunOptions {
  contexts: Contexts;
  /** Environment every step gets (e.g. the emulator's endpoints). */
  env: Record<string, string>;
  /** Keyed by the `uses:` value without `@ref` (e.g. `actions/checkout`). */
  handlers: Record<string, Handler>;
  /** Variables of each GitHub environment: a job that declares `environment:` sees these as `vars`. */
  environments?: Record<string, Record<string, string>>;
  log?: string[];
  /** The workflow's top-level `env:` and `defaults:` (jobs and steps override them). */
  workflowEnv?: Record<string, unknown>;
  defaults?: { run?: { shell?: string } };
  /** Ancestor jobs failed: the job's status functions see a failure. */
  status?: Status;
}

export interface JobResult {
  ran: boolean;
  /** `needs.<job>.result` as GitHub reports it. */
  result?: 'success' | 'failure' | 'cancelled' | 'skipped';
  outputs: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string> }>;
  /** Names (or uses/run) of the steps that ran, in order. */
  ran_steps: string[];
  /** The step that failed (its name); later steps were skipped, outputs still evaluated, as on GitHub. */
  failed?: string;
  /** Its error (log) when a step failed. */
  error?: string;
  /** The evaluated `environment:` and `concurrency.group` of the job. */
  environment?: string;
  concurrency?: string;
}

function actionDefaults(dir: string): Record<string, string> {
  const yml = parse(readFileSync(join(dir, 'action.yml'), 'utf8')) as { inputs?: Record<string, { default?: unknown }> };
  return Object.fromEntries(
    Object.entries(yml.inputs ?? {})
      .filter(([, v]) => v.default !== undefined)
      .map(([k, v]) => [k, String(v.default)]),
  );
}

type RunnableJob = Job & { if?: string; env?: Record<string, unknown>; defaults?: { run?: { shell?: string } } };

async function runJob(name: string, job: RunnableJob, opts: RunOptions): Promise<JobResult> {
  const result: JobResult = { ran: false, result: 'skipped', outputs: {}, steps: {}, ran_steps: [] };
  const jobStatus = opts.status ?? { failed: false };
  if (!condition(job.if, opts.contexts, jobStatus)) return result;
  result.ran = true;
  if (job.environment) {
    result.environment = interpolate(typeof job.environment === 'string' ? job.environment : job.environment.name, opts.contexts);
    if (!opts.environments?.[result.environment])
      throw new Error(`jobs.${name} deploys to environment '${result.environment}', which the test did not define`);
    // Environment variables win over the repository's (https://docs.github.com/en/actions/reference/workflows-and-actions/variables#configuration-variable-precedence).
    opts = {
      ...opts,
      contexts: {
        ...opts.contexts,
        vars: { ...((opts.contexts.vars ?? {}) as Record<string, string>), ...opts.environments[result.environment]! },
      },
    };
  }
  if (job.concurrency)
    result.concurrency = interpolate(typeof job.concurrency === 'string' ? job.concurrency : job.concurrency.group, opts.contexts);
  const workspace = mkdtempSync(join(tmpdir(), `job-${name}-`));
  // The runner's own variables, from the github context (actions key idempotency on the run id).
  const github = (opts.contexts.github ?? {}) as Record<string, string>;
  const env: Record<string, string> = {
    ...Object.fromEntries(
      (['run_id', 'run_attempt', 'sha', 'repository', 'ref_name', 'ref_type'] as const)
        .filter((k) => github[k] !== undefined)
        .map((k) => [`GITHUB_${k.toUpperCase()}`, String(github[k])]),
    ),
    ...opts.env,
  };
  // Workflow env, then job env over it (each evaluated with what it can see); step env goes over both.
  for (const level of [opts.workflowEnv ?? {}, job.env ?? {}]) {
    for (const [k, v] of Object.entries(level)) env[k] = interpolate(v, { ...opts.contexts, env });
  }
  const shell = job.defaults?.run?.shell ?? opts.defaults?.run?.shell;
  for (const [index, step] of (job.steps ?? []).entries()) {
    const ctx: Contexts = { ...opts.contexts, steps: result.steps, env };
    // Inside a job that runs, only its own steps decide success() (an always() job after a failed one still runs its steps).
    const status: Status = { failed: result.failed !== undefined, cancelled: jobStatus.cancelled };
    if (!condition(step.if, ctx, status)) continue;
    const label = step.name ?? step.uses ?? `step ${index}`;
    result.ran_steps.push(label);
    try {
      await runStep(name, { shell, ...step }, label, ctx, workspace, env, result, opts, status);
    } catch (err) {
      // Later steps run only when their if: says so (always(), failure(), …); the first failure is the job's.
      if (result.failed === undefined) {
        result.failed = label;
        result.error = (err as Error).message;
      }
    }
  }
  result.result = result.failed !== undefined ? 'failure' : jobStatus.cancelled ? 'cancelled' : 'success';
  const ctx: Contexts = { ...opts.contexts, steps: result.steps, env };
  result.outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, interpolate(v, ctx)]));
  return result;
}

async function runStep(
  name: string,
  step: Step & { shell?: string },
  label: string,
  ctx: Contexts,
  workspace: string,
  env: Record<string, string>,
  result: JobResult,
  opts: RunOptions,
  status: Status,
): Promise<void> {
  const withs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, ctx, status)]));
  const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(v, ctx, status)]));
  let outputs: Record<string, string> = {};
  if (step.run !== undefined) {
    const files = mkdtempSync(join(tmpdir(), 'step-'));
    const [out, genv, summary] = ['output', 'env', 'summary'].map((f) => join(files, f)) as [string, string, string];
    for (const f of [out, genv, summary]) writeFileSync(f, '');
    const wd = (step as { 'working-directory'?: string })['working-directory'];
    // The runner writes the script to a file and runs the shell on it.
    const script = join(files, 'script.sh');
    writeFileSync(script, step.run);
    const [command, args] = shellCommand(step.shell, script);
    // Not spawnSync: a step may call the AWS CLI against the emulator running in this process.
    const res = await runProcess(command, args, {
      cwd: wd ? join(workspace, interpolate(wd, ctx)) : workspace,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...env,
        ...stepEnv,
        GITHUB_OUTPUT: out,
        GITHUB_ENV: genv,
        GITHUB_STEP_SUMMARY: summary,
        GITHUB_WORKSPACE: workspace,
        RUNNER_TEMP: files,
      },
    });
    opts.log?.push(`[${name}] ${label}\n${res.stdout}${res.stderr}`);
    if (res.status !== 0) throw new Error(`jobs.${name} step '${label}' failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
    outputs = parseCommandFile(readFileSync(out, 'utf8'));
    Object.assign(env, parseCommandFile(readFileSync(genv, 'utf8')));
  } else if (step.uses?.startsWith('./')) {
    // A local action resolves in this job's workspace: it must have been checked out.
    const dir = join(workspace, step.uses);
    if (!existsSync(join(dir, 'action.yml')))
      throw new Error(`jobs.${name} step '${label}': ${step.uses} has no action.yml in the job's workspace`);
    const inputs = { ...actionDefaults(dir), ...withs };
    const run = await runBundle(basename(dir), { workspace, inputs, env: { ...env, ...stepEnv }, timeoutMs: 120_000 });
    opts.log?.push(`[${name}] ${label}\n${run.stdout}`);
    outputs = run.outputs;
    // A failed action still sets the outputs it wrote (e.g. rolled-back).
    if (step.id) result.steps[step.id] = { outputs };
    if (run.code !== 0) throw new Error(`jobs.${name} step '${label}' failed:\n${run.stdout}\n${run.stderr}`);
  } else if (step.uses) {
    const handler = opts.handlers[step.uses.split('@')[0]!];
    if (!handler) throw new Error(`jobs.${name} step '${label}': no handler for ${step.uses}`);
    const r = handler({ job: name, step, with: withs, workspace }) ?? {};
    outputs = r.outputs ?? {};
    Object.assign(env, r.env ?? {});
  }
  if (step.id) result.steps[step.id] = { outputs };
}

export interface WorkflowRun {
  jobs: Record<string, JobResult>;
  outputs: Record<string, string>;
}

type CallInputs = Record<string, { type?: string; default?: Json; required?: boolean }>;

/**
 * Runs a reusable workflow as a caller's `uses:` job would: inputs are `with:` plus
 * defaults (typed), jobs run in `needs` order, a job whose needs did not all run is
 * skipped (as on GitHub, without `always()`).
 */
export async function runReusable(
  wf: WorkflowFile,
  withs: Record<string, Json>,
  opts: Omit<RunOptions, 'contexts'> & { contexts: Contexts },
): Promise<WorkflowRun> {
  const call = (wf.doc.on as { workflow_call: { inputs: CallInputs; outputs?: Record<string, { value: string }> } }).workflow_call;
  const inputs: Record<string, Json> = {};
  for (const [k, spec] of Object.entries(call.inputs)) {
    if (!(k in withs) && spec.required) throw new Error(`input ${k} is required`);
    inputs[k] = k in withs ? withs[k]! : (spec.default ?? (spec.type === 'boolean' ? false : spec.type === 'number' ? 0 : ''));
  }
  for (const k of Object.keys(withs)) if (!(k in call.inputs)) throw new Error(`${k} is not an input of ${wf.path}`);
  const jobs = await runJobs(wf.doc, { ...opts, contexts: { ...opts.contexts, inputs } });
  const jobsCtx = Object.fromEntries(Object.entries(jobs).map(([k, j]) => [k, { outputs: j.outputs, result: j.result ?? 'skipped' }]));
  const outputs = Object.fromEntries(
    Object.entries(call.outputs ?? {}).map(([k, o]) => [k, interpolate(o.value, { ...opts.contexts, jobs: jobsCtx })]),
  );
  return { jobs, outputs };
}

/**
 * Runs a workflow's jobs in `needs` order, as GitHub does
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds):
 * `needs.<job>.result` is what that job really did (success, failure, cancelled, skipped); a
 * job whose `if:` has no status function is skipped unless every job it depends on,
 * directly or through others, succeeded; `failure()` sees a failed ancestor.
 */
export async function runJobs(
  doc: Pick<WorkflowFile['doc'], 'jobs'> & { env?: Record<string, unknown>; defaults?: RunOptions['defaults'] },
  opts: RunOptions,
): Promise<Record<string, JobResult>> {
  const jobs: Record<string, JobResult> = {};
  const ancestors = (name: string): string[] => {
    const direct = [doc.jobs[name]?.needs ?? []].flat();
    return [...new Set([...direct, ...direct.flatMap(ancestors)])];
  };
  const pending = Object.entries(doc.jobs);
  while (pending.length > 0) {
    const i = pending.findIndex(([, j]) => [j.needs ?? []].flat().every((n) => n in jobs));
    if (i < 0) throw new Error('needs cycle');
    const [name, job] = pending.splice(i, 1)[0]!;
    const needs = [job.needs ?? []].flat();
    const needsCtx = Object.fromEntries(needs.map((n) => [n, { outputs: jobs[n]!.outputs, result: jobs[n]!.result ?? 'skipped' }]));
    const results = ancestors(name).map((n) => jobs[n]!.result ?? 'skipped');
    // "If a job fails or is skipped, all jobs that need it are skipped unless the jobs use a
    // conditional expression that causes the job to continue": success() is false then.
    const status: Status = {
      failed: results.includes('failure'),
      cancelled: opts.status?.cancelled || results.includes('cancelled'),
      skippedAncestor: results.includes('skipped'),
    };
    jobs[name] = await runJob(name, job, {
      ...opts,
      workflowEnv: doc.env,
      defaults: doc.defaults,
      status,
      contexts: { ...opts.contexts, needs: needsCtx },
    });
  }
  return jobs;
}
