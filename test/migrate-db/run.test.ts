import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import {
  type Container,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { planRun, type RunPlan } from '../../actions/migrate-db/plan.js';
import { outcomeOfTask } from '../../actions/migrate-db/outcome.js';
import { Migration, guardConcurrent, runMigration, type RunDeps } from '../../actions/migrate-db/run.js';
import { ActionError } from '../../lib/errors.js';
import { memoryReporter, type MemoryReporter } from '../../lib/report.js';
import { CLUSTER, backendService, backendTaskDef, identity, inputsFrom } from './fixtures.js';

const TASK_ARN = `arn:aws:ecs:eu-west-1:123456789012:task/${CLUSTER}/0123abcd`;
const STREAM = 'backend/backend/0123abcd';

const ecsMock = mockClient(ECSClient);
const logsMock = mockClient(CloudWatchLogsClient);

/** A fake clock that only moves when the code under test sleeps. */
function fakeTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), at: () => t };
}

function task(lastStatus: string, extra: Partial<Task> = {}, exitCode?: number): Task {
  return {
    taskArn: TASK_ARN,
    lastStatus,
    containers: [
      { name: 'backend', ...(exitCode !== undefined ? { exitCode } : {}) },
      { name: 'otel-collector', ...(lastStatus === 'STOPPED' ? { exitCode: 1 } : {}) },
    ],
    ...(lastStatus === 'STOPPED'
      ? { startedAt: new Date(), stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }
      : {}),
    ...extra,
  };
}

/**
 * A log stream whose events become visible at given fake times, served
 * with forward tokens like CloudWatch (same token back at the end).
 */
function serveStream(
  time: ReturnType<typeof fakeTime>,
  events: { at: number; message: string }[],
  opts: { existsFrom?: number; pageSize?: number } = {},
) {
  logsMock.on(GetLogEventsCommand).callsFake((input: { logStreamName: string; nextToken?: string }) => {
    expect(input.logStreamName).toBe(STREAM);
    if (time.at() < (opts.existsFrom ?? 0))
      throw new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} });
    const visible = events.filter((e) => e.at <= time.at());
    const from = input.nextToken ? Number(input.nextToken.slice(2)) : 0;
    const to = Math.min(visible.length, from + (opts.pageSize ?? 10_000));
    return { events: visible.slice(from, to).map((e) => ({ message: e.message, timestamp: e.at })), nextForwardToken: `f/${to}` };
  });
}

function setup(values: Record<string, string> = {}) {
  const time = fakeTime();
  const reporter: MemoryReporter = memoryReporter();
  const logged: string[] = [];
  const deps: RunDeps = {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    logsFor: () => new CloudWatchLogsClient({ region: 'eu-west-1' }),
    reporter,
    onLogLines: (lines) => logged.push(...lines),
    sleep: time.sleep,
    now: time.now,
  };
  const plan: RunPlan = planRun({
    inputs: inputsFrom({ cluster: CLUSTER, service: 'backend', command: 'bin/rails db:migrate', ...values }),
    service: backendService(),
    taskDefinition: backendTaskDef(),
    taskDefinitionRef: backendTaskDef().taskDefinitionArn!,
    identity,
  });
  return { time, reporter, logged, deps, plan, migration: new Migration(deps, plan) };
}

beforeEach(() => {
  ecsMock.reset();
  logsMock.reset();
  ecsMock.on(RunTaskCommand).resolves({ tasks: [task('PROVISIONING')], failures: [] });
  ecsMock.on(StopTaskCommand).resolves({});
});

