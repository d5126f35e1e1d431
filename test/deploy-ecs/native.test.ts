import {
  ECSClient,
  type Service,
  type ServiceDeployment,
  type ServiceDeploymentStatus,
  StopServiceDeploymentCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { Tracked } from '../../actions/deploy-ecs/judge.js';
import { ecsRollingBack, judgeNative, nativeState, stopWithRollback } from '../../actions/deploy-ecs/native.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
const t: Tracked = { service: 'api', deploymentId: 'ecs-svc/ours', targetArn: TD(7), startedAt: 0 };
const svc = (failedTasks: number): Service => ({
  serviceName: 'api',
  deployments: [
    { id: 'ecs-svc/ours', status: 'PRIMARY', taskDefinition: TD(7), desiredCount: 2, runningCount: 1, pendingCount: 1, failedTasks },
  ],
});
const sd = (over: Partial<ServiceDeployment> = {}): ServiceDeployment => ({
  serviceDeploymentArn: 'arn:sd',
  status: 'IN_PROGRESS',
  ...over,
});
const judged = (s: ServiceDeployment, opts = { maxFailedTasks: 3 }, service: Service | undefined = svc(0), tracked = t) =>
  judgeNative(tracked, service, s, opts);

describe('nativeState: what one poll of a native deployment knows', () => {
  it('copies status, stage, reason, the rollback revision and each lifecycle hook', () => {
    const expiresAt = new Date(60_000);
    expect(
      nativeState(
        'api',
        sd({
          status: 'IN_PROGRESS',
          lifecycleStage: 'TEST_TRAFFIC_SHIFT',
          statusReason: 'waiting',
          rollback: { serviceRevisionArn: 'rev-6' },
          lifecycleHookDetails: [
            { hookId: 'h1', targetType: 'PAUSE', status: 'AWAITING_ACTION', expiresAt, timeoutAction: 'ROLLBACK' },
            { targetType: 'AWS_LAMBDA', status: 'SUCCEEDED' },
          ],
        }),
      ),
    ).toEqual({
      service: 'api',
      serviceDeploymentArn: 'arn:sd',
      status: 'IN_PROGRESS',
      lifecycleStage: 'TEST_TRAFFIC_SHIFT',
      statusReason: 'waiting',
      rollbackTo: 'rev-6',
      hooks: [{ hookId: 'h1', targetType: 'PAUSE', status: 'AWAITING_ACTION', expiresAt, timeoutAction: 'ROLLBACK' }],
    });
  });

  it('an answer with fields left out: an empty ARN and no hooks', () => {
    expect(nativeState('api', {})).toEqual({
      service: 'api',
      serviceDeploymentArn: '',
      status: undefined,
      lifecycleStage: undefined,
      statusReason: undefined,
      rollbackTo: undefined,
      hooks: [],
    });
  });
});

describe('judgeNative: a native deployment judged by its service deployment status', () => {
  it('succeeds on SUCCESSFUL only; IN_PROGRESS and PENDING wait', () => {
    expect(judged(sd({ status: 'SUCCESSFUL' }))).toEqual({ state: 'succeeded', progress: 'running 1/2, pending 1, SUCCESSFUL' });
    expect(judged(sd({ status: 'IN_PROGRESS', lifecycleStage: 'BAKE_TIME' }))).toEqual({
      state: 'waiting',
      progress: 'running 1/2, pending 1, IN_PROGRESS (BAKE_TIME)',
    });
    expect(judged(sd({ status: 'PENDING' })).state).toBe('waiting');
  });

  it.each<ServiceDeploymentStatus>(['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'])(
    '%s: ECS rolled it back, to the revision it names',
    (status) => {
      expect(judged(sd({ status, statusReason: 'alarm api-5xx', rollback: { serviceRevisionArn: 'rev-6' } }))).toEqual({
        state: 'failed',
        progress: `running 1/2, pending 1, ${status}`,
        reason: `ECS rolled the deployment back (${status}): alarm api-5xx`,
        replaced: { by: 'ecs-rollback', taskDefinition: 'rev-6' },
      });
    },
  );

  it('a rollback without reason or revision says only the status', () => {
    expect(judged(sd({ status: 'ROLLBACK_SUCCESSFUL' }))).toMatchObject({
      reason: 'ECS rolled the deployment back (ROLLBACK_SUCCESSFUL)',
      replaced: { by: 'ecs-rollback', taskDefinition: undefined },
    });
  });

  it.each<ServiceDeploymentStatus>(['STOPPED', 'STOP_REQUESTED'])('%s by a newer deployment: superseded by another deployer', (status) => {
    const statusReason = 'Service deployment stopped because service deployment arn:sd-2 started.';
    expect(judged(sd({ status, statusReason }))).toEqual({
      state: 'superseded',
      progress: `running 1/2, pending 1, ${status}`,
      reason: `another deployment replaced ours: someone else deployed this service: ${statusReason}`,
      replaced: { by: 'other-deployer' },
    });
  });

  it.each<ServiceDeploymentStatus>(['STOPPED', 'STOP_REQUESTED'])('%s for another reason, or none: failed', (status) => {
    expect(judged(sd({ status, statusReason: 'circuit breaker' }))).toEqual({
      state: 'failed',
      progress: `running 1/2, pending 1, ${status}`,
      reason: 'the service deployment was stopped: circuit breaker',
    });
    expect(judged(sd({ status }))).toEqual({
      state: 'failed',
      progress: `running 1/2, pending 1, ${status}`,
      reason: 'the service deployment was stopped',
    });
  });

  it('fails once our deployment has as many failed tasks as max-failed-tasks, not one fewer', () => {
    expect(judged(sd(), { maxFailedTasks: 3 }, svc(3))).toEqual({
      state: 'failed',
      progress: 'running 1/2, pending 1, 3 failed task(s), IN_PROGRESS',
      reason: '3 task(s) of api:7 stopped (max-failed-tasks 3)',
    });
    expect(judged(sd(), { maxFailedTasks: 3 }, svc(2)).state).toBe('waiting');
  });

  it('max-failed-tasks 0 leaves failed tasks to ECS; no service or deployment found: waiting', () => {
    expect(judged(sd(), { maxFailedTasks: 0 }, svc(5)).state).toBe('waiting');
    expect(judgeNative(t, undefined, sd(), { maxFailedTasks: 1 })).toEqual({ state: 'waiting', progress: 'no deployment, IN_PROGRESS' });
    expect(judged(sd(), { maxFailedTasks: 1 }, { deployments: [] }).state).toBe('waiting');
  });
});

describe('judgeNative: our own StopServiceDeployment rollback', () => {
  const rb: Tracked = { ...t, follow: 'sd-rollback' };
  it('succeeds on ROLLBACK_SUCCESSFUL; waits while it is requested or in progress', () => {
    expect(judgeNative(rb, undefined, sd({ status: 'ROLLBACK_SUCCESSFUL' }), { maxFailedTasks: 3 })).toEqual({
      state: 'succeeded',
      progress: 'no deployment, ROLLBACK_SUCCESSFUL',
    });
    expect(judged(sd({ status: 'ROLLBACK_IN_PROGRESS' }), undefined, svc(9), rb).state).toBe('waiting');
    expect(judged(sd({ status: 'ROLLBACK_REQUESTED' }), undefined, svc(9), rb).state).toBe('waiting');
  });

  it.each<ServiceDeploymentStatus>(['ROLLBACK_FAILED', 'SUCCESSFUL', 'STOPPED'])(
    'the rollback ended %s: failed, with the reason',
    (status) => {
      expect(judgeNative(rb, undefined, sd({ status, statusReason: 'tasks failed' }), { maxFailedTasks: 3 })).toEqual({
        state: 'failed',
        progress: `no deployment, ${status}`,
        reason: `the rollback ended ${status}: tasks failed`,
      });
    },
  );
});

describe('ecsRollingBack', () => {
  it.each<[ServiceDeploymentStatus | undefined, boolean]>([
    ['ROLLBACK_REQUESTED', true],
    ['ROLLBACK_IN_PROGRESS', true],
    ['ROLLBACK_SUCCESSFUL', true],
    ['ROLLBACK_FAILED', false],
    ['IN_PROGRESS', false],
    ['STOPPED', false],
    [undefined, false],
  ])('%s: %s', (status, expected) => {
    expect(ecsRollingBack(sd({ status }))).toBe(expected);
  });

  it('no service deployment: false', () => {
    expect(ecsRollingBack(undefined)).toBe(false);
  });
});

describe('stopWithRollback', () => {
  it('stops the service deployment with stopType ROLLBACK', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(StopServiceDeploymentCommand).resolves({});
    await stopWithRollback(ecs as unknown as ECSClient, 'arn:sd');
    expect(ecs.commandCalls(StopServiceDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { serviceDeploymentArn: 'arn:sd', stopType: 'ROLLBACK' },
    ]);
  });
});
