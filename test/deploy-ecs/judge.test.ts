import type { Deployment, Service, ServiceDeployment } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  ageText,
  batches,
  judge,
  progressLine,
  revisionOf,
  steadyOn,
  type Tracked,
  usesServiceDeployments,
} from '../../actions/deploy-ecs/judge.js';
import { judgeNative } from '../../actions/deploy-ecs/native.js';

const OLD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:6';
const NEW = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7';
const t: Tracked = { service: 'api', deploymentId: 'ecs-svc/ours', targetArn: NEW, startedAt: 0 };

const dep = (over: Partial<Deployment>): Deployment => ({
  id: 'ecs-svc/ours',
  status: 'PRIMARY',
  taskDefinition: NEW,
  desiredCount: 2,
  runningCount: 0,
  pendingCount: 0,
  failedTasks: 0,
  rolloutState: 'IN_PROGRESS',
  ...over,
});
const old = (over: Partial<Deployment> = {}): Deployment =>
  dep({ id: 'ecs-svc/old', status: 'ACTIVE', taskDefinition: OLD, runningCount: 2, rolloutState: 'COMPLETED', ...over });
const svc = (deployments: Deployment[], over: Partial<Service> = {}): Service => ({
  serviceName: 'api',
  status: 'ACTIVE',
  deployments,
  ...over,
});