describe('outcomeOfTask', () => {
  it.each([
    ['exit 0 of the named container is success, whatever the sidecar did', task('STOPPED', {}, 0), { result: 'succeeded', exitCode: 0 }],
    [
      'a non-zero exit fails with that code, why ECS stopped the task and how the other containers ended',
      task('STOPPED', {}, 3),
      {
        result: 'failed',
        exitCode: 3,
        stop: {
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          others: ['otel-collector exited 1'],
        },
      },
    ],
    [
      'no exit code means it never ran',
      task('STOPPED', {
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'CannotPullContainerError: pull access denied',
        startedAt: undefined,
      }),
      { result: 'not-started', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull access denied' },
    ],
  ])('%s', (_name, t, outcome) => {
    expect(outcomeOfTask(t, 'backend')).toEqual(outcome);
  });

  /** A stopped task whose sidecar is listed before the named container (ECS keeps the task definition's order). */
  const sidecarFirst = (sidecar: Partial<Container>, named: Partial<Container>): Task => ({
    ...task('STOPPED'),
    containers: [
      { name: 'otel-collector', ...sidecar },
      { name: 'backend', ...named },
    ],
  });
  it.each([
    [
      'the named container exits 0 after a sidecar exited 1',
      sidecarFirst({ exitCode: 1 }, { exitCode: 0 }),
      { result: 'succeeded', exitCode: 0 },
    ],
    [
      'the named container exits 2 after a sidecar exited 0',
      sidecarFirst({ exitCode: 0 }, { exitCode: 2 }),
      {
        result: 'failed',
        exitCode: 2,
        stop: {
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          others: ['otel-collector exited 0'],
        },
      },
    ],
    [
      'the named container never ran while a sidecar exited 0',
      sidecarFirst({ exitCode: 0, reason: 'sidecar reason' }, { reason: 'CannotStartContainerError: secret not found' }),
      {
        result: 'not-started',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containerReason: 'CannotStartContainerError: secret not found',
      },
    ],
    [
      'an exit code of null is not an exit',
      sidecarFirst({ exitCode: 0 }, { exitCode: null as unknown as number }),
      { result: 'not-started', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
    ],
  ])('judges the named container, not the first listed: %s', (_name, t, outcome) => {
    expect(outcomeOfTask(t, 'backend')).toEqual(outcome);
  });

  const stopped = { stopCode: 'TaskFailedToStart', stoppedReason: 'ResourceInitializationError: unable to pull secrets' } as const;
  it.each<[string, Task, object]>([
    ['a task without containers never ran', { ...stopped, containers: undefined }, { result: 'not-started', ...stopped }],
    [
      'a task without the named container never ran it (no reason of another container is borrowed)',
      { ...stopped, containers: [{ name: 'otel-collector', reason: 'sidecar reason' }] },
      { result: 'not-started', ...stopped },
    ],
    [
      'a failed run lists only the other containers that have an exit code',
      {
        ...stopped,
        containers: [
          { name: 'backend', exitCode: 137 },
          { name: 'never-started' },
          { name: 'null-exit', exitCode: null as unknown as number },
          { name: 'envoy', exitCode: 0 },
        ],
      },
      { result: 'failed', exitCode: 137, stop: { ...stopped, others: ['envoy exited 0'] } },
    ],
  ])('edges: %s', (_name, t, outcome) => {
    expect(outcomeOfTask(t, 'backend')).toEqual(outcome);
  });
});

describe('Migration', () => {
  it('starts with the planned request, follows to STOPPED, and shows every log line including those written at the end', async () => {
    const { time, migration, logged, reporter, plan } = setup();
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('PENDING')] })
      .resolvesOnce({ tasks: [task('RUNNING')] })
      .resolves({ tasks: [task('STOPPED', {}, 0)] });
    // Lines 1-2 while running, line 3 visible only after STOPPED was seen, line 4 a moment later.
    serveStream(
      time,
      [
        { at: 500, message: 'Running migrations' },
        { at: 1500, message: '== 20260101 CreateOrders: migrated' },
        { at: 3100, message: 'Migrations complete' },
        { at: 3400, message: 'bye\n' },
      ],
      { existsFrom: 400 },
    );

    await migration.start();
    expect(ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input).toEqual(plan.request);
    const { outcome } = await migration.follow({ timeoutMs: 60_000, pollMs: 5000 });

    expect(outcome).toEqual({ result: 'succeeded', exitCode: 0 });
    expect(logged).toEqual(['Running migrations', '== 20260101 CreateOrders: migrated', 'Migrations complete', 'bye']);
    expect(reporter.lines.filter((l) => l.startsWith('task '))).toEqual([
      'task 0123abcd: PENDING',
      'task 0123abcd: PENDING → RUNNING',
      'task 0123abcd: RUNNING → STOPPED',
    ]);
    expect(migration.logStream).toBe(STREAM);
    expect(migration.tail?.last.at(-1)).toBe('bye');
    expect(ecsMock.commandCalls(StopTaskCommand)).toHaveLength(0);
  });

  it('treats PENDING → STOPPED between two polls as normal and reports the exit code', async () => {
    const { time, migration, reporter } = setup();
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('PENDING')] })
      .resolves({ tasks: [task('STOPPED', {}, 1)] });
    serveStream(time, [{ at: 200, message: 'Error: relation "orders" already exists' }]);
    await migration.start();
    const { outcome } = await migration.follow({ timeoutMs: 60_000, pollMs: 5000 });
    expect(outcome).toMatchObject({ result: 'failed', exitCode: 1 });
    expect(reporter.lines).toContain('task 0123abcd: PENDING → STOPPED');
    expect(migration.tail?.last).toEqual(['Error: relation "orders" already exists']);
  });

  it('does not wait for a log stream of a container that never started', async () => {
    const { time, migration } = setup();
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        task('STOPPED', {
          startedAt: undefined,
          stopCode: 'TaskFailedToStart',
          stoppedReason: 'ResourceInitializationError: unable to pull secrets',
        }),
      ],
    });
    serveStream(time, [], { existsFrom: Infinity });
    await migration.start();
    const before = time.at();
    const { outcome } = await migration.follow({ timeoutMs: 60_000, pollMs: 5000 });
    expect(outcome).toMatchObject({
      result: 'not-started',
      stopCode: 'TaskFailedToStart',
      stoppedReason: expect.stringContaining('unable to pull secrets'),
    });
    expect(time.at() - before).toBeLessThan(1000);
  });

  it('turns RunTask failures[] into an error that says why', async () => {
    const { migration } = setup();
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:ENI', detail: 'no free IPs in subnet-0a1b2c3d' }] });
    await expect(migration.start()).rejects.toThrow(/RunTask started no task: RESOURCE:ENI \(no free IPs in subnet-0a1b2c3d\)/);
  });

  it('explains a ConflictException: the client token was used with other parameters', async () => {
    const { migration } = setup();
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('The client token was already used with different parameters.'), { name: 'ConflictException' }));
    await expect(migration.start()).rejects.toThrow(
      /RunTask refused client token migrate-1234567890-1-[0-9a-f]+: a task was already started with it and different parameters/,
    );
  });

  it('points a denied RunTask to the IAM policy (PassRole, TagResource)', async () => {
    const { migration } = setup();
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('User is not authorized to perform: iam:PassRole'), { name: 'AccessDeniedException' }));
    const err = await migration.start().catch((e) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect(err.message).toContain('iam:PassRole');
    expect(err.fix).toMatch(/ecs:TagResource .* iam:PassRole/);
  });

  it('on timeout sends StopTask, follows the stop and keeps the lines', async () => {
    const { time, migration } = setup();
    ecsMock
      .on(DescribeTasksCommand)
      .callsFake(() => ({ tasks: [ecsMock.commandCalls(StopTaskCommand).length > 0 ? task('STOPPED', {}, 143) : task('RUNNING')] }));
    serveStream(time, [{ at: 100, message: 'waiting for lock' }]);
    await migration.start();
    const { outcome } = await migration.follow({ timeoutMs: 12_000, pollMs: 5000 });
    expect(outcome).toEqual({ result: 'timed-out' });
    const stops = ecsMock.commandCalls(StopTaskCommand);
    expect(stops).toHaveLength(1);
    expect(stops[0]!.args[0].input).toMatchObject({ cluster: CLUSTER, task: TASK_ARN, reason: expect.stringContaining('timeout-minutes') });
    expect(migration.tail?.last).toEqual(['waiting for lock']);
  });

  it('stops following at once when cancelled, and sends StopTask only once however often it is asked', async () => {
    const { migration } = setup();
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task('RUNNING')] });
    logsMock.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 'f/0' });
    const controller = new AbortController();
    await migration.start();
    controller.abort();
    const { outcome } = await migration.follow({ timeoutMs: 60_000, pollMs: 5000, signal: controller.signal });
    expect(outcome).toEqual({ result: 'cancelled' });
    await Promise.all([migration.stop('workflow cancelled'), migration.stop('workflow cancelled')]);
    expect(ecsMock.commandCalls(StopTaskCommand).map((c) => c.args[0].input.reason)).toEqual(['workflow cancelled']);
  });

  it('stops the task a still-running RunTask starts when cancelled meanwhile', async () => {
    const { migration } = setup();
    let answer: (v: unknown) => void = () => undefined;
    ecsMock.on(RunTaskCommand).callsFake(() => new Promise((r) => (answer = r)));
    const started = migration.start();
    const stopped = migration.stop('workflow cancelled');
    await new Promise((r) => setTimeout(r, 10));
    answer({ tasks: [task('PROVISIONING')] });
    await Promise.all([started, stopped]);
    expect(ecsMock.commandCalls(StopTaskCommand)[0]!.args[0].input.task).toBe(TASK_ARN);
  });

  it('keeps following the task when the logs cannot be read, with one warning', async () => {
    const { migration, reporter } = setup();
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('RUNNING')] })
      .resolves({ tasks: [task('STOPPED', {}, 0)] });
    logsMock
      .on(GetLogEventsCommand)
      .rejects(Object.assign(new Error('not authorized to perform: logs:GetLogEvents'), { name: 'AccessDeniedException' }));
    await migration.start();
    const { outcome } = await migration.follow({ timeoutMs: 60_000, pollMs: 5000 });
    expect(outcome.result).toBe('succeeded');
    expect(reporter.lines.filter((l) => l.startsWith('warning:'))).toHaveLength(1);
  });

  it('reads long streams page by page, in order', async () => {
    const { time, migration, logged } = setup();
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('RUNNING')] })
      .resolves({ tasks: [task('STOPPED', {}, 0)] });
    const lines = Array.from({ length: 2500 }, (_, i) => ({ at: 100 + i, message: `line ${i + 1}` }));
    serveStream(time, lines, { pageSize: 1000 });
    await migration.start();
    await migration.follow({ timeoutMs: 60_000, pollMs: 5000 });
    expect(logged).toEqual(lines.map((l) => l.message));
  });
});

