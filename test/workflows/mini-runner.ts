/**
 * A small stand-in for the GitHub runner, enough to run the suite's reusable
 * workflows end to end in tests: GitHub's own expression engine
 * (@actions/expressions, the parser's dependency) evaluates `if:`, `with:`,
 * `env:` and outputs; `run:` steps run in bash -eo pipefail; our actions run as
 * their committed bundles; each job gets a fresh workspace like a fresh runner.
 * Third-party actions (checkout, credentials, buildx, artifacts) are replaced by
 * handlers the test supplies, which also assert how they were called.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { parse } from 'yaml';
import { parseCommandFile, runBundle } from '../helpers/run-bundle.js';
import type { Job, Step, WorkflowFile } from './workflow-files.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type Contexts = Record<string, Json>;

const CONTEXT_NAMES = ['github', 'inputs', 'vars', 'secrets', 'job', 'needs', 'steps', 'env', 'runner', 'jobs', 'matrix', 'strategy'];

export function evaluate(expr: string, ctx: Contexts): data.ExpressionData {
  const lexed = new Lexer(expr).lex();
  const tree = new Parser(lexed.tokens, CONTEXT_NAMES, []).parse();
  return new Evaluator(tree, JSON.parse(JSON.stringify(ctx), data.reviver) as data.Dictionary).evaluate();
}

/** A `with:`/`env:` value as the runner passes it: every `${{ }}` replaced by its string value. */
export function interpolate(value: unknown, ctx: Contexts): string {
  if (typeof value !== 'string') return String(value);
  return value.replace(/\$\{\{(.*?)\}\}/gs, (_m, expr: string) => evaluate(expr, ctx).coerceString());
}

/** `if:` (with or without `${{ }}`); no `if:` means run. Status functions are not supported. */
export function condition(expr: string | boolean | undefined, ctx: Contexts): boolean {
  if (expr === undefined) return true;
  if (typeof expr === 'boolean') return expr;
  const inner = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(expr)?.[1] ?? expr;
  return evaluate(inner, ctx).coerceString() === 'true';
}

export interface StepCall {
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
}

export interface JobResult {
  ran: boolean;
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
  return Object.fromEntries(Object.entries(yml.inputs ?? {}).filter(([, v]) => v.default !== undefined).map(([k, v]) => [k, String(v.default)]));
}

export async function runJob(name: string, job: Job & { if?: string }, opts: RunOptions): Promise<JobResult> {
  const result: JobResult = { ran: false, outputs: {}, steps: {}, ran_steps: [] };
  if (!condition(job.if, opts.contexts)) return result;
  result.ran = true;
  if (job.environment) {
    result.environment = interpolate(typeof job.environment === 'string' ? job.environment : job.environment.name, opts.contexts);
    if (!opts.environments?.[result.environment]) throw new Error(`jobs.${name} deploys to environment '${result.environment}', which the test did not define`);
    opts = { ...opts, contexts: { ...opts.contexts, vars: opts.environments[result.environment]! } };
  }
  if (job.concurrency) result.concurrency = interpolate(typeof job.concurrency === 'string' ? job.concurrency : job.concurrency.group, opts.contexts);
  const workspace = mkdtempSync(join(tmpdir(), `job-${name}-`));
  // The runner's own variables, from the github context (actions key idempotency on the run id).
  const github = (opts.contexts.github ?? {}) as Record<string, string>;
  const env: Record<string, string> = {
    ...Object.fromEntries(
      (['run_id', 'run_attempt', 'sha', 'repository', 'ref_name', 'ref_type'] as const).filter((k) => github[k] !== undefined).map((k) => [`GITHUB_${k.toUpperCase()}`, String(github[k])]),
    ),
    ...opts.env,
  };
  for (const [index, step] of (job.steps ?? []).entries()) {
    const ctx: Contexts = { ...opts.contexts, steps: result.steps, env };
    if (!condition(step.if, ctx)) continue;
    const label = step.name ?? step.uses ?? `step ${index}`;
    result.ran_steps.push(label);
    try {
      await runStep(name, step, label, ctx, workspace, env, result, opts);
    } catch (err) {
      // Without status functions in if:, every later step is skipped (success() is implied).
      result.failed = label;
      result.error = (err as Error).message;
      break;
    }
  }
  const ctx: Contexts = { ...opts.contexts, steps: result.steps, env };
  result.outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, interpolate(v, ctx)]));
  return result;
}

