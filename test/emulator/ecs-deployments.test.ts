/**
 * ECS deployment and task state machines, moved with an injected clock:
 * PRIMARY/ACTIVE, rolloutState, counts, events, circuit-breaker rollback,
 * task lifecycles, stop codes and the logs failing tasks leave behind.
 */
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Emulator } from './index.js';
import { awsvpc, clockedEcs, fargateTaskDef, type clients, type manualClock } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;
let clock: ReturnType<typeof manualClock>;
const cluster = 'delivery-test';

beforeEach(async () => {
  ({ emu, c, clock } = await clockedEcs(cluster));
  emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-api'));
  emu.ecs.createService({
    cluster,
    serviceName: 'api',
    taskDefinition: 'delivery-api:1',
    desiredCount: 2,
    networkConfiguration: awsvpc,
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
  });
  clock.advance(60);
  await c.ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDef('delivery-api', { image: 'repo/backend:v2' })));
});
afterEach(() => emu.stop());

async function service(): Promise<Service> {
  return (await c.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
}
const deploy = () => c.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', taskDefinition: 'delivery-api:2' }));
const summary = (s: Service) =>
  s.deployments!.map((d) => [d.status, d.taskDefinition!.split('/')[1], d.rolloutState, d.runningCount, d.pendingCount]);

describe('a rollout that succeeds', () => {
  it('moves PRIMARY IN_PROGRESS → COMPLETED while the old deployment drains, with ECS events', async () => {
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 4 });
    await deploy();
    expect(summary(await service())).toEqual([
      ['PRIMARY', 'delivery-api:2', 'IN_PROGRESS', 0, 2],
      ['ACTIVE', 'delivery-api:1', 'COMPLETED', 2, 0],
    ]);
    clock.advance(2.5);
    const mid = await service();
    expect(summary(mid)[0]).toEqual(['PRIMARY', 'delivery-api:2', 'IN_PROGRESS', 2, 0]);
    expect([mid.runningCount, mid.pendingCount]).toEqual([4, 0]);
    clock.advance(2);
    const done = await service();
    expect(summary(done)).toEqual([['PRIMARY', 'delivery-api:2', 'COMPLETED', 2, 0]]);
    expect(done.taskDefinition).toMatch(/delivery-api:2$/);
    const messages = done.events!.map((e) => e.message!);
    expect(messages[0]).toBe('(service api) has reached a steady state.');
    expect(messages[1]).toBe(`(service api) (deployment ${done.deployments![0]!.id}) deployment completed.`);
    expect(messages[2]).toMatch(/^\(service api\) has stopped 2 running tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/);
    expect(messages[3]).toMatch(/^\(service api\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/);
    expect(done.events![0]!.createdAt!.getTime()).toBeGreaterThan(done.events![3]!.createdAt!.getTime());
  });

  it('stops the replaced tasks with ServiceSchedulerInitiated', async () => {
    const old = (await c.ecs.send(new ListTasksCommand({ cluster, serviceName: 'api' }))).taskArns!;
    const { service: updated } = await deploy();
    clock.advance(1.5);
    const { tasks } = await c.ecs.send(new DescribeTasksCommand({ cluster, tasks: old }));
    expect(tasks!.map((t) => [t.lastStatus, t.desiredStatus, t.stopCode, t.stoppedReason])).toEqual(
      old.map(() => [
        'STOPPED',
        'STOPPED',
        'ServiceSchedulerInitiated',
        `Scaling activity initiated by (deployment ${updated!.deployments![0]!.id})`,
      ]),
    );
  });

  it('a newer UpdateService interrupts the running rollout', async () => {
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'stuck' });
    await deploy();
    clock.advance(10);
    expect(summary(await service())[0]).toEqual(['PRIMARY', 'delivery-api:2', 'IN_PROGRESS', 0, 2]);
    await c.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', taskDefinition: 'delivery-api:1' }));
    clock.advance(1);
    expect(summary(await service())).toEqual([['PRIMARY', 'delivery-api:1', 'COMPLETED', 2, 0]]);
  });

  it('scales in place when only desiredCount changes', async () => {
    await c.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', desiredCount: 3 }));
    expect(summary(await service())).toEqual([['PRIMARY', 'delivery-api:1', 'COMPLETED', 2, 1]]);
    clock.advance(1);
    const s = await service();
    expect([s.desiredCount, s.runningCount, s.deployments!.length]).toEqual([3, 3, 1]);
  });
});

