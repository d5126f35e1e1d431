import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ClientFactory, clientConfig, resolveRegion } from '../../lib/aws.js';
import { ActionError } from '../../lib/errors.js';
import { appendSummary, issueCommand, runAction, runnerReporter } from '../../lib/runner.js';
import { printUntrusted } from '../../lib/report.js';
import { registerIfChanged } from '../../lib/taskdef.js';
import { isSecretOverride, maskedEnvironment, runIdentity } from './identity.js';
import { getInputs } from './inputs.js';
import { consoleUrl, planRun } from './plan.js';
import { resolveTargets } from './resolve.js';
import { Migration, runMigration, type RunDeps } from './run.js';
import { describeOutcome, summaryMarkdown } from './summary.js';

const ACTION = 'migrate-db';

/** Container output is data, not workflow commands (lib/report.ts printUntrusted). */
const printLogLines = (lines: string[]): void => printUntrusted(runnerReporter, lines);

await runAction(ACTION, async () => {
  const reporter = runnerReporter;
  const inputs = getInputs();
  const region = resolveRegion(inputs.awsRegion);
  for (const [name, value] of inputs.environment) if (isSecretOverride(name, value)) reporter.setSecret(value);
  const config = (r?: string) => clientConfig({ region: r ?? inputs.awsRegion, action: ACTION });
  const ecs = new ClientFactory(config).get(ECSClient);
  // One factory per region the logs are in (a task definition may send them to another region).
  const logClients = new Map<string, ClientFactory>();
  const logsFor = (r: string | undefined) => {
    const key = r ?? region;
    if (!logClients.has(key)) logClients.set(key, new ClientFactory(() => config(key)));
    return logClients.get(key)!.get(CloudWatchLogsClient);
  };
  const commandText = inputs.commandText ?? '(the task definition command)';

  const resolved = await reporter.group('Resolve service and task definition', async () => {
    const r = await resolveTargets(ecs, inputs, process.env.GITHUB_WORKSPACE ?? process.cwd());
    if (r.service) reporter.info(`service ${r.service.serviceName}: task definition ${r.service.taskDefinition}`);
    reporter.info(
      r.source.kind === 'file'
        ? `task definition file ${r.source.path} (family ${r.taskDefinition.family})`
        : `task definition ${r.source.arn}`,
    );
    return r;
  });
  const ref =
    resolved.source.kind === 'file'
      ? `${resolved.taskDefinition.family}:<registered from ${resolved.source.path} if changed>`
      : resolved.source.arn;
  const plan = planRun({
    inputs,
    service: resolved.service,
    taskDefinition: resolved.taskDefinition,
    taskDefinitionRef: ref,
    identity: runIdentity(),
  });
  for (const w of plan.warnings) reporter.warning(w);

  const shown = () => {
    const overrides = plan.request.overrides?.containerOverrides?.[0];
    const env = overrides?.environment ? maskedEnvironment(inputs.environment) : undefined;
    return JSON.stringify(
      { ...plan.request, overrides: { containerOverrides: [{ ...overrides, ...(env ? { environment: env } : {}) }] } },
      null,
      2,
    );
  };
  if (inputs.dryRun) {
    await reporter.group('RunTask request (dry run: nothing is started)', async () =>
      shown()
        .split('\n')
        .forEach((l) => reporter.info(l)),
    );
    reporter.info('dry-run: no task definition registered, no task started.');
    appendSummary(
      summaryMarkdown({ command: commandText, result: 'dry run: RunTask request printed, nothing started', lastLines: [], dryRun: true }),
    );
    return;
  }

  if (resolved.source.kind === 'file') {
    const source = resolved.source;
    plan.request.taskDefinition = await reporter.group('Register task definition (only if changed)', async () => {
      const reg = await registerIfChanged(ecs, source.input);
      reporter.info(reg.changed ? `registered ${reg.arn}` : `unchanged: using ${reg.arn}`);
      return reg.arn;
    });
  }
  await reporter.group('RunTask request', async () =>
    shown()
      .split('\n')
      .forEach((l) => reporter.info(l)),
  );

  const timeoutMs = inputs.timeoutMinutes * 60_000;
  const pollMs = inputs.pollIntervalSeconds * 1000;
  const controller = new AbortController();
  const deps: RunDeps = { ecs, logsFor, reporter, onLogLines: printLogLines };
  const migration = new Migration(deps, plan);

  // On cancel the runner sends SIGINT, then SIGTERM ~7.5 s later, then kills us:
  // StopTask goes out at once, and we exit within 5 s whatever AWS does.
  let cancelled = false;
  const onSignal = (signal: string) => {
    if (cancelled) return;
    cancelled = true;
    controller.abort();
    reporter.info(`${signal} received (workflow cancelled): stopping the migration task.`);
    const hardExit = setTimeout(() => process.exit(1), 4500);
    void migration.stop('workflow cancelled').finally(() => {
      issueCommand(
        'error',
        {},
        `${ACTION} failed: the workflow was cancelled; StopTask was sent for ${migration.taskArn ?? 'no task (none had started)'}.`,
      );
      appendSummary(
        summaryMarkdown({
          command: commandText,
          result: 'cancelled (workflow cancelled); StopTask sent',
          taskArn: migration.taskArn,
          lastLines: migration.tail?.last ?? [],
        }),
      );
      clearTimeout(hardExit);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let link = '';
  const { outcome } = await runMigration(migration, {
    ifRunning: inputs.ifRunning,
    timeoutMs,
    pollMs,
    signal: controller.signal,
    onStarted: (started) => {
      link = consoleUrl(region, plan.request.cluster, started.taskArn!);
      reporter.info(`Started task ${started.taskArn}`);
      reporter.info(`Console: ${link}`);
      if (migration.logStream) reporter.info(`Logs: ${plan.logs!.group} ${migration.logStream}`);
      reporter.setOutput('task-arn', started.taskArn!);
      reporter.setOutput('log-stream', migration.logStream ?? '');
    },
  });
  if (outcome.result === 'cancelled') {
    // The signal handler stops the task, writes the summary and exits; never finish before it.
    await new Promise(() => undefined);
  }
  const durationSeconds = Math.round(((migration.stoppedAtMs ?? Date.now()) - (migration.startedAtMs ?? Date.now())) / 100) / 10;
  const exitCode = outcome.result === 'succeeded' || outcome.result === 'failed' ? outcome.exitCode : undefined;
  reporter.setOutput('exit-code', exitCode ?? '');
  reporter.setOutput('duration-seconds', durationSeconds);
  const result = describeOutcome(outcome, inputs.timeoutMinutes);
  reporter.info(`Migration ${result} in ${durationSeconds} s.`);
  appendSummary(
    summaryMarkdown({
      command: commandText,
      result,
      durationSeconds,
      taskArn: migration.taskArn,
      consoleUrl: link,
      logStream: migration.logStream,
      lastLines: migration.tail?.last ?? [],
    }),
  );

  if (outcome.result === 'succeeded') return;
  const fixes: Record<string, string> = {
    failed: 'Read the log lines above (the last ones are in the step summary) and fix the migration.',
    'not-started':
      'The container never ran: check the image exists, the execution role can read its secrets and pull the image, and the subnets can reach ECR.',
    'timed-out': 'Raise timeout-minutes if the migration is legitimately long, or find what it waits for (locks, connectivity).',
  };
  throw new ActionError(`Migration ${result}.`, {
    input: outcome.result === 'timed-out' ? 'timeout-minutes' : undefined,
    fix: fixes[outcome.result],
  });
});
