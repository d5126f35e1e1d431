import type { Deployment, Service, ServiceDeployment } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { batches, judge, type Tracked } from '../../actions/deploy-ecs/judge.js';

const OLD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:6';
const NEW = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7';
const t: Tracked = { service: 'api', deploymentId: 'ecs-svc/ours', targetArn: NEW, startedAt: 0 };

const dep = (over: Partial<Deployment>): Deployment => ({ id: 'ecs-svc/ours', status: 'PRIMARY', taskDefinition: NEW, desiredCount: 2, runningCount: 0, pendingCount: 0, failedTasks: 0, rolloutState: 'IN_PROGRESS', ...over });
const old = (over: Partial<Deployment> = {}): Deployment => dep({ id: 'ecs-svc/old', status: 'ACTIVE', taskDefinition: OLD, runningCount: 2, rolloutState: 'COMPLETED', ...over });
const svc = (deployments: Deployment[], over: Partial<Service> = {}): Service => ({ serviceName: 'api', status: 'ACTIVE', deployments, ...over });

describe('judge (rolling update)', () => {
  it.each<[string, Service | undefined, string, RegExp?]>([
    ['in progress', svc([dep({ runningCount: 1, pendingCount: 1 }), old()]), 'waiting'],
    ['COMPLETED and PRIMARY', svc([dep({ runningCount: 2, rolloutState: 'COMPLETED' })]), 'succeeded'],
    ['COMPLETED but scaling up (desired-count changed, same revision)', svc([dep({ runningCount: 2, desiredCount: 4, pendingCount: 2, rolloutState: 'COMPLETED' })]), 'waiting'],
    ['FAILED rollout state, with its reason', svc([dep({ rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' }), old()]), 'failed', /rollout FAILED: ECS deployment circuit breaker/],
    [
      'circuit breaker made the old revision PRIMARY again',
      svc([dep({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }), old({ id: 'ecs-svc/rb', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' })]),
      'failed',
      /ECS rolled back to api:6 \(circuit breaker\)/,
    ],
    ['our deployment vanished, old revision PRIMARY (rollback completed)', svc([old({ id: 'ecs-svc/rb', status: 'PRIMARY' })]), 'failed', /rolled back to api:6/],
    ['repeated stopped tasks of our revision', svc([dep({ failedTasks: 3 }), old()]), 'failed', /3 task\(s\) of api:7 stopped/],
    ['two stopped tasks are not yet a failure', svc([dep({ failedTasks: 2 }), old()]), 'waiting'],
    ['no rollout state: running = desired, one deployment left', svc([dep({ rolloutState: undefined, runningCount: 2 })]), 'succeeded'],
    ['no rollout state: old deployment still draining', svc([dep({ rolloutState: undefined, runningCount: 2 }), old()]), 'waiting'],
    ['service deleted', svc([], { status: 'INACTIVE' }), 'failed', /INACTIVE/],
    ['service missing', undefined, 'failed', /missing/],
  ])('%s', (_label, service, state, reason) => {
    const v = judge(t, service, { maxFailedTasks: 3 });
    expect(v.state).toBe(state);
    if (reason) expect(v.state === 'failed' && v.reason).toMatch(reason);
  });

  it('is not fooled by an older COMPLETED deployment when ours is still running', () => {
    expect(judge(t, svc([dep({}), old({ status: 'ACTIVE' })]), { maxFailedTasks: 3 }).state).toBe('waiting');
  });

  it('max-failed-tasks 0 leaves failure to ECS', () => {
    expect(judge(t, svc([dep({ failedTasks: 10 })]), { maxFailedTasks: 0 }).state).toBe('waiting');
  });

  it('progress line shows running/pending/desired and rollout state', () => {
    expect(judge(t, svc([dep({ runningCount: 1, pendingCount: 1 })]), { maxFailedTasks: 3 }).progress).toBe('running 1/2, pending 1, IN_PROGRESS');
  });
});

describe('judge (blue/green via DescribeServiceDeployments)', () => {
  const bg = svc([dep({ rolloutState: 'IN_PROGRESS' }), old()], { deploymentConfiguration: { strategy: 'BLUE_GREEN' } });
  const sd = (over: Partial<ServiceDeployment>): ServiceDeployment => ({ serviceDeploymentArn: 'arn:sd', status: 'IN_PROGRESS', ...over });
  it.each<[string, ServiceDeployment, string, RegExp?]>([
    ['still baking', sd({ status: 'IN_PROGRESS', lifecycleStage: 'BAKE_TIME' }), 'waiting'],
    ['SUCCESSFUL', sd({ status: 'SUCCESSFUL' }), 'succeeded'],
    ['rolled back by ECS', sd({ status: 'ROLLBACK_SUCCESSFUL', statusReason: 'alarm' }), 'failed', /ECS rolled the deployment back \(ROLLBACK_SUCCESSFUL\): alarm/],
    ['stopped', sd({ status: 'STOPPED', statusReason: 'circuit breaker' }), 'failed', /stopped: circuit breaker/],
  ])('%s', (_label, s, state, reason) => {
    const v = judge(t, bg, { maxFailedTasks: 3, sd: s });
    expect(v.state).toBe(state);
    if (reason) expect(v.state === 'failed' && v.reason).toMatch(reason);
  });

  it('shows the lifecycle stage in the progress line', () => {
    expect(judge(t, bg, { maxFailedTasks: 3, sd: sd({ lifecycleStage: 'BAKE_TIME' }) }).progress).toContain('IN_PROGRESS (BAKE_TIME)');
  });
});

describe('batches', () => {
  it('splits DescribeServices calls at 10 services', () => {
    expect(batches(Array.from({ length: 23 }, (_, i) => i)).map((b) => b.length)).toEqual([10, 10, 3]);
  });
});
