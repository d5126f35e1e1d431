/**
 * The deploy, phase by phase: read everything (fail on bad input before any write), publish the
 * image, register if changed (deploy-read.ts), update the services, wait, judge each service
 * (deploy-results.ts), and on failure diagnose and roll back to what each service ran before.
 */
import { deadlineSignal, graceAfter } from '../../lib/deadline.js';
import { describeUnknown } from '../../lib/errors.js';
import { mapLimit } from '../../lib/pool.js';
import { publishPhase, readPhase, registerPhase, type Progress, type ReadState } from './deploy-read.js';
import { cancelledBeforeWrites, dryRunResult, overallStatus, previousArnOutput, serviceResults } from './deploy-results.js';
import { CANCEL_BUDGET_MS, rollbackReserveMs, type DeployResult, type Deps, type ServiceResult } from './deploy-types.js';
import { startGates } from './gate-hook.js';
import type { Inputs } from './inputs.js';
import { revisionOf, type Tracked } from './judge.js';
import { abandonedUpdates, AFTER_DEADLINE_MS, interruptedBeforeUpdate, isAwsError, noteLeftInEcr, type Abandoned } from './interrupted.js';
import { dryRunPlan, planServices, type ServicePlan } from './plan.js';
import { handleFailure } from './rollback.js';
import { updateService } from './services.js';
import { waitForDeployments, type WaitOutcome } from './wait.js';

/**
 * The deadline (timeout-minutes, every call's signal) or the cancel can stop any call. Before the
 * update fan-out nothing was written that needs undoing: the run ends with status timed-out or
 * cancelled, outputs, summary and an error naming the phase, instead of an exception without them.
 */
export async function deploy(inputs: Inputs, deps: Deps): Promise<DeployResult> {
  const started = deps.runStartedAt ?? deps.now();
  const progress: Progress = { phase: 'reading the task definition', previous: new Map(), updating: false, imageWrites: { done: [] } };
  try {
    return noteLeftInEcr(await deployPhases(inputs, deps, progress, started), progress.imageWrites, deps.report);
  } catch (err) {
    const stopped = deps.signal?.aborted || deps.calls?.signal?.aborted;
    // Bad input or configuration (an ActionError naming the input or file) fails as it is; an AWS call
    // failing past max-attempts (throttling) still ends with outputs and a summary.
    if (progress.updating || (!stopped && !isAwsError(err))) throw err;
    deps.report.warning(`Stopped during ${progress.phase}: ${describeUnknown(err)}`);
    const r = interruptedBeforeUpdate(
      inputs,
      deps.signal?.aborted ? 'cancelled' : stopped ? 'timed-out' : 'failed',
      progress.phase,
      Math.round((deps.now() - started) / 100) / 10,
      progress.previous,
      describeUnknown(err),
    );
    return noteLeftInEcr(r, progress.imageWrites, deps.report);
  }
}