describe('judge (rolling update)', () => {
  it.each<[string, Service | undefined, string, RegExp?]>([
    ['in progress', svc([dep({ runningCount: 1, pendingCount: 1 }), old()]), 'waiting'],
    ['COMPLETED and PRIMARY', svc([dep({ runningCount: 2, rolloutState: 'COMPLETED' })]), 'succeeded'],
    [
      'COMPLETED but scaling up (desired-count changed, same revision)',
      svc([dep({ runningCount: 2, desiredCount: 4, pendingCount: 2, rolloutState: 'COMPLETED' })]),
      'waiting',
    ],
    [
      'FAILED rollout state, with its reason',
      svc([dep({ rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' }), old()]),
      'failed',
      /rollout FAILED: ECS deployment circuit breaker/,
    ],
    [
      'circuit breaker made the old revision PRIMARY again',
      svc([
        dep({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }),
        old({ id: 'ecs-svc/rb', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }),
      ]),
      'failed',
      /ECS rolled back to api:6 \(circuit breaker\)/,
    ],
    [
      'our deployment vanished, old revision PRIMARY after a circuit-breaker rollback (told by the service event)',
      svc([old({ id: 'ecs-svc/rb', status: 'PRIMARY' })], {
        events: [{ createdAt: new Date(1000), message: '(service api) rolling back to deployment ecs-svc/old.' }],
      }),
      'failed',
      /rolled back to api:6/,
    ],
    [
      'another deployer took PRIMARY (ours still IN_PROGRESS, no rollback sign)',
      svc([old({ id: 'ecs-svc/theirs', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }), dep({ status: 'ACTIVE' })]),
      'superseded',
      /ecs-svc\/theirs, api:6\) replaced ours/,
    ],
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
    expect(judge(t, svc([dep({ runningCount: 1, pendingCount: 1 })]), { maxFailedTasks: 3 }).progress).toBe(
      'running 1/2, pending 1, IN_PROGRESS',
    );
  });
});

describe('judge (blue/green via DescribeServiceDeployments)', () => {
  const bg = svc([dep({ rolloutState: 'IN_PROGRESS' }), old()], { deploymentConfiguration: { strategy: 'BLUE_GREEN' } });
  const sd = (over: Partial<ServiceDeployment>): ServiceDeployment => ({ serviceDeploymentArn: 'arn:sd', status: 'IN_PROGRESS', ...over });
  it.each<[string, ServiceDeployment, string, RegExp?]>([
    ['still baking', sd({ status: 'IN_PROGRESS', lifecycleStage: 'BAKE_TIME' }), 'waiting'],
    ['SUCCESSFUL', sd({ status: 'SUCCESSFUL' }), 'succeeded'],
    [
      'rolled back by ECS',
      sd({ status: 'ROLLBACK_SUCCESSFUL', statusReason: 'alarm' }),
      'failed',
      /ECS rolled the deployment back \(ROLLBACK_SUCCESSFUL\): alarm/,
    ],
    ['stopped', sd({ status: 'STOPPED', statusReason: 'circuit breaker' }), 'failed', /stopped: circuit breaker/],
    [
      'stopped by a newer deployment (another deployer)',
      sd({ status: 'STOPPED', statusReason: 'Service deployment stopped because service deployment arn:x started.' }),
      'superseded',
      /someone else deployed/,
    ],
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
  const on = (deployments: Deployment[], over: Partial<Service> = {}) =>
    svc(deployments, { taskDefinition: NEW, runningCount: 2, desiredCount: 2, ...over });
  it.each<[string, Service, RegExp | true]>([
    ['one COMPLETED deployment, running = desired', on([dep({ rolloutState: 'COMPLETED', runningCount: 2 })]), true],
    [
      'left FAILED by an earlier run',
      on([dep({ rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker' }), old()], { runningCount: 2 }),
      /is FAILED \(circuit breaker\)/,
    ],
    ['still IN_PROGRESS (a cancelled run)', on([dep({}), old()]), /is IN_PROGRESS/],
    ['COMPLETED but short of tasks', on([dep({ rolloutState: 'COMPLETED' })], { runningCount: 1 }), /runs 1 of 2 tasks/],
    [
      'COMPLETED, running = desired, but an older deployment still active',
      on([dep({ rolloutState: 'COMPLETED', runningCount: 2 }), old({ runningCount: 1 })]),
      /1 other deployment\(s\) still active \(api:6 COMPLETED\)/,
    ],
    [
      'COMPLETED, running = desired, a draining deployment without rollout state',
      on([dep({ rolloutState: 'COMPLETED', runningCount: 2 }), old({ rolloutState: undefined })]),
      /1 other deployment\(s\) still active \(api:6 ACTIVE\)/,
    ],
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

describe('judge: the edges of each rule', () => {
  const verdict = (service: Service, tracked: Tracked = t, maxFailedTasks = 3) => judge(tracked, service, { maxFailedTasks });
  it.each<[string, Service, Tracked, string, RegExp?]>([
    [
      'a service without a status is judged as ACTIVE',
      svc([dep({ runningCount: 2, rolloutState: 'COMPLETED' })], { status: undefined }),
      t,
      'succeeded',
    ],
    ['DRAINING service', svc([dep({})], { status: 'DRAINING' }), t, 'failed', /^service api is DRAINING$/],
    [
      'COMPLETED with more running than desired (old tasks still stopping)',
      svc([dep({ runningCount: 3, rolloutState: 'COMPLETED' })]),
      t,
      'succeeded',
    ],
    [
      'COMPLETED, desired count absent, running 0',
      svc([dep({ runningCount: 0, desiredCount: undefined, rolloutState: 'COMPLETED' })]),
      t,
      'succeeded',
    ],
    ['no rollout state, one deployment, running short of desired', svc([dep({ rolloutState: undefined, runningCount: 1 })]), t, 'waiting'],
    [
      'our deployment id is not listed and no deployment is PRIMARY',
      svc([old({})]),
      t,
      'failed',
      /^our deployment ecs-svc\/ours is not listed by the service$/,
    ],
    ['FAILED rollout state without a reason', svc([dep({ rolloutState: 'FAILED' })]), t, 'failed', /^rollout FAILED$/],
    ['failed tasks at the limit', svc([dep({ failedTasks: 3 })]), t, 'failed', /^3 task\(s\) of api:7 stopped \(max-failed-tasks 3\)$/],
    [
      'no id returned by UpdateService: the newest deployment of our revision is ours',
      svc([
        dep({ id: 'ecs-svc/older', status: 'ACTIVE', createdAt: new Date(1000), rolloutState: 'COMPLETED', runningCount: 2 }),
        dep({ id: 'ecs-svc/newer', createdAt: new Date(2000) }),
      ]),
      { ...t, deploymentId: undefined },
      'waiting',
    ],
    [
      'no id returned, ours is PRIMARY and done',
      svc([
        dep({ id: 'ecs-svc/newer', createdAt: new Date(2000), rolloutState: 'COMPLETED', runningCount: 2 }),
        old({ createdAt: new Date(1000) }),
      ]),
      { ...t, deploymentId: undefined },
      'succeeded',
    ],
    [
      "the circuit breaker named in the PRIMARY deployment's reason",
      svc([
        old({
          id: 'ecs-svc/rb',
          status: 'PRIMARY',
          rolloutState: 'IN_PROGRESS',
          rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/old',
        }),
        dep({ status: 'ACTIVE', rolloutStateReason: 'tasks failed to start' }),
      ]),
      t,
      'failed',
      /^ECS rolled back to api:6 \(circuit breaker\): tasks failed to start$/,
    ],
    [
      'a rollback event older than our start (less 1 s) is not ours: another deployer',
      svc([old({ id: 'ecs-svc/theirs', status: 'PRIMARY' })], {
        events: [{ createdAt: new Date(8_000), message: '(service api) rolling back to deployment ecs-svc/x.' }],
      }),
      { ...t, startedAt: 10_000 },
      'superseded',
      /^another deployment \(ecs-svc\/theirs, api:6\) replaced ours: someone else deployed this service$/,
    ],
    [
      'a rollback event within 1 s before our start counts (clocks differ)',
      svc([old({ id: 'ecs-svc/rb', status: 'PRIMARY' })], {
        events: [{ createdAt: new Date(9_000), message: '(service api) rolling back to deployment ecs-svc/x.' }],
      }),
      { ...t, startedAt: 10_000 },
      'failed',
      /^ECS rolled back to api:6 \(circuit breaker\)$/,
    ],
    [
      'an event of another kind is no rollback sign',
      svc([old({ id: 'ecs-svc/theirs', status: 'PRIMARY' })], {
        events: [{ createdAt: new Date(20_000), message: '(service api) has reached a steady state.' }],
      }),
      { ...t, startedAt: 10_000 },
      'superseded',
    ],
  ])('%s', (_label, service, tracked, state, reason) => {
    const v = verdict(service, tracked);
    expect(v.state).toBe(state);
    if (reason) expect((v.state === 'failed' || v.state === 'superseded') && v.reason).toMatch(reason);
  });

  it('names who replaced ours, and with what', () => {
    const v = verdict(svc([old({ id: 'ecs-svc/theirs', status: 'PRIMARY' }), dep({ status: 'ACTIVE' })]));
    expect(v.state === 'superseded' && v.replaced).toEqual({ by: 'other-deployer', deploymentId: 'ecs-svc/theirs', taskDefinition: OLD });
    const rb = verdict(svc([dep({ status: 'ACTIVE', rolloutState: 'FAILED' }), old({ id: 'ecs-svc/rb', status: 'PRIMARY' })]));
    expect(rb.state === 'failed' && rb.replaced).toEqual({ by: 'ecs-rollback', deploymentId: 'ecs-svc/rb', taskDefinition: OLD });
  });

  it.each<[string, Deployment | undefined, ServiceDeployment | undefined, string]>([
    ['no deployment, no rollout state', undefined, undefined, 'no deployment, no rollout state'],
    ['counts absent', { rolloutState: 'IN_PROGRESS' }, undefined, 'running 0/0, pending 0, IN_PROGRESS'],
    ['failed tasks', dep({ runningCount: 1, failedTasks: 2 }), undefined, 'running 1/2, pending 0, 2 failed task(s), IN_PROGRESS'],
    ['no rollout state', dep({ rolloutState: undefined }), undefined, 'running 0/2, pending 0, no rollout state'],
    ['service deployment status without a stage', dep({}), { status: 'SUCCESSFUL' }, 'running 0/2, pending 0, SUCCESSFUL'],
    [
      'service deployment without a status: the rollout state',
      dep({}),
      { lifecycleStage: 'BAKE_TIME' },
      'running 0/2, pending 0, IN_PROGRESS',
    ],
  ])('progress line: %s', (_label, d, sd, line) => {
    expect(progressLine(d, sd)).toBe(line);
  });

  it.each([
    [-500, '0s'],
    [0, '0s'],
    [59_400, '59s'],
    [59_500, '1m00s'],
    [61_000, '1m01s'],
    [754_000, '12m34s'],
  ])('ageText(%i) is %s', (ms, text) => {
    expect(ageText(ms)).toBe(text);
  });

  it.each([
    [NEW, 'api:7'],
    ['api:7', 'api:7'],
    [undefined, '(none)'],
    ['', '(none)'],
  ])('revisionOf(%s) is %s', (arn, rev) => {
    expect(revisionOf(arn)).toBe(rev);
  });

  it.each([
    ['BLUE_GREEN', true],
    ['LINEAR', true],
    ['CANARY', true],
    ['ROLLING', false],
    [undefined, false],
  ])('strategy %s is judged by its service deployment: %s', (strategy, native) => {
    expect(usesServiceDeployments(svc([], { deploymentConfiguration: strategy ? { strategy: strategy as 'ROLLING' } : undefined }))).toBe(
      native,
    );
  });

  it('steadyOn: a deployment of another revision PRIMARY while the service names ours', () => {
    expect(steadyOn(svc([old({ status: 'PRIMARY' })], { taskDefinition: NEW, runningCount: 2, desiredCount: 2 }), NEW)).toEqual({
      steady: false,
      why: 'it runs api:7',
    });
  });

  it('steadyOn: counts absent on both sides are equal; a rollout state without reason says only the state', () => {
    expect(steadyOn(svc([dep({ rolloutState: 'COMPLETED' })], { taskDefinition: NEW }), NEW)).toEqual({ steady: true });
    expect(steadyOn(svc([dep({})], { taskDefinition: NEW }), NEW)).toEqual({
      steady: false,
      why: 'its deployment of api:7 is IN_PROGRESS',
    });
  });

  it('batches keeps every item, in order, at the given size', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([])).toEqual([]);
    expect(batches(Array.from({ length: 10 }, (_, i) => i))).toHaveLength(1);
  });
});

describe('judge and steadyOn: answers with fields left out, lists in another order', () => {
  const verdict = (service: Service | undefined, tracked: Tracked = t) => judge(tracked, service, { maxFailedTasks: 3 });

  it('names the service state in the progress line when the service is gone or not ACTIVE', () => {
    expect(verdict(undefined).progress).toBe('service is missing');
    expect(verdict(svc([], { status: 'DRAINING' })).progress).toBe('service is DRAINING');
  });

  it('a service answer without deployments: ours is not listed', () => {
    expect(verdict(svc([], { deployments: undefined }))).toMatchObject({
      state: 'failed',
      reason: 'our deployment ecs-svc/ours is not listed by the service',
    });
    expect(verdict(svc([], { deployments: undefined }), { ...t, deploymentId: undefined })).toMatchObject({
      state: 'failed',
      reason: 'our deployment  is not listed by the service',
    });
  });

  it('no id returned: the newest deployment of our revision is ours, whatever the order, and never a newer one of another revision', () => {
    const older = dep({ id: 'ecs-svc/older', status: 'ACTIVE', createdAt: new Date(1000), rolloutState: 'COMPLETED', runningCount: 2 });
    const newer = dep({ id: 'ecs-svc/newer', createdAt: new Date(2000) });
    const noId = { ...t, deploymentId: undefined };
    expect(verdict(svc([newer, older]), noId).state).toBe('waiting');
    expect(verdict(svc([older, newer]), noId).state).toBe('waiting');
    // Someone else's deployment of another revision, newer than ours and not PRIMARY: ours is still judged.
    const theirs = old({ id: 'ecs-svc/theirs', status: 'ACTIVE', createdAt: new Date(3000), rolloutState: 'IN_PROGRESS' });
    const done = dep({ id: 'ecs-svc/ours', createdAt: new Date(2000), rolloutState: 'COMPLETED', runningCount: 2 });
    expect(verdict(svc([theirs, done]), noId).state).toBe('succeeded');
  });

  it('a rollback event without a time counts as older than our start; one without a message is no rollback sign', () => {
    const service = (events: Service['events']) => svc([old({ id: 'ecs-svc/rb', status: 'PRIMARY' })], { events });
    const started = { ...t, startedAt: 10_000 };
    expect(verdict(service([{ message: '(service api) rolling back to deployment ecs-svc/x.' }]), started).state).toBe('superseded');
    expect(verdict(service([{ createdAt: new Date(20_000) }]), started).state).toBe('superseded');
  });

  it('steadyOn finds the PRIMARY deployment wherever it is listed', () => {
    const service = svc([old({ status: 'ACTIVE', rolloutState: 'COMPLETED' }), dep({ rolloutState: 'COMPLETED', runningCount: 2 })], {
      taskDefinition: NEW,
      runningCount: 2,
      desiredCount: 2,
    });
    expect(steadyOn(service, NEW)).toEqual({ steady: false, why: '1 other deployment(s) still active (api:6 COMPLETED)' });
  });

  it('steadyOn: no deployment listed is not steady, even when the service names the revision', () => {
    expect(steadyOn(svc([], { taskDefinition: NEW, deployments: undefined }), NEW)).toEqual({ steady: false, why: 'it runs api:7' });
    expect(steadyOn(svc([], { taskDefinition: NEW }), NEW)).toEqual({ steady: false, why: 'it runs api:7' });
  });

  it('steadyOn lists every other deployment, comma-separated', () => {
    const service = svc(
      [
        dep({ rolloutState: 'COMPLETED', runningCount: 2 }),
        old({ rolloutState: 'IN_PROGRESS' }),
        old({ taskDefinition: `${NEW.slice(0, -1)}5` }),
      ],
      { taskDefinition: NEW, runningCount: 2, desiredCount: 2 },
    );
    expect(steadyOn(service, NEW)).toEqual({
      steady: false,
      why: '2 other deployment(s) still active (api:6 IN_PROGRESS, api:5 COMPLETED)',
    });
  });

  it('with an id, ours is that deployment even when a newer one of the same revision is listed', () => {
    const ours = dep({ createdAt: new Date(1000), rolloutState: 'IN_PROGRESS' });
    const again = dep({ id: 'ecs-svc/again', status: 'ACTIVE', createdAt: new Date(2000), rolloutState: 'COMPLETED', runningCount: 2 });
    expect(verdict(svc([ours, again])).state).toBe('waiting');
  });

  it('the progress line follows our deployment, not the PRIMARY that replaced it', () => {
    const v = verdict(svc([old({ id: 'ecs-svc/theirs', status: 'PRIMARY', runningCount: 2 }), dep({ status: 'ACTIVE', runningCount: 1 })]));
    expect(v.progress).toBe('running 1/2, pending 0, IN_PROGRESS');
  });

  it('steadyOn: a service that names another revision is not steady on ours', () => {
    const service = svc([dep({ rolloutState: 'COMPLETED', runningCount: 2 })], { taskDefinition: OLD, runningCount: 2, desiredCount: 2 });
    expect(steadyOn(service, NEW)).toEqual({ steady: false, why: 'it runs api:6' });
  });
});
