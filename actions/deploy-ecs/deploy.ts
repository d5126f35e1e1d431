/**
 * The deploy, phase by phase: read everything (fail on bad input before any
 * write), publish the image, register if changed, update the services, wait,
 * and on failure diagnose and roll back to what each service ran before.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { DescribeTaskDefinitionCommand, type ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import type { CallDeadline } from '../../lib/deadline.js';
import { ActionError, describeUnknown } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';
import { parseTaskDefinition, readTaskDefinitionFile, registerIfChanged, stripReadOnly, taskDefinitionsEqual, type TaskDefinitionInput } from '../../lib/taskdef.js';
import type { Diagnosis } from './diagnose.js';
import { startGates } from './gate-hook.js';
import type { GateResult } from './gate.js';
import { checkImages, pinDigests, promoteImage, pushImage, type ExecFn, type PublishedImage } from './image.js';
import type { Inputs } from './inputs.js';
import { revisionOf, type Tracked } from './judge.js';
import { dryRunPlan, planServices, type DryRun } from './plan.js';
import { abandonedUpdates, AFTER_DEADLINE_MS, interruptedBeforeUpdate, type Abandoned } from './interrupted.js';
import { handleFailure } from './rollback.js';
import { rollbackTarget } from './rollback-target.js';
import { mapLimit } from '../../lib/pool.js';
import { servicesBefore, updateService } from './services.js';
import { waitForDeployments, type WaitOutcome } from './wait.js';

export interface Deps {
  ecs: ECSClient;
  ecr: ECRClient;
  logs: CloudWatchLogsClient;
  exec: ExecFn;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
  region: string;
  /** Aborted when the runner cancels the workflow (SIGINT / SIGTERM). */
  signal?: AbortSignal;
  /** The deadline of the clients' calls (lib/deadline.ts); after a cancel the rollback gets a fresh one. */
  calls?: CallDeadline;
  /** When the run began (before prepare): timeout-minutes counts from here. */
  runStartedAt?: number;
}

/** Milliseconds after a cancel signal in which the rollback must be confirmed: the runner kills the step at 10 s. */
export const CANCEL_BUDGET_MS = 8000;

/** The share of timeout-minutes kept for a rollback (at most 5 minutes): the documented minimum a rollback gets. */
export function rollbackReserveMs(timeoutMs: number): number {
  return Math.min(5 * 60_000, timeoutMs * 0.25);
}

/**
 * `interrupted`: still rolling out when another service failed (the wait stops at the first failure).
 * `superseded`: another deployer's deployment replaced ours (never rolled back over).
 */
export type ServiceOutcome = 'succeeded' | 'unchanged' | 'failed' | 'timed-out' | 'interrupted' | 'superseded' | 'cancelled' | 'rolled back' | 'rollback failed' | 'planned';

export interface ServiceResult {
  service: string;
  before?: string;
  after: string;
  result: ServiceOutcome;
  durationMs: number;
  deploymentId?: string;
  reason?: string;
}

export interface DeployResult {
  taskDefinitionArn: string;
  previousTaskDefinitionArn: string;
  changed: boolean;
  image: string;
  deploymentIds: Record<string, string>;
  status: 'succeeded' | 'unchanged' | 'failed' | 'timed-out' | 'cancelled' | 'dry-run' | 'superseded';
  rolledBack: boolean;
  durationSeconds: number;
  services: ServiceResult[];
  diff: string[];
  diagnoses: Diagnosis[];
  /** dry-run: the plan, and the diff against what each service runs now. */
  dryRun?: DryRun;
  /** every test-traffic gate run. */
  gates?: GateResult[];
  /** Set when the deploy failed; main.ts writes outputs and the summary, then throws it. */
  error?: ActionError;
}

