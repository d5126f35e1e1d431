import type { Deployment, Service, ServiceDeployment } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { batches, judge, steadyOn, type Tracked } from '../../actions/deploy-ecs/judge.js';
import { judgeNative } from '../../actions/deploy-ecs/native.js';

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
    [
      'our deployment vanished, old revision PRIMARY after a circuit-breaker rollback (told by the service event)',
      svc([old({ id: 'ecs-svc/rb', status: 'PRIMARY' })], { events: [{ createdAt: new Date(1000), message: '(service api) rolling back to deployment ecs-svc/old.' }] }),
      'failed',
      /rolled back to api:6/,
    ],
    ['another deployer took PRIMARY (ours still IN_PROGRESS, no rollback sign)', svc([old({ id: 'ecs-svc/theirs', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }), dep({ status: 'ACTIVE' })]), 'superseded', /ecs-svc\/theirs, api:6\) replaced ours/],
    ['repeated stopped tasks of our revision', svc([dep({ failedTasks: 3 }), old()]), 'failed', /3 task\(s\) of api:7 stopped/],
    ['two stopped tasks are not yet a failure', svc([dep({ failedTasks: 2 }), old()]), 'waiting'],
    ['no rollout state: running = desired, one deployment left', svc([dep({ rolloutState: undefined, runningCount: 2 })]), 'succeeded'],
    ['no rollout state: old deployment still draining', svc([dep({ rolloutState: undefined, runningCount: 2 }), old()]), 'waiting'],
    ['service deleted', svc([], { status: 'INACTIVE' }), 'failed', /INACTIVE/],
    ['service missing', undefined, 'failed', /missing/],
  ])('%s', (_label, service, state, reason) => {
    const v = judge(t, service, { maxFailedTasks: 3 });
    expect(v.state).toBe(state);
    if (reason) expect((v.state === 'failed' || v.state === 'superseded') && v.reason).toMatch(reason);
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
    ['stopped by a newer deployment (another deployer)', sd({ status: 'STOPPED', statusReason: 'Service deployment stopped because service deployment arn:x started.' }), 'superseded', /someone else deployed/],
  ])('%s', (_label, s, state, reason) => {
    const v = judgeNative(t, bg, s, { maxFailedTasks: 3 });
    expect(v.state).toBe(state);
    if (reason) expect((v.state === 'failed' || v.state === 'superseded') && v.reason).toMatch(reason);
  });

  it('shows the lifecycle stage in the progress line', () => {
    expect(judgeNative(t, bg, sd({ lifecycleStage: 'BAKE_TIME' }), { maxFailedTasks: 3 }).progress).toContain('IN_PROGRESS (BAKE_TIME)');
  });

  it('judges our own StopServiceDeployment rollback by its ROLLBACK_ status', () => {
    const rb: Tracked = { ...t, follow: 'sd-rollback' };
    expect(judgeNative(rb, bg, sd({ status: 'ROLLBACK_IN_PROGRESS' }), { maxFailedTasks: 3 }).state).toBe('waiting');
    expect(judgeNative(rb, bg, sd({ status: 'ROLLBACK_SUCCESSFUL' }), { maxFailedTasks: 3 }).state).toBe('succeeded');
    expect(judgeNative(rb, bg, sd({ status: 'ROLLBACK_FAILED' }), { maxFailedTasks: 3 }).state).toBe('failed');
  });
});

describe('steadyOn (what "unchanged" means)', () => {
  const on = (deployments: Deployment[], over: Partial<Service> = {}) => svc(deployments, { taskDefinition: NEW, runningCount: 2, desiredCount: 2, ...over });
  it.each<[string, Service, RegExp | true]>([
    ['one COMPLETED deployment, running = desired', on([dep({ rolloutState: 'COMPLETED', runningCount: 2 })]), true],
    ['left FAILED by an earlier run', on([dep({ rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker' }), old()], { runningCount: 2 }), /is FAILED \(circuit breaker\)/],
    ['still IN_PROGRESS (a cancelled run)', on([dep({}), old()]), /is IN_PROGRESS/],
    ['COMPLETED but short of tasks', on([dep({ rolloutState: 'COMPLETED' })], { runningCount: 1 }), /runs 1 of 2 tasks/],
    [
      'COMPLETED, running = desired, but an older deployment still active',
      on([dep({ rolloutState: 'COMPLETED', runningCount: 2 }), old({ runningCount: 1 })]),
      /1 other deployment\(s\) still active \(api:6 COMPLETED\)/,
    ],
    ['COMPLETED, running = desired, a draining deployment without rollout state', on([dep({ rolloutState: 'COMPLETED', runningCount: 2 }), old({ rolloutState: undefined })]), /1 other deployment\(s\) still active \(api:6 ACTIVE\)/],
    ['no rollout state at all, one deployment, running = desired', on([dep({ rolloutState: undefined, runningCount: 2 })]), true],
    ['another revision', on([old({ status: 'PRIMARY' })], { taskDefinition: OLD }), /runs api:6/],
  ])('%s', (_label, service, expected) => {
    const r = steadyOn(service, NEW);
    if (expected === true) expect(r.steady).toBe(true);
    else expect(!r.steady && r.why).toMatch(expected);
  });
});

describe('batches', () => {
  it('splits DescribeServices calls at 10 services', () => {
    expect(batches(Array.from({ length: 23 }, (_, i) => i)).map((b) => b.length)).toEqual([10, 10, 3]);
  });
});
