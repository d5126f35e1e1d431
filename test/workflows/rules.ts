/**
 * The suite's own workflow rules, as pure functions that return the problems they
 * find (file:job:step and what to do). rules.test.ts runs them over every shipped
 * workflow (expecting none) and over the bad fixtures (expecting each one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/run-bundle.js';
import { isReusable, steps, type Job, type WorkflowFile } from './workflow-files.js';

/** Where the reusable workflows check the suite out (same commit as the workflow). */
const SUITE_PATH = '.aws-deploy-actions';
const SUITE_REPO = /(^|\/)aws-deploy-actions$/;

const where = (wf: WorkflowFile, job: string, step?: { index: number; step: { id?: string; name?: string } }) =>
  `${wf.path}: jobs.${job}` +
  (step ? `.steps[${step.index}]${step.step.name ? ` (${step.step.name})` : step.step.id ? ` (${step.step.id})` : ''}` : '');

/**
 * No `${{ }}` inside `run:` at all: an expression is pasted into the script before
 * bash sees it, so a branch name, PR title or input becomes code. Values go through
 * `env:` and are read as "$VAR".
 */
export function expressionsInRun(wf: WorkflowFile): string[] {
  return steps(wf)
    .filter(({ step }) => typeof step.run === 'string' && /\$\{\{/.test(step.run))
    .map((s) => {
      const expr = /\$\{\{([^}]*)\}\}/.exec(s.step.run!)?.[1]?.trim() ?? '';
      return `${where(wf, s.job, s)}: run: contains \${{ ${expr} }}; pass it through env: and use "$NAME" in the script.`;
    });
}

export interface UsesRef {
  job: string;
  /** Step index, or -1 for a job-level `uses:` (reusable workflow call). */
  index: number;
  value: string;
  comment: string;
}

/** Every `uses:` with its trailing comment, read from the raw lines (YAML drops comments). */
export function usesRefs(wf: WorkflowFile): UsesRef[] {
  const out: UsesRef[] = [];
  const comments = new Map<string, string[]>();
  for (const line of wf.lines) {
    const m = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)['"]?\s*(?:#\s*(.*))?$/.exec(line);
    if (m) comments.set(m[1]!, [...(comments.get(m[1]!) ?? []), (m[2] ?? '').trim()]);
  }
  const take = (value: string) => comments.get(value)?.shift() ?? '';
  for (const [job, spec] of Object.entries(wf.doc.jobs ?? {})) {
    if (spec.uses) out.push({ job, index: -1, value: spec.uses, comment: take(spec.uses) });
  }
  for (const { job, index, step } of steps(wf)) {
    if (step.uses) out.push({ job, index, value: step.uses, comment: take(step.uses) });
  }
  return out;
}

const isLocal = (uses: string) => uses.startsWith('./') || uses.startsWith('$/');
const isSuite = (uses: string) => SUITE_REPO.test(uses.split('@')[0]!.split('/').slice(0, 2).join('/'));

/**
 * Third-party actions and workflows are pinned to a full 40-hex commit SHA with a
 * `# vX.Y.Z` comment (a tag can be moved; Dependabot updates both together). The
 * suite's own references (`<owner>/aws-deploy-actions/...@v1`) and local paths are
 * exempt: they are versioned with the suite itself.
 */
export function unpinnedUses(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const ref of usesRefs(wf)) {
    if (isLocal(ref.value) || ref.value.startsWith('docker://') || isSuite(ref.value)) continue;
    const at = ref.index < 0 ? `${wf.path}: jobs.${ref.job}` : `${wf.path}: jobs.${ref.job}.steps[${ref.index}]`;
    if (!/@[0-9a-f]{40}$/.test(ref.value)) {
      problems.push(`${at}: uses: ${ref.value} is not pinned to a 40-hex commit SHA; use owner/repo@<sha> # vX.Y.Z.`);
    } else if (!/^v\d+(\.\d+){0,2}\b/.test(ref.comment)) {
      problems.push(`${at}: uses: ${ref.value} has no version comment; add '# vX.Y.Z' after the SHA.`);
    }
  }
  return problems;
}