async function describeTaskDefinition(ecs: ECSClient, ref: string, input?: string): Promise<{ td: TaskDefinition; tags: TaskDefinitionInput['tags'] }> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ['TAGS'] }));
    if (!out.taskDefinition?.taskDefinitionArn) throw new Error('no task definition returned');
    return { td: out.taskDefinition, tags: out.tags };
  } catch (err) {
    if (input) throw new ActionError(`Task definition '${ref}' cannot be described (${(err as Error).message}).`, { input, fix: 'Check the ARN or family:revision, and the region.' });
    throw err;
  }
}

function withContainerImage(def: TaskDefinitionInput, container: string, image: string): TaskDefinitionInput {
  return { ...def, containerDefinitions: def.containerDefinitions?.map((c) => (c.name === container ? { ...c, image } : c)) };
}

/** Where a run is, for the error when the deadline or the cancel stops it before any update. */
interface Progress {
  phase: string;
  previous: Map<string, string>;
  updating: boolean;
}

/**
 * The deadline (timeout-minutes, every call's signal) or the cancel can stop any call. Before the
 * update fan-out nothing was written that needs undoing: the run ends with status timed-out or
 * cancelled, outputs, summary and an error naming the phase, instead of an exception without them.
 */
export async function deploy(inputs: Inputs, deps: Deps): Promise<DeployResult> {
  const started = deps.runStartedAt ?? deps.now();
  const progress: Progress = { phase: 'reading the task definition', previous: new Map(), updating: false };
  try {
    return await deployPhases(inputs, deps, progress, started);
  } catch (err) {
    if (progress.updating || !(deps.signal?.aborted || deps.calls?.signal?.aborted)) throw err;
    deps.report.warning(`Stopped during ${progress.phase}: ${describeUnknown(err)}`);
    return interruptedBeforeUpdate(inputs, deps.signal?.aborted ? 'cancelled' : 'timed-out', progress.phase, Math.round((deps.now() - started) / 100) / 10, progress.previous);
  }
}

