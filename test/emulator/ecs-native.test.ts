/**
 * ECS-native strategies, StopServiceDeployment, another deployer and a FAILED primary in the
 * emulator, moved with an injected clock (the behaviours deploy-ecs's judging relies on).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import type { Emulator } from './index.js';
import { awsvpc, clockedEcs, fargateTaskDef, type clients, type manualClock } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;
let clock: ReturnType<typeof manualClock>;
const cluster = 'native-test';

function seed(serviceName: string, strategy: string, rollback = false) {
  emu.ecs.createService({
    cluster,
    serviceName,
    taskDefinition: 'native-api:1',
    desiredCount: 2,
    networkConfiguration: awsvpc,
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback }, strategy },
  });
}

beforeEach(async () => {
  ({ emu, c, clock } = await clockedEcs(cluster));
  emu.ecs.registerTaskDefinition(fargateTaskDef('native-api'));
  emu.ecs.registerTaskDefinition(fargateTaskDef('native-api', { image: 'repo/backend:v2' }));
  emu.ecs.registerTaskDefinition(fargateTaskDef('native-api', { image: 'repo/backend:v3' }));
});
afterEach(() => emu.stop());

const svc = async (name: string): Promise<Service> =>
  (await c.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0]!;
const update = async (name: string, rev: number) =>
  (await c.ecs.send(new UpdateServiceCommand({ cluster, service: name, taskDefinition: `native-api:${rev}` }))).service!;
const ORDER = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
];
const sd = async (arn: string) =>
  (await c.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;

describe('ECS-native strategies', () => {
  it.each(['BLUE_GREEN', 'LINEAR', 'CANARY'])('%s: lifecycle stages in order, SUCCESSFUL only after the bake time', async (strategy) => {
    seed('api', strategy);
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 10 });
    await update('api', 2);
    const arn = (await c.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api' }))).serviceDeployments![0]!
      .serviceDeploymentArn!;
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const d = await sd(arn);
      expect(d.status).toBe('IN_PROGRESS');
      if (seen.at(-1) !== d.lifecycleStage) seen.push(d.lifecycleStage!);
      clock.advance(1);
    }
    const order = seen.map((stage) => ORDER.indexOf(stage));
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
    expect(seen).toContain('PRODUCTION_TRAFFIC_SHIFT');
    expect(seen).toContain('BAKE_TIME');
    expect((await sd(arn)).status).toBe('SUCCESSFUL');
  });

  it('StopServiceDeployment ROLLBACK: ROLLBACK_REQUESTED → ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL, the source revision PRIMARY again', async () => {
    seed('api', 'BLUE_GREEN');
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'stuck', rollbackSeconds: 2 });
    await update('api', 2);
    const arn = (await c.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api' }))).serviceDeployments![0]!
      .serviceDeploymentArn!;
    clock.advance(1);
    expect((await sd(arn)).lifecycleStage).toBe('SCALE_UP');
    await c.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
    expect((await sd(arn)).status).toBe('ROLLBACK_REQUESTED');
    clock.advance(0.5);
    const mid = await sd(arn);
    expect(mid.status).toBe('ROLLBACK_IN_PROGRESS');
    expect(mid.rollback?.reason).toMatch(/StopServiceDeployment/);
    // Stopping again while it rolls back "continues the rollback operation".
    await c.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
    clock.advance(2);
    expect((await sd(arn)).status).toBe('ROLLBACK_SUCCESSFUL');
    expect((await svc('api')).taskDefinition).toMatch(/native-api:1$/);
    // A finished deployment cannot be stopped.
    await expect(c.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }))).rejects.toMatchObject({
      name: 'ConflictException',
    });
  });
});

describe('other actors and failures', () => {
  it("another deployer's UpdateService mid-rollout takes PRIMARY and stops our service deployment", async () => {
    seed('api', 'ROLLING');
    emu.scenarios.nextRollout(
      { cluster, service: 'api' },
      { result: 'success', afterSeconds: 5, interruptedBy: { afterSeconds: 1, taskDefinition: 'native-api:3', rolloutSeconds: 1 } },
    );
    const ours = (await update('api', 2)).deployments!.find((d) => d.status === 'PRIMARY')!;
    clock.advance(1.5);
    const s = await svc('api');
    const primary = s.deployments!.find((d) => d.status === 'PRIMARY')!;
    expect(primary.id).not.toBe(ours.id);
    expect(primary.taskDefinition).toMatch(/native-api:3$/);
    expect(primary.rolloutStateReason).not.toMatch(/rolling back/);
    const list = (await c.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api' }))).serviceDeployments!;
    expect(list[1]!.status).toBe('STOPPED');
    expect(list[1]!.statusReason).toMatch(/stopped because service deployment .* started/);
  });

  it('a FAILED primary without rollback stays PRIMARY, the last completed revision ACTIVE beside it', async () => {
    seed('api', 'ROLLING');
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'fail', afterSeconds: 3, exitCode: 1 });
    await update('api', 2);
    clock.advance(4);
    const s = await svc('api');
    expect(s.deployments!.map((d) => [d.status, d.taskDefinition!.split(':').pop(), d.rolloutState])).toEqual([
      ['PRIMARY', '2', 'FAILED'],
      ['ACTIVE', '1', 'COMPLETED'],
    ]);
  });
});