function permissionMap(p: Job['permissions']): Record<string, string> | undefined {
  if (p === undefined) return undefined;
  if (typeof p === 'string') return { '*': p };
  return p ?? {};
}

/**
 * Explicit least privilege: a top-level `permissions:` that writes nothing, and a
 * `permissions:` on every job (so no job inherits the repository default, which can
 * be read-write). `id-token: write` only on jobs that deploy to an environment (or
 * call a reusable workflow that does), or on a build-only job: one that
 * assumes the build role (`build-role-to-assume` / AWS_BUILD_ROLE_ARN, ECR push only)
 * and runs none of our deploy actions.
 */
export function isBuildOnlyJob(spec: Job): boolean {
  const steps = spec.steps ?? [];
  const roles = steps
    .filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))
    .map((s) => String(s.with?.['role-to-assume'] ?? ''));
  return (
    roles.length > 0 &&
    roles.every((r) => /build-role-to-assume|AWS_BUILD_ROLE_ARN/.test(r) && !/AWS_ROLE_ARN\b|inputs\.role-to-assume/.test(r)) &&
    !steps.some((s) => s.uses?.includes('.aws-deploy-actions/actions/'))
  );
}

export function permissionProblems(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  const top = permissionMap(wf.doc.permissions);
  if (!top) problems.push(`${wf.path}: no top-level permissions:; add 'permissions: { contents: read }' (or {}).`);
  else {
    for (const [scope, level] of Object.entries(top)) {
      if (level !== 'read' && level !== 'none') {
        problems.push(`${wf.path}: top-level permissions give ${scope}: ${level}; grant writes only on the job that needs them.`);
      }
    }
  }
  for (const [job, spec] of Object.entries(wf.doc.jobs ?? {})) {
    const perms = permissionMap(spec.permissions);
    if (!perms) {
      problems.push(`${wf.path}: jobs.${job} has no permissions:; declare what it needs (e.g. contents: read).`);
      continue;
    }
    if (perms['*'] === 'write-all') problems.push(`${wf.path}: jobs.${job} has write-all permissions; list the scopes it needs.`);
    if (perms['id-token'] === 'write' && !spec.environment && !spec.uses && !isBuildOnlyJob(spec)) {
      problems.push(
        `${wf.path}: jobs.${job} has id-token: write without environment:; only deploy jobs (with environment protection) and the build-only job (build role) may mint OIDC tokens.`,
      );
    }
  }
  return problems;
}

/**
 * In a reusable workflow, `./actions/x` resolves in the *caller's* checkout. The
 * suite's actions and scripts must come from `.aws-deploy-actions`, checked out
 * earlier in the same job at job.workflow_repository / job.workflow_sha (with the
 * GHES fallback inputs suite-repository / suite-ref).
 */
export function sameCommitProblems(wf: WorkflowFile): string[] {
  if (!isReusable(wf)) return [];
  const problems: string[] = [];
  for (const [job, spec] of Object.entries(wf.doc.jobs ?? {})) {
    let suiteCheckedOut = false;
    for (const [index, step] of (spec.steps ?? []).entries()) {
      const at = where(wf, job, { index, step });
      if (step.uses?.startsWith('actions/checkout@') && step.with?.path === SUITE_PATH) {
        const repo = String(step.with.repository ?? '');
        const ref = String(step.with.ref ?? '');
        if (!/job\.workflow_repository/.test(repo) || !/inputs\.suite-repository/.test(repo)) {
          problems.push(`${at}: the suite checkout must use repository: \${{ inputs.suite-repository || job.workflow_repository }}.`);
        }
        if (!/job\.workflow_sha/.test(ref) || !/inputs\.suite-ref/.test(ref)) {
          problems.push(`${at}: the suite checkout must use ref: \${{ inputs.suite-ref || job.workflow_sha }}.`);
        }
        suiteCheckedOut = true;
        continue;
      }
      if (step.uses?.startsWith('./actions/')) {
        problems.push(
          `${at}: uses: ${step.uses} resolves in the caller's checkout; use ./${SUITE_PATH}/actions/... after checking the suite out.`,
        );
      }
      const usesSuite = step.uses?.startsWith(`./${SUITE_PATH}/`) || (step.run ?? '').includes(`${SUITE_PATH}/`);
      if (usesSuite && !suiteCheckedOut) {
        problems.push(`${at}: uses the suite from ${SUITE_PATH} before any step checks it out at job.workflow_sha.`);
      }
    }
  }
  return problems;
}