async function deployPhases(inputs: Inputs, deps: Deps, progress: Progress, started: number): Promise<DeployResult> {
  const { ecs, report } = deps;
  // The cancel budget counts from the signal, not from the end of the wait or the fan-out (a gate may take a moment to stop).
  let signalledAt: number | undefined;
  if (deps.signal?.aborted) signalledAt = deps.now();
  else deps.signal?.addEventListener('abort', () => (signalledAt = deps.now()), { once: true });
  const timeoutMs = inputs.timeoutMinutes * 60_000;
  const deadline = started + timeoutMs;

  // ---- read-only phase: every input problem surfaces here, before any write call
  let def: TaskDefinitionInput | undefined;
  let existing: TaskDefinition | undefined;
  let existingTags: TaskDefinitionInput['tags'];
  if (inputs.taskDefinition.kind === 'file') {
    def = readTaskDefinitionFile(inputs.taskDefinition.path, { input: 'task-definition' });
  } else {
    const got = await describeTaskDefinition(ecs, inputs.taskDefinition.ref, 'task-definition');
    existing = got.td;
    existingTags = got.tags;
    if (inputs.containerName || inputs.pinImageDigest || inputs.imagePublish !== 'none') {
      // A changed image means a new revision based on the given one.
      def = parseTaskDefinition({ ...stripReadOnly(got.td as Record<string, unknown>), ...(got.tags?.length ? { tags: got.tags } : {}) }, { input: 'task-definition' });
    }
  }
  const containers = (def ?? existing)?.containerDefinitions ?? [];
  if (inputs.containerName && !containers.some((c) => c.name === inputs.containerName)) {
    throw new ActionError(`Container '${inputs.containerName}' is not in the task definition (it has ${containers.map((c) => c.name).join(', ')}).`, {
      input: 'container-name',
      fix: 'Use the name of one of its containers.',
    });
  }
  // action.yml: the published image goes into container-name, by default the first container.
  const imageContainer = inputs.containerName ?? containers[0]?.name;
  progress.phase = 'reading the services (DescribeServices)';
  const before = await report.group('Services before the update', async () => {
    const map = await servicesBefore(ecs, inputs.cluster, inputs.services);
    for (const [name, s] of map) report.info(`${name}: ${revisionOf(s.taskDefinition)}, running ${s.runningCount}/${s.desiredCount}, strategy ${s.deploymentConfiguration?.strategy ?? 'ROLLING'}`);
    return map;
  });
  // What each service ran before us: the rollback target and the "before" of the summary.
  const previous = progress.previous;
  progress.phase = 'finding each service\'s rollback target';
  for (const name of inputs.services) {
    const target = await rollbackTarget(ecs, inputs.cluster, name, before.get(name)!);
    if (target.note) report.warning(`${name} ${target.note}.`);
    previous.set(name, target.arn);
  }
  // Every other container's image must exist before anything is written to ECR (publishing
  // first and failing on a missing sidecar image would leave a tag moved and nothing deployed).
  progress.phase = 'checking the images';
  if (def && inputs.imagePublish !== 'none') {
    const others = { ...def, containerDefinitions: def.containerDefinitions?.filter((c) => c.name !== imageContainer) };
    await checkImages(deps.ecr, others, deps.region);
  }

  if (inputs.dryRun) {
    const plan = await report.group('Dry run: the plan (no write call)', async () => {
      const p = await dryRunPlan(ecs, inputs, def, existing, before);
      for (const l of p.lines) report.info(l);
      for (const d of p.diffs) for (const l of [`${d.service} (now ${revisionOf(d.against)}):`, ...d.diff.map((x) => `  ${x}`)]) report.info(l);
      return p;
    });
    return dryRunResult(inputs, previous, plan, existing, started, deps);
  }
  if (deps.signal?.aborted) return cancelledBeforeWrites(inputs, previous, started, deps);

  // ---- image
  let published: PublishedImage | undefined;
  progress.phase = `publishing the image (${inputs.imagePublish})`;
  if (inputs.imagePublish !== 'none') {
    published = await report.group(`Image (${inputs.imagePublish})`, () =>
      inputs.imagePublish === 'push'
        ? pushImage(deps.ecr, deps.exec, { localImage: inputs.image!, repository: inputs.ecrRepository!, tags: [...new Set([...(inputs.commitSha ? [inputs.commitSha] : []), ...inputs.tags])] }, report)
        : promoteImage(deps.ecr, inputs.sourceImage!, inputs.tags, deps.region, report),
    );
    if (imageContainer && def) def = withContainerImage(def, imageContainer, published.uri);
  }

  if (deps.signal?.aborted) return cancelledBeforeWrites(inputs, previous, started, deps);

  // ---- register
  progress.phase = 'registering the task definition';
  const reg = await report.group('Task definition', async () => {
    if (def) {
      const checked = await checkImages(deps.ecr, def, deps.region);
      for (const c of checked) report.info(`image ${c.image} (${c.container}): ${c.skipped ? `not checked, ${c.skipped}` : `exists, ${c.digest ?? 'digest unknown'}`}`);
      if (inputs.pinImageDigest) def = pinDigests(def, checked);
      if (existing && taskDefinitionsEqual(existing, def, existingTags ?? [], def.tags ?? [])) {
        report.info(`unchanged: ${existing.taskDefinitionArn} already has these images; not registering a copy`);
        return { arn: existing.taskDefinitionArn!, changed: false, taskDefinition: existing, previous: undefined, previousArn: undefined };
      }
      const r = await registerIfChanged(ecs, def);
      report.info(r.changed ? `registered ${r.arn}` : `unchanged: ${r.arn} already matches ${inputs.taskDefinition.kind === 'file' ? inputs.taskDefinition.path : 'the given revision'}`);
      return r;
    }
    report.info(`using existing ${existing!.taskDefinitionArn}`);
    return { arn: existing!.taskDefinitionArn!, changed: false, taskDefinition: existing!, previous: undefined, previousArn: undefined };
  });
  const arn = reg.arn;
  const finalDef = reg.taskDefinition;
  const mainContainer = finalDef.containerDefinitions?.find((c) => c.name === imageContainer) ?? finalDef.containerDefinitions?.[0];
  const image = mainContainer?.image ?? published?.uri ?? '';

  // Diff against what the (first) service ran before, which is what the user compares with.
  const firstBefore = previous.get(inputs.services[0]!);
  let previousDef = reg.previous?.taskDefinitionArn === firstBefore ? reg.previous : undefined;
  if (!previousDef && firstBefore && firstBefore !== arn) previousDef = (await describeTaskDefinition(ecs, firstBefore).catch(() => undefined))?.td;
  const diff = firstBefore === arn ? ['no change: the service already runs this revision'] : diffTaskDefinitions(previousDef, finalDef);

  // ---- update: only services not steady on the revision ("unchanged" = steady on it)
  progress.updating = true;
  const plans = planServices(inputs, before, arn);
  const toUpdate = plans.filter((p) => p.update);
  // One failed UpdateService must not leave the others updated and unwatched: collect the
  // errors, and treat them as a failed deployment (so the updated ones are rolled back).
  const updateErrors = new Map<string, string>();
  // The deadline or the cancel stopped these calls mid-flight: ECS may have applied them.
  const abandoned: Abandoned[] = [];
  const stopped = () => !!deps.signal?.aborted || !!deps.calls?.signal?.aborted;
  const updated = stopped()
    ? []
    : await report.group('Update services', () =>
        mapLimit(toUpdate, inputs.maxParallel, async ({ service, force, why }): Promise<Tracked | undefined> => {
          // A cancel or the deadline during the fan-out: no new update is started (the ones done are rolled back).
          if (stopped()) return undefined;
          const startedAt = deps.now();
          try {
            const t = await updateService(ecs, inputs.cluster, { service, taskDefinition: arn, forceNewDeployment: force, desiredCount: inputs.desiredCount }, deps.now);
            report.info(`${service}: ${revisionOf(before.get(service)!.taskDefinition)} → ${revisionOf(arn)} (${why}), deployment ${t.deploymentId ?? '(id not returned)'}${t.serviceDeploymentArn ? `, ${t.serviceDeploymentArn}` : ''}`);
            return t;
          } catch (err) {
            if (stopped()) {
              abandoned.push({ service, startedAt });
              return undefined;
            }
            updateErrors.set(service, `UpdateService failed: ${describeUnknown(err)}`);
            report.warning(`${service}: UpdateService failed: ${describeUnknown(err)}`);
            return undefined;
          }
        }),
      );
  const tracked = updated.filter((t): t is Tracked => t !== undefined);
  // Stopped in the fan-out: what is left of the run goes to reading back and rolling back.
  const stoppedInFanOut = stopped();
  if (stoppedInFanOut) deps.calls?.set(AbortSignal.timeout(afterStopBudget(deps, deadline, signalledAt)));
  tracked.push(...(await abandonedUpdates(ecs, inputs.cluster, arn, abandoned, before, report)));
  for (const p of plans.filter((x) => !x.update)) report.info(`${p.service}: unchanged, ${p.why}; not updated`);

  // ---- wait: timeout-minutes covers the wait and the rollback; the rollback keeps its reserve
  const reserve = inputs.rollbackOnFailure ? rollbackReserveMs(timeoutMs) : 0;
  const waitMs = Math.max(0, deadline - reserve - deps.now());
  const gates = startGates(inputs, deps, tracked, before); // acts on PAUSE hooks during the wait, post-deploy gates after it
  // The wait's calls end with the wait (timeout-minutes minus the rollback's reserve), so a call held
  // by throttling cannot eat the reserve; the run's own signal comes back for what follows.
  const runSignal = deps.calls?.signal;
  const waited: WaitOutcome | undefined = tracked.length && updateErrors.size === 0 && !stoppedInFanOut && !deps.signal?.aborted
    ? await report.group(`Wait for ${tracked.length} service(s)`, () => (
        deps.calls?.set(AbortSignal.any([...(runSignal ? [runSignal] : []), AbortSignal.timeout(Math.max(1, waitMs))])),
        waitForDeployments({ ecs, report, sleep: deps.sleep, now: deps.now, signal: deps.signal }, tracked, { cluster: inputs.cluster, intervalMs: inputs.pollIntervalSeconds * 1000, timeoutMs: waitMs, maxFailedTasks: inputs.maxFailedTasks, nativeStep: gates.nativeStep })
      ))
    : undefined;
  if (waited) deps.calls?.set(runSignal);
  await gates.afterWait(waited);
  // A signal after every service finished changes nothing: only an unfinished deploy is cancelled.
  const aborted = !!deps.signal?.aborted;
  const cancelledAt = signalledAt ?? deps.now();

  const results: ServiceResult[] = inputs.services.map((service) => {
    const t = tracked.find((x) => x.service === service);
    const b = previous.get(service);
    const updateError = updateErrors.get(service);
    if (updateError) return { service, before: b, after: arn, result: 'failed', durationMs: 0, reason: updateError };
    const planned = toUpdate.some((p) => p.service === service);
    if (!t && planned && aborted) return { service, before: b, after: arn, result: 'cancelled', durationMs: 0 };
    if (!t && planned && stoppedInFanOut) return { service, before: b, after: arn, result: 'timed-out', durationMs: 0, reason: `not updated: timeout-minutes (${inputs.timeoutMinutes}) passed during the UpdateService fan-out` };
    if (!t) return { service, before: b, after: arn, result: 'unchanged', durationMs: 0 };
    const v = waited?.verdicts.get(service);
    const end = waited?.finishedAt.get(service) ?? deps.now();
    const base = { service, before: b, after: arn, durationMs: end - t.startedAt, deploymentId: t.deploymentId };
    if (v?.state === 'succeeded') return { ...base, result: 'succeeded' };
    if (v?.state === 'failed') return { ...base, result: 'failed', reason: v.reason };
    if (v?.state === 'superseded') return { ...base, result: 'superseded', reason: v.reason };
    if (aborted) return { ...base, result: 'cancelled', reason: `cancelled while ${v?.progress ?? 'starting'}` };
    if (waited?.pollFailure) return { ...base, result: 'failed', reason: `could not read the service state: ${waited.pollFailure}` };
    if (stoppedInFanOut && !waited) return { ...base, result: 'timed-out', reason: `updated, not waited for: timeout-minutes (${inputs.timeoutMinutes}) passed during the UpdateService fan-out` };
    if (waited?.timedOut) return { ...base, result: 'timed-out', reason: `timed out after ${Math.round((end - started) / 100) / 10} s (timeout-minutes ${inputs.timeoutMinutes}${reserve ? `, the last ${Math.round(reserve / 100) / 10} s kept for a rollback` : ''}; ${v?.progress ?? 'no state yet'})` };
    return { ...base, result: 'interrupted' };
  });
  const cancelled = results.some((r) => r.result === 'cancelled');
  if (cancelled) report.warning(`The workflow was cancelled: stopped waiting${inputs.rollbackOnFailure ? ' and rolling back what this run updated' : ''}.`);
  const superseded = results.filter((r) => r.result === 'superseded');
  for (const r of superseded) report.warning(`${r.service}: ${r.reason}. Not rolled back: that would overwrite their deployment.`);
  const failing = (r: ServiceResult) => r.result === 'failed' || r.result === 'timed-out' || r.result === 'cancelled' || (r.result === 'superseded' && inputs.onOtherDeployment === 'fail');
  const failed = results.filter(failing);
  const status: DeployResult['status'] = cancelled
    ? 'cancelled'
    : failed.some((r) => r.result === 'failed' || r.result === 'superseded')
      ? 'failed'
      : failed.length
        ? 'timed-out'
        : superseded.length
          ? 'superseded'
          : toUpdate.length
            ? 'succeeded'
            : 'unchanged';
  const out: DeployResult = {
    taskDefinitionArn: arn,
    previousTaskDefinitionArn: previousArnOutput(inputs.services, previous),
    changed: reg.changed,
    image,
    deploymentIds: Object.fromEntries(tracked.filter((t) => t.deploymentId).map((t) => [t.service, t.deploymentId!])),
    status,
    rolledBack: false,
    durationSeconds: 0,
    services: results,
    diff,
    diagnoses: [],
    gates: gates.results,
  };
  if (failed.length || cancelled) {
    // The rollback keeps its reserve, but never past timeout-minutes + AFTER_DEADLINE_MS (a wait or a
    // fan-out held by throttling), nor past the cancel budget.
    const rollbackBudgetMs = cancelled ? cancelledAt + CANCEL_BUDGET_MS - deps.now() : Math.min(Math.max(deadline - deps.now(), reserve), afterStopBudget(deps, deadline, signalledAt));
    // The deadline or the cancel aborted every call in flight; the rollback's calls get their own budget.
    deps.calls?.set(AbortSignal.timeout(Math.max(1, rollbackBudgetMs)));
    await handleFailure(inputs, deps, { tracked, waited, before, previous, results, failed: failed.length ? failed : results.filter((r) => r.result === 'cancelled'), finalDef, out, rollbackBudgetMs, cancelled });
  }
  out.durationSeconds = Math.round((deps.now() - started) / 100) / 10;
  return out;
}