describe('guardConcurrent', () => {
  const other = {
    ...task('RUNNING'),
    taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/${CLUSTER}/ffff`,
    createdAt: new Date('2026-01-01T10:00:00Z'),
    tags: [],
  };

  it('lists by startedBy only (the one filter ECS allows with it)', async () => {
    const { deps, plan } = setup();
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    await guardConcurrent(deps, plan, { ifRunning: 'fail', timeoutMs: 60_000, pollMs: 5000 });
    expect(ecsMock.commandCalls(ListTasksCommand)[0]!.args[0].input).toEqual({ cluster: CLUSTER, startedBy: 'migrate/backend' });
  });

  it('refuses to start while another migration of the service runs, naming if-running', async () => {
    const { deps, plan } = setup();
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [other.taskArn] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [other] });
    const err = await guardConcurrent(deps, plan, { ifRunning: 'fail', timeoutMs: 60_000, pollMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect(err.location.input).toBe('if-running');
    expect(err.message).toMatch(/ffff \(RUNNING, started 2026-01-01T10:00:00.000Z\)/);
  });

  it('does not count the task this very step started (same client token) as another', async () => {
    const { deps, plan } = setup();
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [other.taskArn] });
    ecsMock
      .on(DescribeTasksCommand)
      .resolves({ tasks: [{ ...other, tags: [{ key: 'aws-deploy-actions:client-token', value: plan.request.clientToken }] }] });
    await expect(guardConcurrent(deps, plan, { ifRunning: 'fail', timeoutMs: 60_000, pollMs: 5000 })).resolves.toBeUndefined();
  });

  it('with if-running: wait, queues until the other one stopped', async () => {
    const { deps, plan, reporter } = setup();
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [other.taskArn] });
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [other] })
      .resolvesOnce({ tasks: [other] })
      .resolves({ tasks: [{ ...other, lastStatus: 'STOPPED' }] });
    await guardConcurrent(deps, plan, { ifRunning: 'wait', timeoutMs: 60_000, pollMs: 5000 });
    expect(reporter.lines.join('\n')).toMatch(/Waiting for another migration to finish: ffff/);
  });
});

describe('runMigration', () => {
  const other = {
    ...task('RUNNING'),
    taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/${CLUSTER}/ffff`,
    createdAt: new Date('2026-01-01T10:00:00Z'),
    tags: [],
  };

  /** Another migration that stops at fake time `otherStopsAt`; ours runs until StopTask. */
  function serve(time: ReturnType<typeof fakeTime>, otherStopsAt: number) {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [other.taskArn] });
    ecsMock.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => {
      if (input.tasks.includes(other.taskArn))
        return { tasks: [{ ...other, lastStatus: time.at() >= otherStopsAt ? 'STOPPED' : 'RUNNING' }] };
      return { tasks: [ecsMock.commandCalls(StopTaskCommand).length > 0 ? task('STOPPED', {}, 143) : task('RUNNING')] };
    });
  }

  it('gives the run only what the wait for another migration left of timeout-minutes', async () => {
    const { time, deps, migration } = setup();
    serve(time, 40_000);
    let stoppedAt: number | undefined;
    ecsMock.on(StopTaskCommand).callsFake(async () => {
      stoppedAt = time.at();
      return {};
    });
    const { outcome } = await runMigration(migration, { ifRunning: 'wait', timeoutMs: 60_000, pollMs: 5000 });
    expect(outcome).toEqual({ result: 'timed-out', waitedSeconds: 40 });
    // The whole step (wait + run) ends at the one 60 s budget, not 40 s + 60 s.
    expect(stoppedAt).toBe(60_000);
    expect((deps.reporter as MemoryReporter).lines.join('\n')).toMatch(/Waited 40 s for another migration: 20 s of timeout-minutes left/);
  });

  it('starts nothing when the wait used the whole budget', async () => {
    const { time, migration } = setup();
    serve(time, 60_000);
    const err = await runMigration(migration, { ifRunning: 'wait', timeoutMs: 60_000, pollMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect(err.location.input).toBe('timeout-minutes');
    expect(err.message).toMatch(/whole timeout-minutes budget \(60 s\) was spent waiting/);
    expect(ecsMock.commandCalls(RunTaskCommand)).toEqual([]);
  });
});