/**
 * Jobs that deploy (declare environment:) in a reusable workflow serialise on an
 * explicit group of repository + environment + target and never cancel a running
 * deploy. `github.workflow` is the caller's name inside a called workflow, so two
 * callers would share or split groups by accident.
 */
export function concurrencyProblems(wf: WorkflowFile): string[] {
  if (!isReusable(wf)) return [];
  const problems: string[] = [];
  for (const [job, spec] of Object.entries(wf.doc.jobs ?? {})) {
    // A job that only reads an environment's variables (deployment: false) deploys nothing.
    if (!spec.environment || (typeof spec.environment === 'object' && spec.environment.deployment === false)) continue;
    const c = spec.concurrency;
    const group = typeof c === 'string' ? c : c?.group;
    const cancel = typeof c === 'string' ? false : c?.['cancel-in-progress'];
    if (!group) {
      problems.push(`${wf.path}: jobs.${job} deploys without concurrency:; add a group of repository + environment + service.`);
      continue;
    }
    if (/github\.workflow\b/.test(group))
      problems.push(`${wf.path}: jobs.${job} concurrency group uses github.workflow (the caller's name in a called workflow).`);
    if (!/github\.repository\b/.test(group)) problems.push(`${wf.path}: jobs.${job} concurrency group lacks github.repository.`);
    if (!/environment/.test(group)) problems.push(`${wf.path}: jobs.${job} concurrency group lacks the environment.`);
    if (!/concurrency-key|inputs\.(services|site)/.test(group))
      problems.push(`${wf.path}: jobs.${job} concurrency group lacks the service or site.`);
    if (cancel !== false) problems.push(`${wf.path}: jobs.${job} must set cancel-in-progress: false (never cancel a running deploy).`);
  }
  return problems;
}

/**
 * Every `actions/upload-artifact` step sets `overwrite: true`: artifact names are
 * fixed per run, and v4 refuses to upload a name that exists, so "Re-run all jobs"
 * would fail at the upload of the first attempt's artifact.
 */
export function artifactProblems(wf: WorkflowFile): string[] {
  return steps(wf)
    .filter(({ step }) => /^actions\/upload-artifact@/.test(String(step.uses ?? '')))
    .filter(({ step }) => step.with?.overwrite !== true && step.with?.overwrite !== 'true')
    .map(
      (s) =>
        `${where(wf, s.job, s)}: upload-artifact without overwrite: true; "Re-run all jobs" fails on the artifact the first attempt uploaded. Add overwrite: true.`,
    );
}

interface InputSpec {
  required: boolean;
  hasDefault: boolean;
  /** workflow_call input type (string, boolean, number); undefined for actions (all strings). */
  type?: string;
}

/** Inputs of one of our actions, or undefined when its action.yml does not exist (yet). */
function actionInputs(name: string): Map<string, InputSpec> | undefined {
  const file = join(repoRoot, 'actions', name, 'action.yml');
  if (!existsSync(file)) return undefined;
  const yml = parse(readFileSync(file, 'utf8')) as { inputs?: Record<string, { required?: boolean; default?: unknown }> };
  return new Map(
    Object.entries(yml.inputs ?? {}).map(([k, v]) => [k, { required: v.required === true, hasDefault: v.default !== undefined }]),
  );
}

