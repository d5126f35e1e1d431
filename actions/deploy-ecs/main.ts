import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { exec } from '@actions/exec';
import { ClientFactory, clientConfig, lazyClient } from '../../lib/aws.js';
import { boundCalls, CallDeadline, deadlineSignal } from '../../lib/deadline.js';
import { realClock, realSleep } from '../../lib/poll.js';
import { appendSummary, runAction, runnerReporter } from '../../lib/runner.js';
import { describeUnknown } from '../../lib/errors.js';
import { deploy } from './deploy.js';
import { CANCEL_BUDGET_MS, type DeployResult } from './deploy-types.js';
import { interruptedBeforeUpdate, isAwsError } from './interrupted.js';
import { gateMarkdown, gateOutput } from './gate-report.js';
import { getInputs } from './inputs.js';
// Previous / promote-from / family guard, read-only, before deploy()
import { imageDigest, prepare, promotionSummary, type Prepared } from './prepare.js';
import { summaryMarkdown } from './summary.js';
// Scheduled tasks: found before deploy(), moved after it (loaded only when the input is set)
import { loadScheduled } from './scheduled/load.js';
import type { ScheduledTarget } from './scheduled/find.js';
import type { CodeDeployResult } from './codedeploy/run.js';

const ACTION = 'deploy-ecs';

function writeOutputs(r: DeployResult | CodeDeployResult, p: Prepared): void {
  const set = runnerReporter.setOutput;
  set('task-definition-arn', r.taskDefinitionArn);
  set('previous-task-definition-arn', r.previousTaskDefinitionArn);
  set('changed', r.changed);
  set('image', r.image);
  set('deployment-ids', JSON.stringify(r.deploymentIds));
  set('status', r.status);
  set('rolled-back', r.rolledBack);
  set('duration-seconds', r.durationSeconds);
  set('image-digest', imageDigest(r, p));
  set('gate', gateOutput(r.gates ?? []));
  set('codedeploy-deployment-id', ('codedeployDeploymentId' in r && r.codedeployDeploymentId) || '');
}

/**
 * The runner cancels a step with SIGINT, then SIGTERM 7.5 s later, then kills it at 10 s. The
 * first signal aborts the wait; deploy() then rolls back what this run updated within
 * CANCEL_BUDGET_MS and we still write outputs, the summary and an error saying "cancelled".
 * Later signals are only noted: the rollback must not be cut short by our own exit.
 */
const cancel = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (!cancel.signal.aborted) {
      runnerReporter.info(`${sig} received: the workflow is being cancelled`);
      cancel.abort(new Error(`cancelled (${sig})`));
    } else {
      runnerReporter.info(`${sig} received again; finishing the rollback and the report`);
    }
  });
}

const runStartedAt = realClock();

