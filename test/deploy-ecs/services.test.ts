import { DescribeServicesCommand, ECSClient, ListServiceDeploymentsCommand, type Service, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { mapLimit } from '../../lib/pool.js';
import { describeServices, servicesBefore, updateService } from '../../actions/deploy-ecs/services.js';
import { ActionError } from '../../lib/errors.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
// The rollback target (stableRevision / rollbackTarget) is tested in rollback-target.test.ts.

describe('mapLimit', () => {
  it('never runs more than the limit at once and keeps the order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
  });
});

const ecs = mockClient(ECSClient);
afterEach(() => ecs.reset());
const client = () => new ECSClient({ region: 'eu-west-1' });

describe('servicesBefore: what cannot be deployed fails before any write, naming the services input', () => {
  const arn = (name: string) => `arn:aws:ecs:eu-west-1:123456789012:service/prod/${name}`;

  it.each<[string, Service[], string[], RegExp]>([
    ['a missing service (DescribeServices failure)', [], ['api'], /Service 'api' was not found in cluster 'prod'\./],
    [
      'a service neither described nor listed as a failure',
      [],
      [],
      /Service 'api' was not found in cluster 'prod'\..*Create the service first, or fix its name\./s,
    ],
    [
      'a service described and also listed as a failure',
      [{ serviceName: 'api', status: 'ACTIVE' }],
      ['api'],
      /Service 'api' was not found in cluster 'prod'\./,
    ],
    [
      'an INACTIVE service',
      [{ serviceName: 'api', status: 'INACTIVE' }],
      [],
      /Service 'api' is INACTIVE\. Deploy only to ACTIVE services\./,
    ],
    [
      'a CODE_DEPLOY service',
      [{ serviceName: 'api', status: 'ACTIVE', deploymentController: { type: 'CODE_DEPLOY' } }],
      [],
      /Service 'api' uses the CODE_DEPLOY deployment controller\..*Set codedeploy-application and codedeploy-deployment-group/s,
    ],
  ])('%s', async (_label, services, failures, message) => {
    ecs.on(DescribeServicesCommand).resolves({ services, failures: failures.map((n) => ({ arn: arn(n), reason: 'MISSING' })) });
    const err = await servicesBefore(client(), 'prod', ['api']).then(
      () => undefined,
      (e: unknown) => e as ActionError,
    );
    expect(err).toBeInstanceOf(ActionError);
    expect(err!.location.input).toBe('services');
    expect(`${err!.message} ${err!.fix}`).toMatch(message);
  });

  it('an ECS controller (or none named) is deployable; every service is described in batches of 10', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
      services: input.services.map((n, i) => ({
        serviceName: n,
        status: 'ACTIVE',
        ...(i % 2 ? { deploymentController: { type: 'ECS' as const } } : {}),
      })),
    }));
    const found = await servicesBefore(client(), 'prod', names);
    expect([...found.keys()].sort()).toEqual([...names].sort());
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services!.length)).toEqual([10, 2]);
  });

  it('every service that cannot be deployed is listed at once', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'web', status: 'DRAINING' }], failures: [{ arn: arn('api'), reason: 'MISSING' }] });
    await expect(servicesBefore(client(), 'prod', ['api', 'web'])).rejects.toThrow(
      /^Services cannot be deployed \(2 problems\):\n.*Service 'api' was not found.*\n.*Service 'web' is DRAINING\./,
    );
  });

  it('a missing cluster names the cluster input', async () => {
    ecs.on(DescribeServicesCommand).rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    await expect(servicesBefore(client(), 'prod', ['api'])).rejects.toMatchObject({
      message: "Cluster 'prod' was not found.",
      location: { input: 'cluster' },
      fix: 'Check the cluster name and the region (aws-region).',
    });
  });

  it('another error is passed on as it is', async () => {
    ecs.on(DescribeServicesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(servicesBefore(client(), 'prod', ['api'])).rejects.toMatchObject({
      message: 'Rate exceeded',
      name: 'ThrottlingException',
    });
  });
});

