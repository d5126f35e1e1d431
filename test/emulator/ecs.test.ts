/** ECS API behaviours from the API reference: limits, pagination, error codes, ARNs — through the real SDK client. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientException,
  ClusterNotFoundException,
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
  paginateListTaskDefinitions,
} from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from './index.js';
import { awsvpc, clients, fargateTaskDef } from './fixtures.js';

let emu: Emulator;
let ecs: ReturnType<typeof clients>['ecs'];

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  ecs = clients(emu).ecs;
  emu.ecs.createCluster('delivery-test');
  emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-api'));
  for (const name of ['api', 'worker', 'admin']) {
    emu.ecs.createService({
      cluster: 'delivery-test',
      serviceName: name,
      taskDefinition: 'delivery-api',
      desiredCount: 2,
      networkConfiguration: awsvpc,
    });
  }
});
afterAll(() => emu.stop());

describe('clusters', () => {
  it('DescribeClusters reports unknown clusters as MISSING failures, not errors', async () => {
    const out = await ecs.send(new DescribeClustersCommand({ clusters: ['delivery-test', 'nope'] }));
    expect(out.clusters?.map((c) => [c.clusterName, c.status, c.activeServicesCount, c.runningTasksCount])).toEqual([
      ['delivery-test', 'ACTIVE', 3, 6],
    ]);
    expect(out.failures).toEqual([{ arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/nope', reason: 'MISSING' }]);
  });
});

describe('task definitions', () => {
  it('numbers revisions per family and resolves family, family:revision and ARN', async () => {
    const a = await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDef('revs')));
    const b = await ecs.send(new RegisterTaskDefinitionCommand({ ...fargateTaskDef('revs'), cpu: '512', memory: '1024' }));
    expect([a.taskDefinition?.revision, b.taskDefinition?.revision]).toEqual([1, 2]);
    expect(b.taskDefinition?.taskDefinitionArn).toBe('arn:aws:ecs:eu-west-1:123456789012:task-definition/revs:2');
    for (const ref of ['revs', 'revs:2', b.taskDefinition!.taskDefinitionArn!]) {
      const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref }));
      expect(out.taskDefinition?.cpu).toBe('512');
    }
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'revs:1' }))).taskDefinition?.registeredAt).toBeInstanceOf(
      Date,
    );
  });

  it('deregistering makes a revision INACTIVE and hides it from the ACTIVE list', async () => {
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'revs:2' }));
    const active = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'revs' }));
    const inactive = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'revs', status: 'INACTIVE' }));
    expect(active.taskDefinitionArns?.map((a) => a.split('/')[1])).toEqual(['revs:1']);
    expect(inactive.taskDefinitionArns?.map((a) => a.split('/')[1])).toEqual(['revs:2']);
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'revs' }))).taskDefinition?.revision).toBe(1);
  });

  it('paginates ListTaskDefinitions with maxResults and nextToken', async () => {
    for (let i = 0; i < 5; i++) emu.ecs.registerTaskDefinition(fargateTaskDef('paged'));
    const first = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'paged', maxResults: 2 }));
    expect(first.taskDefinitionArns).toHaveLength(2);
    expect(first.nextToken).toBeTruthy();
    const all: string[] = [];
    for await (const page of paginateListTaskDefinitions({ client: ecs, pageSize: 2 }, { familyPrefix: 'paged', sort: 'DESC' }))
      all.push(...(page.taskDefinitionArns ?? []));
    expect(all.map((a) => a.split(':').pop())).toEqual(['5', '4', '3', '2', '1']);
  });

  it.each([
    ['an unknown family', { taskDefinition: 'nope' }],
    ['an unknown revision', { taskDefinition: 'revs:99' }],
  ])('DescribeTaskDefinition of %s is a ClientException', async (_n, input) => {
    await expect(ecs.send(new DescribeTaskDefinitionCommand(input))).rejects.toBeInstanceOf(ClientException);
  });

  it('rejects a Fargate definition that logs to awslogs without an execution role', async () => {
    const { executionRoleArn: _drop, ...def } = fargateTaskDef('norole');
    const err = await ecs.send(new RegisterTaskDefinitionCommand(def)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientException);
    expect((err as Error).message).toMatch(/execution role/);
  });
});

describe('services', () => {
  it('DescribeServices takes at most 10 names (InvalidParameterException)', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `s${i}`);
    await expect(ecs.send(new DescribeServicesCommand({ cluster: 'delivery-test', services: names }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('DescribeServices returns a steady seeded service and MISSING failures', async () => {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: 'delivery-test', services: ['api', 'ghost'] }));
    const api = out.services?.[0];
    expect(api).toMatchObject({
      serviceName: 'api',
      status: 'ACTIVE',
      desiredCount: 2,
      runningCount: 2,
      pendingCount: 0,
      launchType: 'FARGATE',
    });
    expect(api?.deployments?.map((d) => [d.status, d.rolloutState, d.runningCount])).toEqual([['PRIMARY', 'COMPLETED', 2]]);
    expect(api?.events?.[0]?.message).toBe('(service api) has reached a steady state.');
    expect(out.failures).toEqual([{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service/delivery-test/ghost', reason: 'MISSING' }]);
  });

  it.each([
    ['an unknown cluster', { cluster: 'nope', service: 'api' }, ClusterNotFoundException],
    ['an unknown service', { cluster: 'delivery-test', service: 'ghost' }, ServiceNotFoundException],
  ])('UpdateService on %s', async (_n, input, type) => {
    await expect(ecs.send(new UpdateServiceCommand({ ...input, forceNewDeployment: true }))).rejects.toBeInstanceOf(type);
  });

  it('CreateService twice with the same name is not idempotent (InvalidParameterException)', async () => {
    const input = {
      cluster: 'delivery-test',
      serviceName: 'api',
      taskDefinition: 'delivery-api',
      desiredCount: 1,
      networkConfiguration: awsvpc,
    };
    await expect(ecs.send(new CreateServiceCommand(input))).rejects.toThrow('Creation of service was not idempotent.');
  });

  it('ListServices pages with the default of 10 and maxResults', async () => {
    const out = await ecs.send(new ListServicesCommand({ cluster: 'delivery-test', maxResults: 2 }));
    expect(out.serviceArns).toHaveLength(2);
    const rest = await ecs.send(new ListServicesCommand({ cluster: 'delivery-test', nextToken: out.nextToken }));
    expect(rest.serviceArns).toEqual(['arn:aws:ecs:eu-west-1:123456789012:service/delivery-test/admin']);
    expect(rest.nextToken).toBeUndefined();
  });
});

describe('tasks', () => {
  it("lists a service's tasks by serviceName, each with group service:<name> and startedBy its deployment", async () => {
    const list = await ecs.send(new ListTasksCommand({ cluster: 'delivery-test', serviceName: 'api' }));
    expect(list.taskArns).toHaveLength(2);
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster: 'delivery-test', tasks: list.taskArns! }));
    const service = await ecs.send(new DescribeServicesCommand({ cluster: 'delivery-test', services: ['api'] }));
    for (const t of tasks ?? []) {
      expect(t).toMatchObject({
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        group: 'service:api',
        startedBy: service.services?.[0]?.deployments?.[0]?.id,
      });
    }
  });

  it('DescribeTasks takes at most 100 tasks (InvalidParameterException)', async () => {
    const refs = Array.from({ length: 101 }, (_, i) => `t${i}`);
    await expect(ecs.send(new DescribeTasksCommand({ cluster: 'delivery-test', tasks: refs }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('RunTask of an awsvpc definition needs a network configuration', async () => {
    const err = await ecs
      .send(new RunTaskCommand({ cluster: 'delivery-test', taskDefinition: 'delivery-api', launchType: 'FARGATE' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect((err as Error).message).toBe("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  });

  it('RunTask of an unknown task definition is an InvalidParameterException', async () => {
    await expect(
      ecs.send(new RunTaskCommand({ cluster: 'delivery-test', taskDefinition: 'nope:1', networkConfiguration: awsvpc })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});