async function deployPhases(inputs: Inputs, deps: Deps, progress: Progress, started: number): Promise<DeployResult> {
  // The cancel budget counts from the signal, not from the end of the wait or the fan-out (a gate may take a moment to stop).
  let signalledAt: number | undefined;
  if (deps.signal?.aborted) signalledAt = deps.now();
  else deps.signal?.addEventListener('abort', () => (signalledAt = deps.now()), { once: true });
  const timeoutMs = inputs.timeoutMinutes * 60_000;
  const deadline = started + timeoutMs;

  const read = await readPhase(inputs, deps, progress);
  const { before, previous } = read;
  if (inputs.dryRun) return dryRun(inputs, deps, read, started);
  if (deps.signal?.aborted) return cancelledBeforeWrites(inputs, previous, started, deps.now());
  const published = await publishPhase(inputs, deps, read, progress);
  if (deps.signal?.aborted) return cancelledBeforeWrites(inputs, previous, started, deps.now());
  const reg = await registerPhase(inputs, deps, read, published, progress);
  const { arn } = reg;

  // ---- update: only services not steady on the revision ("unchanged" = steady on it)
  progress.updating = true;
  const plans = planServices(inputs, before, arn);
  const toUpdate = plans.filter((p) => p.update);
  const fanOut = await updatePhase(inputs, deps, read, arn, toUpdate);
  const { tracked, updateErrors, stoppedInFanOut } = fanOut;
  if (stoppedInFanOut) deps.calls?.set(AbortSignal.timeout(afterStopBudget(deps, deadline, signalledAt)));
  tracked.push(...(await abandonedUpdates(deps.ecs, inputs.cluster, arn, fanOut.abandoned, before, deps.report)));
  for (const p of plans.filter((x) => !x.update)) deps.report.info(`${p.service}: unchanged, ${p.why}; not updated`);

  // ---- wait: timeout-minutes covers the wait and the rollback; the rollback keeps its reserve
  const reserve = inputs.rollbackOnFailure ? rollbackReserveMs(timeoutMs) : 0;
  const gates = startGates(inputs, deps, tracked, before); // acts on PAUSE hooks during the wait, post-deploy gates after it
  const waited =
    tracked.length && updateErrors.size === 0 && !stoppedInFanOut && !deps.signal?.aborted
      ? await waitPhase(inputs, deps, tracked, Math.max(0, deadline - reserve - deps.now()), gates.nativeStep)
      : undefined;
  await gates.afterWait(waited);
  // A signal after every service finished changes nothing: only an unfinished deploy is cancelled.
  const aborted = !!deps.signal?.aborted;
  const cancelledAt = signalledAt ?? deps.now();

  // ---- judge
  const results = serviceResults(inputs, {
    arn,
    previous,
    tracked,
    toUpdate,
    updateErrors,
    waited,
    aborted,
    stoppedInFanOut,
    started,
    now: deps.now(),
    reserve,
  });
  const cancelled = results.some((r) => r.result === 'cancelled');
  if (cancelled)
    deps.report.warning(
      `The workflow was cancelled: stopped waiting${inputs.rollbackOnFailure ? ' and rolling back what this run updated' : ''}.`,
    );
  const superseded = results.filter((r) => r.result === 'superseded');
  for (const r of superseded) deps.report.warning(`${r.service}: ${r.reason}. Not rolled back: that would overwrite their deployment.`);
  const failing = (r: ServiceResult) =>
    r.result === 'failed' ||
    r.result === 'timed-out' ||
    r.result === 'cancelled' ||
    (r.result === 'superseded' && inputs.onOtherDeployment === 'fail');
  const failed = results.filter(failing);
  const out: DeployResult = {
    taskDefinitionArn: arn,
    previousTaskDefinitionArn: previousArnOutput(inputs.services, previous),
    changed: reg.changed,
    image: reg.image,
    deploymentIds: Object.fromEntries(tracked.filter((t) => t.deploymentId).map((t) => [t.service, t.deploymentId!])),
    status: overallStatus(results, failed, superseded, toUpdate.length),
    rolledBack: false,
    durationSeconds: 0,
    services: results,
    diff: reg.diff,
    diagnoses: [],
    gates: gates.results,
  };

  // ---- on failure: diagnose and roll back
  if (failed.length || cancelled) {
    // The rollback keeps its reserve, but never past timeout-minutes + AFTER_DEADLINE_MS (a wait or a
    // fan-out held by throttling), nor past the cancel budget.
    const rollbackBudgetMs = cancelled
      ? cancelledAt + CANCEL_BUDGET_MS - deps.now()
      : Math.min(Math.max(deadline - deps.now(), reserve), afterStopBudget(deps, deadline, signalledAt));
    // A cancel during the rollback of a failure or a timeout leaves the runner's 10 s: the rollback's calls
    // and its wait end CANCEL_BUDGET_MS after it, so outputs and the summary are written before the kill.
    const cancelEnds = cancelled ? undefined : graceAfter(deps.signal, CANCEL_BUDGET_MS);
    // The deadline or the cancel aborted every call in flight; the rollback's calls get their own budget.
    deps.calls?.set(deadlineSignal(Math.max(1, rollbackBudgetMs), cancelEnds));
    await handleFailure(inputs, deps, {
      tracked,
      waited,
      before,
      previous,
      results,
      failed: failed.length ? failed : results.filter((r) => r.result === 'cancelled'),
      finalDef: reg.finalDef,
      out,
      rollbackBudgetMs,
      cancelled,
      cancelEnds,
    });
  }
  out.durationSeconds = Math.round((deps.now() - started) / 100) / 10;
  return out;
}