describe('updateService: the deployment it created is the one followed', () => {
  it('follows the PRIMARY deployment of the target revision, sends forceNewDeployment only when true', async () => {
    ecs.on(UpdateServiceCommand).resolves({
      service: {
        deployments: [
          { id: 'ecs-svc/old', status: 'ACTIVE', taskDefinition: TD(6) },
          { id: 'ecs-svc/earlier-try', status: 'ACTIVE', taskDefinition: TD(7) },
          { id: 'ecs-svc/other', status: 'PRIMARY', taskDefinition: TD(8) },
          { id: 'ecs-svc/new', status: 'PRIMARY', taskDefinition: TD(7) },
        ],
      },
    });
    const t = await updateService(
      client(),
      'prod',
      { service: 'api', taskDefinition: TD(7), forceNewDeployment: false, desiredCount: 3 },
      () => 42,
    );
    expect(t).toEqual({ service: 'api', deploymentId: 'ecs-svc/new', serviceDeploymentArn: undefined, targetArn: TD(7), startedAt: 42 });
    expect(ecs.commandCalls(UpdateServiceCommand)[0]!.args[0].input).toEqual({
      cluster: 'prod',
      service: 'api',
      taskDefinition: TD(7),
      forceNewDeployment: undefined,
      desiredCount: 3,
    });
    await updateService(client(), 'prod', { service: 'api', taskDefinition: TD(7), forceNewDeployment: true }, () => 42);
    expect(ecs.commandCalls(UpdateServiceCommand)[1]!.args[0].input.forceNewDeployment).toBe(true);
  });

  it.each<[string, Service, string | undefined, number]>([
    ['a rolling service: no service deployment looked up', { deploymentConfiguration: { strategy: 'ROLLING' } }, undefined, 0],
    [
      'a blue/green service that names its current service deployment',
      { deploymentConfiguration: { strategy: 'BLUE_GREEN' }, currentServiceDeployment: 'arn:sd/current' },
      'arn:sd/current',
      0,
    ],
    [
      'a blue/green service that does not: the newest listed since a minute before the update',
      { deploymentConfiguration: { strategy: 'BLUE_GREEN' } },
      'arn:sd/listed',
      1,
    ],
  ])('%s', async (_label, service, sdArn, listCalls) => {
    ecs.on(UpdateServiceCommand).resolves({ service });
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [{ serviceDeploymentArn: 'arn:sd/listed' }, { serviceDeploymentArn: 'arn:sd/older' }] });
    const t = await updateService(client(), 'prod', { service: 'api', taskDefinition: TD(7), forceNewDeployment: false }, () => 100_000);
    expect(t.serviceDeploymentArn).toBe(sdArn);
    const calls = ecs.commandCalls(ListServiceDeploymentsCommand);
    expect(calls).toHaveLength(listCalls);
    if (listCalls) expect(calls[0]!.args[0].input).toEqual({ cluster: 'prod', service: 'api', createdAt: { after: new Date(40_000) } });
  });

  it.each([
    ['no service in the answer', {}],
    ['a service without deployments', { service: {} }],
  ])('%s: no deployment id to follow', async (_label, answer) => {
    ecs.on(UpdateServiceCommand).resolves(answer);
    const t = await updateService(client(), 'prod', { service: 'api', taskDefinition: TD(7), forceNewDeployment: false }, () => 0);
    expect(t).toEqual({ service: 'api', deploymentId: undefined, serviceDeploymentArn: undefined, targetArn: TD(7), startedAt: 0 });
  });

  it('without the service deployments API, the deployment id alone is followed', async () => {
    ecs.on(UpdateServiceCommand).resolves({
      service: {
        deploymentConfiguration: { strategy: 'CANARY' },
        deployments: [{ id: 'ecs-svc/new', status: 'PRIMARY', taskDefinition: TD(7) }],
      },
    });
    ecs.on(ListServiceDeploymentsCommand).rejects(Object.assign(new Error('not supported'), { name: 'InvalidParameterException' }));
    const t = await updateService(client(), 'prod', { service: 'api', taskDefinition: TD(7), forceNewDeployment: false }, () => 0);
    expect(t).toMatchObject({ deploymentId: 'ecs-svc/new', serviceDeploymentArn: undefined });
  });
});

describe('describeServices: what was found and what was not', () => {
  it('names a missing service by the last part of its ARN; a failure without an ARN names nothing', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'api', status: 'ACTIVE' }, { status: 'ACTIVE' }],
      failures: [{ reason: 'MISSING' }, { arn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web', reason: 'MISSING' }],
    });
    const r = await describeServices(client(), 'prod', ['api', 'web']);
    expect([...r.found.keys()]).toEqual(['api']);
    expect(r.missing).toEqual(['web']);
  });

  it('an answer without services or failures: nothing found, nothing missing', async () => {
    ecs.on(DescribeServicesCommand).resolves({});
    const r = await describeServices(client(), 'prod', ['api']);
    expect(r).toEqual({ found: new Map(), missing: [] });
    await expect(servicesBefore(client(), 'prod', ['api'])).rejects.toThrow("Service 'api' was not found in cluster 'prod'.");
  });

  it('another deployment controller (EXTERNAL): refused, naming the controllers this action deploys', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'api', status: 'ACTIVE', deploymentController: { type: 'EXTERNAL' } }] });
    await expect(servicesBefore(client(), 'prod', ['api'])).rejects.toMatchObject({
      message: "Service 'api' uses the EXTERNAL deployment controller.",
      location: { input: 'services' },
      fix: 'This action deploys services with the ECS controller (rolling or ECS-native blue/green) or CODE_DEPLOY (with the codedeploy-* inputs).',
    });
  });
});

describe('updateService: a rolling service with a PAUSE hook', () => {
  it('is followed through its service deployment (its pauses show only there); none listed: none followed', async () => {
    ecs.on(UpdateServiceCommand).resolves({
      service: {
        deploymentConfiguration: {
          strategy: 'ROLLING',
          lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_SCALE_UP'] }],
        },
      },
    });
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [{ serviceDeploymentArn: 'arn:sd/paused' }] })
      .resolves({});
    const req = { service: 'api', taskDefinition: TD(7), forceNewDeployment: false };
    expect((await updateService(client(), 'prod', req, () => 0)).serviceDeploymentArn).toBe('arn:sd/paused');
    expect((await updateService(client(), 'prod', req, () => 0)).serviceDeploymentArn).toBeUndefined();
  });
});

describe('mapLimit with fewer items than the limit', () => {
  it('runs each item once', async () => {
    const seen: number[] = [];
    expect(await mapLimit([1, 2], 5, async (n, i) => (seen.push(i), n + 1))).toEqual([2, 3]);
    expect(seen).toEqual([0, 1]);
    expect(await mapLimit([], 3, async (n: number) => n)).toEqual([]);
  });
});