describe('a rollout that fails', () => {
  it('keeps stopping the new tasks with the given exit code and logs, then FAILED (no rollback)', async () => {
    emu.scenarios.nextRollout(
      { cluster, service: 'api' },
      { result: 'fail', afterSeconds: 3, exitCode: 3, logLines: ['booting', 'Error: DATABASE_URL is not set'] },
    );
    const { service: started } = await deploy();
    const id = started!.deployments![0]!.id!;
    clock.advance(1.5);
    const mid = await service();
    expect(mid.deployments![0]).toMatchObject({ rolloutState: 'IN_PROGRESS', failedTasks: 2 });
    clock.advance(2);
    const failed = await service();
    expect(summary(failed)).toEqual([
      ['PRIMARY', 'delivery-api:2', 'FAILED', 0, 0],
      ['ACTIVE', 'delivery-api:1', 'COMPLETED', 2, 0],
    ]);
    expect(failed.deployments![0]).toMatchObject({
      failedTasks: 6,
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
    });
    expect(failed.events![0]!.message).toBe(`(service api) (deployment ${id}) deployment failed: tasks failed to start.`);

    const stopped = await c.ecs.send(new ListTasksCommand({ cluster, startedBy: id, desiredStatus: 'STOPPED' }));
    expect(stopped.taskArns).toHaveLength(6);
    const { tasks } = await c.ecs.send(new DescribeTasksCommand({ cluster, tasks: stopped.taskArns! }));
    const task = tasks![0]!;
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      group: 'service:api',
    });
    expect(task.containers![0]).toMatchObject({ name: 'app', lastStatus: 'STOPPED', exitCode: 3 });
    const taskId = task.taskArn!.split('/').pop();
    const logs = await c.logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/delivery-api', logStreamName: `ecs/app/${taskId}`, startFromHead: true }),
    );
    expect(logs.events!.map((e) => e.message)).toEqual(['booting', 'Error: DATABASE_URL is not set']);
  });

  it('an UpdateService during a failing rollout cancels the waves that had not launched yet, and their logs', async () => {
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'fail', afterSeconds: 3, exitCode: 1, logLines: ['crash'] });
    const { service: started } = await deploy();
    clock.advance(0.5);
    await c.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', taskDefinition: 'delivery-api:1' }));
    clock.advance(10);
    const stopped = await c.ecs.send(new ListTasksCommand({ cluster, startedBy: started!.deployments![0]!.id, desiredStatus: 'STOPPED' }));
    expect(stopped.taskArns).toHaveLength(2);
    const streams = await c.logs.send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/delivery-api' }));
    expect(streams.logStreams).toHaveLength(2);
    expect(summary(await service())).toEqual([['PRIMARY', 'delivery-api:1', 'COMPLETED', 2, 0]]);
  });

  it('tasks that cannot start stop with TaskFailedToStart and the reason on the container', async () => {
    const reason = 'CannotPullContainerError: pull image manifest has been retried 5 time(s): repo/backend:v2 not found';
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'fail', afterSeconds: 3, stoppedReason: reason });
    const { service: started } = await deploy();
    clock.advance(1.5);
    const stopped = await c.ecs.send(new ListTasksCommand({ cluster, startedBy: started!.deployments![0]!.id, desiredStatus: 'STOPPED' }));
    const { tasks } = await c.ecs.send(new DescribeTasksCommand({ cluster, tasks: stopped.taskArns! }));
    expect(tasks![0]).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: reason });
    expect(tasks![0]!.startedAt).toBeUndefined();
    expect(tasks![0]!.containers![0]).toMatchObject({ reason });
    expect(tasks![0]!.containers![0]!.exitCode).toBeUndefined();
  });

  it('with the circuit breaker rollback, ECS makes the previous task definition PRIMARY again', async () => {
    emu.scenarios.nextRollout(
      { cluster, service: 'api' },
      { result: 'fail', afterSeconds: 3, exitCode: 1, circuitBreakerRollback: true, rollbackSeconds: 2 },
    );
    const before = await service();
    const previousId = before.deployments![0]!.id!;
    const { service: started } = await deploy();
    const failedId = started!.deployments![0]!.id!;
    clock.advance(3.5);
    const rolling = await service();
    expect(summary(rolling)).toEqual([
      ['PRIMARY', 'delivery-api:1', 'IN_PROGRESS', 0, 2],
      ['ACTIVE', 'delivery-api:2', 'FAILED', 0, 0],
      ['ACTIVE', 'delivery-api:1', 'COMPLETED', 2, 0],
    ]);
    expect(rolling.deployments![0]!.rolloutStateReason).toBe(`ECS deployment circuit breaker: rolling back to deploymentId ${previousId}.`);
    const recent = rolling.events!.map((e) => e.message);
    expect(recent[0]).toMatch(/^\(service api\) has started 2 tasks: /);
    expect(recent.slice(1, 3)).toEqual([
      `(service api) rolling back to deployment ${previousId}.`,
      `(service api) (deployment ${failedId}) deployment failed: tasks failed to start.`,
    ]);
    clock.advance(2);
    const settled = await service();
    expect(summary(settled)).toEqual([['PRIMARY', 'delivery-api:1', 'COMPLETED', 2, 0]]);
    expect(settled.taskDefinition).toMatch(/delivery-api:1$/);
    expect(settled.events![0]!.message).toBe('(service api) has reached a steady state.');
  });
});