async function dryRun(inputs: Inputs, deps: Deps, read: ReadState, started: number): Promise<DeployResult> {
  const plan = await deps.report.group('Dry run: the plan (no write call)', async () => {
    const p = await dryRunPlan(deps.ecs, inputs, read.def, read.existing, read.before);
    for (const l of p.lines) deps.report.info(l);
    for (const d of p.diffs)
      for (const l of [`${d.service} (now ${revisionOf(d.against)}):`, ...d.diff.map((x) => `  ${x}`)]) deps.report.info(l);
    return p;
  });
  return dryRunResult(inputs, read.previous, plan, read.existing, started, deps.now());
}

interface FanOut {
  tracked: Tracked[];
  /** One failed UpdateService must not leave the others updated and unwatched: its error fails the deployment (so the updated ones are rolled back). */
  updateErrors: Map<string, string>;
  /** The deadline or the cancel stopped these calls mid-flight: ECS may have applied them. */
  abandoned: Abandoned[];
  stoppedInFanOut: boolean;
}

/** UpdateService on every service that is not steady on the revision, at most max-parallel at once. */
async function updatePhase(inputs: Inputs, deps: Deps, read: ReadState, arn: string, toUpdate: ServicePlan[]): Promise<FanOut> {
  const updateErrors = new Map<string, string>();
  const abandoned: Abandoned[] = [];
  const stopped = () => !!deps.signal?.aborted || !!deps.calls?.signal?.aborted;
  const updated = stopped()
    ? []
    : await deps.report.group('Update services', () =>
        mapLimit(toUpdate, inputs.maxParallel, async ({ service, force, why }): Promise<Tracked | undefined> => {
          // A cancel or the deadline during the fan-out: no new update is started (the ones done are rolled back).
          if (stopped()) return undefined;
          const startedAt = deps.now();
          try {
            const t = await updateService(
              deps.ecs,
              inputs.cluster,
              { service, taskDefinition: arn, forceNewDeployment: force, desiredCount: inputs.desiredCount },
              deps.now,
            );
            deps.report.info(
              `${service}: ${revisionOf(read.before.get(service)!.taskDefinition)} → ${revisionOf(arn)} (${why}), deployment ` +
                `${t.deploymentId ?? '(id not returned)'}${t.serviceDeploymentArn ? `, ${t.serviceDeploymentArn}` : ''}`,
            );
            return t;
          } catch (err) {
            if (stopped()) {
              abandoned.push({ service, startedAt });
              return undefined;
            }
            updateErrors.set(service, `UpdateService failed: ${describeUnknown(err)}`);
            deps.report.warning(`${service}: UpdateService failed: ${describeUnknown(err)}`);
            // An attempt whose answer was lost may have been applied before the retries failed (a
            // throttled retry of an applied write): read it back like an abandoned call, so it is rolled back.
            abandoned.push({ service, startedAt });
            return undefined;
          }
        }),
      );
  return { tracked: updated.filter((t): t is Tracked => t !== undefined), updateErrors, abandoned, stoppedInFanOut: stopped() };
}

/**
 * The wait's calls end with the wait (timeout-minutes minus the rollback's reserve), so a call held
 * by throttling cannot eat the reserve; the run's own signal comes back for what follows.
 */
async function waitPhase(
  inputs: Inputs,
  deps: Deps,
  tracked: Tracked[],
  waitMs: number,
  nativeStep: Parameters<typeof waitForDeployments>[2]['nativeStep'],
): Promise<WaitOutcome> {
  const runSignal = deps.calls?.signal;
  const waited = await deps.report.group(`Wait for ${tracked.length} service(s)`, () => {
    deps.calls?.set(deadlineSignal(waitMs, runSignal));
    return waitForDeployments({ ecs: deps.ecs, report: deps.report, sleep: deps.sleep, now: deps.now, signal: deps.signal }, tracked, {
      cluster: inputs.cluster,
      intervalMs: inputs.pollIntervalSeconds * 1000,
      timeoutMs: waitMs,
      maxFailedTasks: inputs.maxFailedTasks,
      nativeStep,
    });
  });
  deps.calls?.set(runSignal);
  return waited;
}

/** What a stopped fan-out has left for reading back and rolling back: the cancel budget, or until the deadline's grace ends. */
function afterStopBudget(deps: Deps, deadline: number, signalledAt: number | undefined): number {
  return Math.max(
    1,
    deps.signal?.aborted ? (signalledAt ?? deps.now()) + CANCEL_BUDGET_MS - deps.now() : deadline + AFTER_DEADLINE_MS - deps.now(),
  );
}