async function runStep(
  name: string,
  step: Step,
  label: string,
  ctx: Contexts,
  workspace: string,
  env: Record<string, string>,
  result: JobResult,
  opts: RunOptions,
): Promise<void> {
  const withs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, ctx)]));
  const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(v, ctx)]));
  let outputs: Record<string, string> = {};
  if (step.run !== undefined) {
    const files = mkdtempSync(join(tmpdir(), 'step-'));
    const [out, genv, summary] = ['output', 'env', 'summary'].map((f) => join(files, f)) as [string, string, string];
    for (const f of [out, genv, summary]) writeFileSync(f, '');
    const wd = (step as { 'working-directory'?: string })['working-directory'];
    const res = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
      cwd: wd ? join(workspace, interpolate(wd, ctx)) : workspace,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, ...stepEnv, GITHUB_OUTPUT: out, GITHUB_ENV: genv, GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: workspace, RUNNER_TEMP: files },
      encoding: 'utf8',
    });
    opts.log?.push(`[${name}] ${label}\n${res.stdout}${res.stderr}`);
    if (res.status !== 0) throw new Error(`jobs.${name} step '${label}' failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
    outputs = parseCommandFile(readFileSync(out, 'utf8'));
    Object.assign(env, parseCommandFile(readFileSync(genv, 'utf8')));
  } else if (step.uses?.startsWith('./')) {
    // A local action resolves in this job's workspace: it must have been checked out.
    const dir = join(workspace, step.uses);
    if (!existsSync(join(dir, 'action.yml'))) throw new Error(`jobs.${name} step '${label}': ${step.uses} has no action.yml in the job's workspace`);
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
export async function runReusable(wf: WorkflowFile, withs: Record<string, Json>, opts: Omit<RunOptions, 'contexts'> & { contexts: Contexts }): Promise<WorkflowRun> {
  const call = (wf.doc.on as { workflow_call: { inputs: CallInputs; outputs?: Record<string, { value: string }> } }).workflow_call;
  const inputs: Record<string, Json> = {};
  for (const [k, spec] of Object.entries(call.inputs)) {
    if (!(k in withs) && spec.required) throw new Error(`input ${k} is required`);
    inputs[k] = k in withs ? withs[k]! : (spec.default ?? (spec.type === 'boolean' ? false : spec.type === 'number' ? 0 : ''));
  }
  for (const k of Object.keys(withs)) if (!(k in call.inputs)) throw new Error(`${k} is not an input of ${wf.path}`);
  const jobs: Record<string, JobResult> = {};
  const pending = Object.entries(wf.doc.jobs);
  while (pending.length > 0) {
    const i = pending.findIndex(([, j]) => [j.needs ?? []].flat().every((n) => n in jobs));
    if (i < 0) throw new Error('needs cycle');
    const [name, job] = pending.splice(i, 1)[0]!;
    const needs = [job.needs ?? []].flat();
    if (needs.some((n) => !jobs[n]!.ran || jobs[n]!.failed)) {
      jobs[name] = { ran: false, outputs: {}, steps: {}, ran_steps: [] };
      continue;
    }
    const needsCtx = Object.fromEntries(needs.map((n) => [n, { outputs: jobs[n]!.outputs, result: 'success' }]));
    jobs[name] = await runJob(name, job, { ...opts, contexts: { ...opts.contexts, inputs, needs: needsCtx } });
  }
  const jobsCtx = Object.fromEntries(
    Object.entries(jobs).map(([k, j]) => [k, { outputs: j.outputs, result: !j.ran ? 'skipped' : j.failed ? 'failure' : 'success' }]),
  );
  const outputs = Object.fromEntries(Object.entries(call.outputs ?? {}).map(([k, o]) => [k, interpolate(o.value, { ...opts.contexts, jobs: jobsCtx })]));
  return { jobs, outputs };
}