await runAction(ACTION, async () => {
  const inputs = getInputs();
  const config = clientConfig({ region: inputs.awsRegion, maxAttempts: inputs.maxAttempts, action: ACTION });
  const clients = new ClientFactory(() => config);
  if (inputs.codedeploy) {
    // The CodeDeploy path bounds its own waits and must still send StopDeployment after a cancel or
    // a timeout, so its calls are not tied to the run's deadline signal.
    // CODE_DEPLOY services take their own path (CodeDeploy deploys them, not UpdateService); its
    // modules and SDK package are loaded only here, so other runs do not pay for them at start-up.
    const [{ CodeDeployClient }, { deployCodeDeploy }, { codedeployMarkdown }] = await Promise.all([
      import('@aws-sdk/client-codedeploy'),
      import('./codedeploy/run.js'),
      import('./codedeploy/summary.js'),
    ]);
    const ecs = clients.get(ECSClient);
    const scheduled = await loadScheduled(inputs, { ecs, report: runnerReporter, client: (ctor) => clients.get(ctor) });
    const targets = await scheduled.find(inputs);
    const r = await deployCodeDeploy(inputs, inputs.codedeploy, {
      ecs,
      codedeploy: clients.get(CodeDeployClient),
      report: runnerReporter,
      sleep: realSleep,
      now: realClock,
      signal: cancel.signal,
    });
    const moved = await scheduled.move(r, targets);
    writeOutputs(r, { inputs });
    appendSummary(summaryMarkdown(r, inputs.cluster) + codedeployMarkdown(r) + scheduled.markdown(moved.moves));
    if (r.error) throw r.error;
    if (moved.error) throw moved.error;
    return;
  }
  // Every AWS call ends by the run's deadline (timeout-minutes) or at the cancel; deploy() gives the
  // rollback after a cancel its own short budget (calls.set).
  const calls = new CallDeadline(deadlineSignal(runStartedAt + inputs.timeoutMinutes * 60_000 - realClock(), cancel.signal));
  // Registered before deploy() listens to the cancel: the calls in flight end, and the calls the
  // cancel itself makes (a gate's ROLLBACK at a pause, the rollback) get the cancel budget.
  cancel.signal.addEventListener('abort', () => calls.set(AbortSignal.timeout(CANCEL_BUDGET_MS)), { once: true });
  const ecs = boundCalls(clients.get(ECSClient), calls);
  const ecr = boundCalls(clients.get(ECRClient), calls);
  // The deadline or the cancel can stop prepare's reads too: the run still ends with outputs and a summary.
  let phase = 'preparing (previous / promote-from / family guard)';
  let prepared: Prepared | undefined;
  let scheduledTargets: ScheduledTarget[] | undefined;
  const scheduled = await loadScheduled(inputs, { ecs, report: runnerReporter, client: (ctor) => boundCalls(clients.get(ctor), calls) });
  try {
    prepared = await prepare(inputs, { ecs, ecr, report: runnerReporter, tempDir: process.env.RUNNER_TEMP });
    phase = 'finding the scheduled tasks';
    scheduledTargets = await scheduled.find(prepared.inputs);
  } catch (err) {
    // Bad input fails as it is; an AWS call failing past max-attempts still ends with outputs and a summary.
    // The cancel replaces the calls' signal with the cancel budget's: the cancel itself must be asked too.
    const stopped = cancel.signal.aborted || calls.signal?.aborted;
    if (!stopped && !isAwsError(err)) throw err;
    runnerReporter.warning(`Stopped during ${phase}: ${describeUnknown(err)}`);
    const r = interruptedBeforeUpdate(
      inputs,
      cancel.signal.aborted ? 'cancelled' : stopped ? 'timed-out' : 'failed',
      phase,
      Math.round((realClock() - runStartedAt) / 100) / 10,
      undefined,
      describeUnknown(err),
    );
    writeOutputs(r, prepared ?? { inputs });
    appendSummary(summaryMarkdown(r, inputs.cluster));
    throw r.error;
  }
  const result = await deploy(prepared.inputs, {
    ecs,
    ecr,
    // Only a failure's diagnosis reads logs: the SDK package is loaded on the first call.
    logs: boundCalls(
      lazyClient(async () => clients.get((await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient)),
      calls,
    ),
    calls,
    exec: (command, args, options) => exec(command, args, options),
    report: runnerReporter,
    sleep: realSleep,
    now: realClock,
    region: config.region,
    signal: cancel.signal,
    runStartedAt,
    servicesRead: prepared.services,
  });
  const moved = await scheduled.move(result, scheduledTargets);
  writeOutputs(result, prepared);
  appendSummary(
    summaryMarkdown(result, inputs.cluster) +
      promotionSummary(result, prepared, inputs.cluster) +
      gateMarkdown(result.gates ?? []) +
      scheduled.markdown(moved.moves),
  );
  if (result.error) throw result.error;
  if (moved.error) throw moved.error;
});
// Abandoned AWS calls (the deadline or the cancel) may still have SDK retry timers pending: they must
// not hold the step open until the runner's kill once the outputs, summary and error are written.
process.exit();