/** What a stopped fan-out has left for reading back and rolling back: the cancel budget, or until the deadline's grace ends. */
function afterStopBudget(deps: Deps, deadline: number, signalledAt: number | undefined): number {
  return Math.max(1, deps.signal?.aborted ? (signalledAt ?? deps.now()) + CANCEL_BUDGET_MS - deps.now() : deadline + AFTER_DEADLINE_MS - deps.now());
}

function dryRunResult(inputs: Inputs, previous: Map<string, string>, plan: DryRun, existing: TaskDefinition | undefined, started: number, deps: Deps): DeployResult {
  return {
    taskDefinitionArn: existing?.taskDefinitionArn ?? '',
    previousTaskDefinitionArn: previousArnOutput(inputs.services, previous),
    changed: plan.register.startsWith('would register'),
    image: '',
    deploymentIds: {},
    status: 'dry-run',
    rolledBack: false,
    durationSeconds: Math.round((deps.now() - started) / 100) / 10,
    services: inputs.services.map((service) => ({ service, before: previous.get(service), after: existing?.taskDefinitionArn ?? '', result: 'planned', durationMs: 0, reason: plan.lines.find((l) => l.startsWith(`${service}:`))?.slice(service.length + 2) })),
    diff: [],
    diagnoses: [],
    dryRun: plan,
  };
}

function cancelledBeforeWrites(inputs: Inputs, previous: Map<string, string>, started: number, deps: Deps): DeployResult {
  return {
    ...dryRunResult(inputs, previous, { register: '', lines: [], diffs: [] }, undefined, started, deps),
    status: 'cancelled',
    dryRun: undefined,
    services: inputs.services.map((service) => ({ service, before: previous.get(service), after: '', result: 'cancelled', durationMs: 0 })),
    error: new ActionError('deploy-ecs was cancelled before any service was updated (nothing to roll back).', { fix: 'Re-run the workflow to deploy.' }),
  };
}

function previousArnOutput(services: string[], previous: Map<string, string>): string {
  const arns = services.map((s) => previous.get(s) ?? '');
  return new Set(arns).size <= 1 ? (arns[0] ?? '') : services.map((s, i) => `${s}=${arns[i]}`).join('\n');
}
