/**
 * ECS-native deployments with lifecycle stages and PAUSE hooks (lifecycle-hooks.ts), moved with
 * an injected clock: a pause holds the deployment until ContinueServiceDeployment, CONTINUE completes
 * it, ROLLBACK (or the hook's timeout) rolls it back; the test listener follows the revision under test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  InvalidParameterException,
  RegisterTaskDefinitionCommand,
  ServiceDeploymentNotFoundException,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import type { Emulator } from './index.js';
import { awsvpc, clockedEcs, fargateTaskDef, type clients, type manualClock } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;
let clock: ReturnType<typeof manualClock>;
const cluster = 'delivery-test';

function seed(strategy: string, hooks: object[] = [], extra: object = {}) {
  emu.ecs.createService({
    cluster,
    serviceName: 'api',
    taskDefinition: 'delivery-api:1',
    desiredCount: 2,
    networkConfiguration: awsvpc,
    deploymentConfiguration: { strategy, bakeTimeInMinutes: 0, lifecycleHooks: hooks, ...extra },
  });
}

beforeEach(async () => {
  ({ emu, c, clock } = await clockedEcs(cluster));
  emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-api'));
});
afterEach(() => emu.stop());

async function deployV2(): Promise<string> {
  clock.advance(60);
  await c.ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDef('delivery-api', { image: 'repo/backend:v2' })));
  emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 10 });
  await c.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', taskDefinition: 'delivery-api:2' }));
  return sdArn();
}

function sdArn(): string {
  const s = emu.ecs.services.find(cluster, 'api')!;
  return `arn:aws:ecs:eu-west-1:123456789012:service-deployment/${cluster}/api/${s.deployments.at(-1)!.serviceDeploymentId}`;
}

async function sd(arn: string): Promise<ServiceDeployment> {
  return (await c.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
}

const pauseAt = (stages: string[], timeout?: object) => ({
  targetType: 'PAUSE',
  lifecycleStages: stages,
  ...(timeout ? { timeoutConfiguration: timeout } : {}),
});

describe('lifecycle stages and PAUSE hooks', () => {
  it('BLUE_GREEN without hooks walks the stages and completes', async () => {
    seed('BLUE_GREEN');
    const arn = await deployV2();
    const stages: string[] = [];
    for (let i = 0; i < 48; i++) {
      const d = await sd(arn);
      if (stages.at(-1) !== d.lifecycleStage) stages.push(d.lifecycleStage!);
      clock.advance(0.25);
    }
    expect(stages).toEqual([
      'PRE_SCALE_UP',
      'SCALE_UP',
      'POST_SCALE_UP',
      'TEST_TRAFFIC_SHIFT',
      'POST_TEST_TRAFFIC_SHIFT',
      'PRODUCTION_TRAFFIC_SHIFT',
      'POST_PRODUCTION_TRAFFIC_SHIFT',
      'BAKE_TIME',
      'CLEAN_UP',
    ]);
    expect((await sd(arn)).status).toBe('SUCCESSFUL');
    expect((await sd(arn)).lifecycleHookDetails).toBeUndefined();
  });

  it('a PAUSE hook at POST_TEST_TRAFFIC_SHIFT holds the deployment until CONTINUE', async () => {
    seed('BLUE_GREEN', [pauseAt(['POST_TEST_TRAFFIC_SHIFT'], { timeoutInMinutes: 10, action: 'ROLLBACK' })]);
    const listener = () => emu.ecs.hooks.testTarget(cluster, 'api')?.taskDefinitionArn?.split('/').pop();
    const arn = await deployV2();
    expect(listener()).toBe('delivery-api:1');
    clock.advance(6.5);
    let d = await sd(arn);
    expect(d.status).toBe('IN_PROGRESS');
    expect(d.lifecycleStage).toBe('POST_TEST_TRAFFIC_SHIFT');
    const hook = d.lifecycleHookDetails![0]!;
    expect(hook).toMatchObject({ targetType: 'PAUSE', status: 'AWAITING_ACTION', timeoutAction: 'ROLLBACK' });
    expect(hook.hookId).toMatch(/^ecs-pause-[\w-]{43}$/);
    expect(listener()).toBe('delivery-api:2');
    clock.advance(120); // far past the planned 10 s: still paused
    expect((await sd(arn)).status).toBe('IN_PROGRESS');
    const svc = (await c.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
    expect(svc.deployments).toHaveLength(2);
    expect(svc.deploymentConfiguration?.lifecycleHooks?.[0]?.targetType).toBe('PAUSE');
    await c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId, action: 'CONTINUE' }));
    d = await sd(arn);
    expect(d.lifecycleHookDetails![0]!.status).toBe('SUCCEEDED');
    expect(d.lifecycleStage).toBe('POST_TEST_TRAFFIC_SHIFT');
    clock.advance(4);
    d = await sd(arn);
    expect(d.status).toBe('SUCCESSFUL');
    const after = (await c.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
    expect(after.deployments!.map((x) => x.taskDefinition?.split('/').pop())).toEqual(['delivery-api:2']);
    // A hook can be acted on once.
    await expect(
      c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('a ROLLING deployment with a PAUSE hook at POST_SCALE_UP holds both revisions until CONTINUE; no test traffic on the new one', async () => {
    seed('ROLLING', [pauseAt(['POST_SCALE_UP'], { timeoutInMinutes: 10, action: 'ROLLBACK' })]);
    const arn = await deployV2();
    clock.advance(6.5);
    let d = await sd(arn);
    expect(d.status).toBe('IN_PROGRESS');
    expect(d.lifecycleStage).toBe('POST_SCALE_UP');
    const hook = d.lifecycleHookDetails![0]!;
    expect(hook).toMatchObject({ targetType: 'PAUSE', status: 'AWAITING_ACTION', timeoutAction: 'ROLLBACK' });
    expect(emu.ecs.hooks.testTarget(cluster, 'api')?.taskDefinitionArn?.split('/').pop()).toBe('delivery-api:1');
    clock.advance(120);
    const svc = (await c.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
    expect(svc.deployments!.map((x) => x.taskDefinition?.split('/').pop())).toEqual(['delivery-api:2', 'delivery-api:1']);
    expect(svc.deployments!.find((x) => x.status === 'PRIMARY')?.rolloutState).toBe('IN_PROGRESS');
    await c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId, action: 'CONTINUE' }));
    clock.advance(5);
    d = await sd(arn);
    expect(d.status).toBe('SUCCESSFUL');
    expect(d.lifecycleHookDetails![0]!.status).toBe('SUCCEEDED');
    const after = (await c.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
    expect(after.deployments!.map((x) => x.taskDefinition?.split('/').pop())).toEqual(['delivery-api:2']);
  });

  it('ROLLBACK rolls the deployment back to the previous revision', async () => {
    seed('BLUE_GREEN', [pauseAt(['POST_TEST_TRAFFIC_SHIFT'])]);
    const arn = await deployV2();
    clock.advance(7);
    const hook = (await sd(arn)).lifecycleHookDetails![0]!;
    expect(hook.timeoutAction).toBe('ROLLBACK'); // the documented default
    await c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId, action: 'ROLLBACK' }));
    // The same rollback as StopServiceDeployment ROLLBACK: requested first, then in progress.
    let d = await sd(arn);
    expect(d.status).toBe('ROLLBACK_REQUESTED');
    expect(d.statusReason).toContain('ContinueServiceDeployment');
    clock.advance(0.5);
    d = await sd(arn);
    expect(d.status).toBe('ROLLBACK_IN_PROGRESS');
    expect(d.lifecycleHookDetails![0]!.status).toBe('FAILED');
    clock.advance(2);
    d = await sd(arn);
    expect(d.status).toBe('ROLLBACK_SUCCESSFUL');
    const svc = (await c.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
    expect(svc.taskDefinition).toMatch(/delivery-api:1$/);
    expect(emu.ecs.hooks.testTarget(cluster, 'api')?.taskDefinitionArn).toMatch(/delivery-api:1$/);
  });

  it('StopServiceDeployment on a paused deployment rolls it back and ends the pause (one rollback model)', async () => {
    seed('BLUE_GREEN', [pauseAt(['POST_TEST_TRAFFIC_SHIFT'])]);
    const arn = await deployV2();
    clock.advance(7);
    const paused = await sd(arn);
    expect(paused.lifecycleStage).toBe('POST_TEST_TRAFFIC_SHIFT');
    const hook = paused.lifecycleHookDetails![0]!;
    await c.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
    expect((await sd(arn)).status).toBe('ROLLBACK_REQUESTED');
    await expect(
      c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId, action: 'CONTINUE' })),
    ).rejects.toThrow(/not IN_PROGRESS/);
    clock.advance(2);
    const d = await sd(arn);
    expect(d.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(d.lifecycleStage).toBe('POST_TEST_TRAFFIC_SHIFT');
    expect(emu.ecs.hooks.testTarget(cluster, 'api')?.taskDefinitionArn).toMatch(/delivery-api:1$/);
  });

  it('a native deployment with and without a PAUSE hook reports the same stage sequence', async () => {
    const walk = async (hooks: object[]) => {
      seed('CANARY', hooks);
      const arn = await deployV2();
      const stages: string[] = [];
      for (let i = 0; i < 60; i++) {
        const d = await sd(arn);
        const open = d.lifecycleHookDetails?.find((h) => h.status === 'AWAITING_ACTION');
        if (open) await c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: open.hookId }));
        if (stages.at(-1) !== d.lifecycleStage) stages.push(d.lifecycleStage!);
        if (d.status !== 'IN_PROGRESS') break;
        clock.advance(0.25);
      }
      return stages;
    };
    const plain = await walk([]);
    await emu.stop();
    ({ emu, c, clock } = await clockedEcs(cluster));
    emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-api'));
    const hooked = await walk([pauseAt(['POST_TEST_TRAFFIC_SHIFT'])]);
    expect(hooked).toEqual(plain);
    expect(plain).toEqual([
      'PRE_SCALE_UP',
      'SCALE_UP',
      'POST_SCALE_UP',
      'TEST_TRAFFIC_SHIFT',
      'POST_TEST_TRAFFIC_SHIFT',
      'PRODUCTION_TRAFFIC_SHIFT',
      'POST_PRODUCTION_TRAFFIC_SHIFT',
      'BAKE_TIME',
      'CLEAN_UP',
    ]);
  });

  it('an unanswered hook takes its timeout action', async () => {
    seed('BLUE_GREEN', [pauseAt(['POST_SCALE_UP'], { timeoutInMinutes: 1, action: 'ROLLBACK' })]);
    const arn = await deployV2();
    clock.advance(5.5);
    expect((await sd(arn)).lifecycleHookDetails![0]!.status).toBe('AWAITING_ACTION');
    clock.advance(62);
    const d = await sd(arn);
    expect(d.lifecycleHookDetails![0]!.status).toBe('TIMED_OUT');
    expect(d.status).toBe('ROLLBACK_SUCCESSFUL');
  });

  it('LINEAR pauses before every production traffic step; CANARY has two steps', async () => {
    seed('LINEAR', [pauseAt(['PRE_PRODUCTION_TRAFFIC_SHIFT'])], { linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 0 } });
    const arn = await deployV2();
    const hooks: string[] = [];
    for (let i = 0; i < 40 && (await sd(arn)).status === 'IN_PROGRESS'; i++) {
      const open = (await sd(arn)).lifecycleHookDetails?.find((h) => h.status === 'AWAITING_ACTION');
      if (open) {
        hooks.push(open.hookId!);
        await c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: open.hookId }));
      }
      clock.advance(0.5);
    }
    expect(hooks).toHaveLength(2);
    expect((await sd(arn)).status).toBe('SUCCESSFUL');
  });

  it('rejects what ECS rejects', async () => {
    await expect(
      c.ecs.send(
        new UpdateServiceCommand({
          cluster,
          service: 'nope',
          deploymentConfiguration: {
            strategy: 'BLUE_GREEN',
            lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['TEST_TRAFFIC_SHIFT'] }],
          },
        }),
      ),
    ).rejects.toThrow(/PAUSE hooks cannot be configured at the TEST_TRAFFIC_SHIFT/);
    seed('CANARY', [pauseAt(['POST_TEST_TRAFFIC_SHIFT'])]);
    const arn = await deployV2();
    await expect(
      c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: `${arn}x`, hookId: 'ecs-pause-x' })),
    ).rejects.toBeInstanceOf(ServiceDeploymentNotFoundException);
    await expect(
      c.ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: 'ecs-pause-x' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});
