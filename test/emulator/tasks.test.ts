/** One-off ECS tasks (RunTask) moved with an injected clock: lifecycle, exit codes, logs, StopTask, retention. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Emulator } from './index.js';
import { awsvpc, clockedEcs, fargateTaskDef, type clients, type manualClock } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;
let clock: ReturnType<typeof manualClock>;
const cluster = 'delivery-test';

beforeEach(async () => {
  ({ emu, c, clock } = await clockedEcs(cluster));
  emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-migrate', { logGroup: '/ecs/delivery-test' }));
});
afterEach(() => emu.stop());

async function run(startedBy = 'migrate-db'): Promise<Task> {
  const out = await c.ecs.send(
    new RunTaskCommand({
      cluster,
      taskDefinition: 'delivery-migrate',
      launchType: 'FARGATE',
      networkConfiguration: awsvpc,
      startedBy,
      tags: [{ key: 'run', value: '42' }],
    }),
  );
  return out.tasks![0]!;
}
async function describe1(task: Task): Promise<Task> {
  return (await c.ecs.send(new DescribeTasksCommand({ cluster, tasks: [task.taskArn!], include: ['TAGS'] }))).tasks![0]!;
}

describe('RunTask lifecycle', () => {
  it('goes PROVISIONING → PENDING → RUNNING → STOPPED and reports the exit code', async () => {
    emu.scenarios.nextTask(
      { family: 'delivery-migrate' },
      { exitCode: 0, pendingSeconds: 2, afterSeconds: 5, logLines: ['migrating', 'done'] },
    );
    const task = await run();
    expect(task).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      startedBy: 'migrate-db',
      group: 'family:delivery-migrate',
      tags: [{ key: 'run', value: '42' }],
    });
    const seen: string[] = [];
    for (const step of [0.5, 1, 1, 2, 2, 1]) {
      clock.advance(step);
      seen.push((await describe1(task)).lastStatus!);
    }
    expect(seen).toEqual(['PENDING', 'PENDING', 'RUNNING', 'RUNNING', 'RUNNING', 'STOPPED']);
    const stopped = await describe1(task);
    expect(stopped).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
    });
    expect(stopped.containers![0]).toMatchObject({ name: 'app', lastStatus: 'STOPPED', exitCode: 0 });
    expect(stopped.stoppedAt!.getTime() - stopped.startedAt!.getTime()).toBe(5000);
  });

  it('stops the task when an essential sidecar exits first: the sidecar has its exit code, the others 143', async () => {
    const def = fargateTaskDef('delivery-mesh', { logGroup: '/ecs/delivery-test' });
    def.containerDefinitions!.push({ name: 'envoy', image: 'public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.12.0-prod', essential: true });
    emu.ecs.registerTaskDefinition(def);
    emu.scenarios.nextTask({ family: 'delivery-mesh' }, { exitCode: 1, exitingContainer: 'envoy', pendingSeconds: 1, afterSeconds: 2 });
    const out = await c.ecs.send(
      new RunTaskCommand({ cluster, taskDefinition: 'delivery-mesh', launchType: 'FARGATE', networkConfiguration: awsvpc }),
    );
    clock.advance(3);
    const stopped = await describe1(out.tasks![0]!);
    expect(stopped).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
    });
    expect(stopped.containers!.map((x) => [x.name, x.exitCode])).toEqual([
      ['app', 143],
      ['envoy', 1],
    ]);
  });

  it('writes its lines into <prefix>/<container>/<task-id> as it runs', async () => {
    emu.scenarios.nextTask(
      { startedBy: 'migrate-db' },
      { exitCode: 1, pendingSeconds: 1, afterSeconds: 3, logLines: ['one', 'two', 'boom'] },
    );
    const task = await run();
    const stream = `ecs/app/${task.taskArn!.split('/').pop()}`;
    const read = async () =>
      (
        await c.logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/delivery-test', logStreamName: stream, startFromHead: true }))
      ).events!.map((e) => e.message);
    clock.advance(2);
    expect(await read()).toEqual(['one']);
    clock.advance(3);
    expect(await read()).toEqual(['one', 'two', 'boom']);
    expect(emu.logs.events('/ecs/delivery-test', stream).map((e) => e.message)).toEqual(['one', 'two', 'boom']);
    expect((await describe1(task)).containers![0]!.exitCode).toBe(1);
    const streams = await c.logs.send(
      new DescribeLogStreamsCommand({ logGroupName: '/ecs/delivery-test', logStreamNamePrefix: 'ecs/app/' }),
    );
    expect(streams.logStreams!.map((s) => s.logStreamName)).toEqual([stream]);
    const filtered = await c.logs.send(new FilterLogEventsCommand({ logGroupName: '/ecs/delivery-test', filterPattern: 'boom' }));
    expect(filtered.events!.map((e) => [e.logStreamName, e.message])).toEqual([[stream, 'boom']]);
  });

  it('a task that fails to start never runs and carries stopCode and reason', async () => {
    const reason = 'ResourceInitializationError: unable to pull secrets or registry auth';
    emu.scenarios.nextTask({}, { pendingSeconds: 1, failToStart: { stoppedReason: reason } });
    const task = await run();
    clock.advance(1);
    const t = await describe1(task);
    expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: reason });
    expect(t.startedAt).toBeUndefined();
    expect(t.containers![0]!.exitCode).toBeUndefined();
  });

  it('matches scenarios by family and startedBy; unmatched tasks exit 0 after 1 s', async () => {
    emu.scenarios.nextTask({ startedBy: 'someone-else' }, { exitCode: 9 });
    const task = await run('migrate-db');
    clock.advance(1.5);
    const t = await describe1(task);
    expect([t.lastStatus, t.containers![0]!.exitCode]).toEqual(['STOPPED', 0]);
  });
});

describe('RunTask idempotency', () => {
  it("a retry with the same clientToken returns the first call's task and starts nothing new", async () => {
    const input = {
      cluster,
      taskDefinition: 'delivery-migrate',
      launchType: 'FARGATE' as const,
      networkConfiguration: awsvpc,
      clientToken: 'migrate-run-42',
    };
    const first = await c.ecs.send(new RunTaskCommand(input));
    const again = await c.ecs.send(new RunTaskCommand(input));
    expect(again.tasks!.map((t) => t.taskArn)).toEqual(first.tasks!.map((t) => t.taskArn));
    expect((await c.ecs.send(new ListTasksCommand({ cluster }))).taskArns).toHaveLength(1);
    const err = await c.ecs.send(new RunTaskCommand({ ...input, startedBy: 'someone-else' })).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ConflictException');
  });
});

describe('StopTask', () => {
  it('stops a running task with UserInitiated, the given reason and exit code 143', async () => {
    emu.scenarios.nextTask({}, { pendingSeconds: 0.5, afterSeconds: 600 });
    const task = await run();
    clock.advance(1);
    const out = await c.ecs.send(new StopTaskCommand({ cluster, task: task.taskArn!, reason: 'Cancelled by workflow run 42' }));
    expect(out.task).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING' });
    clock.advance(1);
    const t = await describe1(task);
    expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Cancelled by workflow run 42' });
    expect(t.containers![0]!.exitCode).toBe(143);
  });
});

describe('ListTasks and retention', () => {
  it('filters by desiredStatus and startedBy, and forgets stopped tasks after an hour', async () => {
    const task = await run('migrate-db');
    await run('other');
    const list = async (input: { desiredStatus?: 'RUNNING' | 'STOPPED'; startedBy?: string }) =>
      (await c.ecs.send(new ListTasksCommand({ cluster, ...input }))).taskArns!;
    expect(await list({ startedBy: 'migrate-db' })).toEqual([task.taskArn]);
    clock.advance(2);
    expect(await list({})).toEqual([]);
    expect(await list({ desiredStatus: 'STOPPED' })).toHaveLength(2);
    clock.advance(3600);
    expect(await list({ desiredStatus: 'STOPPED' })).toEqual([]);
    const gone = await c.ecs.send(new DescribeTasksCommand({ cluster, tasks: [task.taskArn!] }));
    expect(gone.failures).toEqual([{ arn: task.taskArn, reason: 'MISSING' }]);
  });
});