/** workflow_call inputs of one of our reusable workflows. */
function reusableInputs(file: string): Map<string, InputSpec> | undefined {
  const path = join(repoRoot, '.github', 'workflows', file);
  if (!existsSync(path)) return undefined;
  const doc = parse(readFileSync(path, 'utf8')) as {
    on?: { workflow_call?: { inputs?: Record<string, { required?: boolean; default?: unknown; type?: string }> } };
  };
  const inputs = doc.on?.workflow_call?.inputs ?? {};
  return new Map(
    Object.entries(inputs).map(([k, v]) => [k, { required: v.required === true, hasDefault: v.default !== undefined, type: v.type }]),
  );
}

/** `./actions/x`, `./.aws-deploy-actions/actions/x`, `<owner>/aws-deploy-actions/actions/x@ref` → x. */
export function suiteActionName(uses: string): string | undefined {
  return /^(?:\.\/(?:\.aws-deploy-actions\/)?|[^/]+\/aws-deploy-actions\/|\$\/)actions\/([a-z0-9-]+)(?:@.*)?$/.exec(uses)?.[1];
}

/** `<owner>/aws-deploy-actions/.github/workflows/x.yml@ref` (or `./.github/workflows/x.yml`) → x.yml. */
export function suiteWorkflowName(uses: string): string | undefined {
  return /^(?:\.\/|[^/]+\/aws-deploy-actions\/)\.github\/workflows\/([a-z0-9-]+\.ya?ml)(?:@.*)?$/.exec(uses)?.[1];
}

function withProblems(at: string, target: string, given: Record<string, unknown>, inputs: Map<string, InputSpec>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(given)) {
    const spec = inputs.get(key);
    if (!spec) {
      problems.push(`${at}: with: ${key} is not an input of ${target} (inputs: ${[...inputs.keys()].join(', ')}).`);
      continue;
    }
    // A reusable workflow rejects a literal of the wrong type at call time; an
    // expression is checked by GitHub when it runs.
    const isExpression = typeof value === 'string' && /^\$\{\{.*\}\}$/s.test(value.trim());
    if (spec.type && !isExpression && spec.type !== typeof value) {
      problems.push(`${at}: with: ${key} is ${JSON.stringify(value)} (${typeof value}), but ${target} declares it type: ${spec.type}.`);
    }
  }
  for (const [key, spec] of inputs) {
    if (spec.required && !spec.hasDefault && !(key in given)) problems.push(`${at}: ${target} requires input ${key}, which is not given.`);
  }
  return problems;
}

export interface WithCheck {
  /** Problems found in the calls whose target exists. */
  problems: string[];
  /** Our actions referenced whose action.yml does not exist, so their `with:` was not checked. */
  unchecked: string[];
}

/**
 * Every `with:` key given to one of our actions (or reusable workflows) is an input
 * it declares, and every required input without a default is given.
 */
export function withKeyProblems(wf: WorkflowFile): WithCheck {
  const problems: string[] = [];
  const unchecked = new Set<string>();
  for (const { job, index, step } of steps(wf)) {
    const name = step.uses ? suiteActionName(step.uses) : undefined;
    if (!name) continue;
    let inputs: Map<string, InputSpec> | undefined;
    try {
      inputs = actionInputs(name);
    } catch (err) {
      problems.push(
        `${where(wf, job, { index, step })}: actions/${name}/action.yml does not parse, so with: cannot be checked: ${(err as Error).message.split('\n')[0]}`,
      );
      continue;
    }
    if (!inputs) {
      unchecked.add(name);
      continue;
    }
    problems.push(...withProblems(where(wf, job, { index, step }), `actions/${name}`, step.with ?? {}, inputs));
  }
  for (const [job, spec] of Object.entries(wf.doc.jobs ?? {})) {
    const file = spec.uses ? suiteWorkflowName(spec.uses) : undefined;
    if (!file) continue;
    const inputs = reusableInputs(file);
    if (!inputs) {
      problems.push(`${wf.path}: jobs.${job} calls .github/workflows/${file}, which does not exist.`);
      continue;
    }
    problems.push(...withProblems(`${wf.path}: jobs.${job}`, `.github/workflows/${file}`, spec.with ?? {}, inputs));
  }
  return { problems, unchecked: [...unchecked] };
}