describe('service deployments API', () => {
  it('reports IN_PROGRESS → ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL for a rolled-back deployment', async () => {
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'fail', afterSeconds: 3, circuitBreakerRollback: true });
    await deploy();
    const list = async () => (await c.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api' }))).serviceDeployments!;
    const [latest, initial] = await list();
    expect([latest!.status, initial!.status]).toEqual(['IN_PROGRESS', 'SUCCESSFUL']);
    clock.advance(3.5);
    expect((await list())[0]!.status).toBe('ROLLBACK_IN_PROGRESS');
    clock.advance(1);
    const arn = (await list())[0]!.serviceDeploymentArn!;
    const { serviceDeployments } = await c.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
    const d = serviceDeployments![0]!;
    expect(d).toMatchObject({ status: 'ROLLBACK_SUCCESSFUL', statusReason: 'ECS deployment circuit breaker: tasks failed to start.' });
    expect(d.deploymentCircuitBreaker).toMatchObject({ status: 'TRIGGERED', failureCount: 6, threshold: 3 });
    expect(d.rollback?.serviceRevisionArn).toBe(d.sourceServiceRevisions![0]!.arn);
    expect(d.targetServiceRevision).toMatchObject({ runningTaskCount: 0 });
  });

  it('reports SUCCESSFUL with finishedAt for a good rollout and MISSING for unknown ARNs', async () => {
    await deploy();
    clock.advance(1);
    const [latest] = (await c.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api', status: ['SUCCESSFUL'] })))
      .serviceDeployments!;
    const out = await c.ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [latest!.serviceDeploymentArn!, 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/x/y/z'],
      }),
    );
    expect(out.serviceDeployments![0]).toMatchObject({
      status: 'SUCCESSFUL',
      targetServiceRevision: { requestedTaskCount: 2, runningTaskCount: 2 },
    });
    expect(out.serviceDeployments![0]!.finishedAt).toBeInstanceOf(Date);
    expect(out.failures).toEqual([{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/x/y/z', reason: 'MISSING' }]);
  });
});
