import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deploy } from '../../actions/deploy-ecs/deploy.js';
import type { Deps } from '../../actions/deploy-ecs/deploy-types.js';
import { getInputs } from '../../actions/deploy-ecs/inputs.js';
import { memoryReporter } from '../../lib/report.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:v2';
const ecsMock = mockClient(ECSClient);
const ecrMock = mockClient(ECRClient);
const logsMock = mockClient(CloudWatchLogsClient);

const fileDef = { family: 'api', cpu: '256', memory: '512', containerDefinitions: [{ name: 'api', image: IMAGE }] };
const dir = mkdtempSync(join(tmpdir(), 'deploy-unit-'));
const file = join(dir, 'td.json');
writeFileSync(file, JSON.stringify(fileDef));

/** A tiny fake ECS: services with deployments; `afterPolls` decides what each poll sees. */
function fakeEcs(
  names: string[],
  opts: { runningRev: number; latestRev: number; outcome: (svc: string, polls: number, dep: Deployment) => Deployment[] },
) {
  const current = new Map<string, Deployment[]>(
    names.map((n) => [
      n,
      [
        {
          id: `ecs-svc/${n}-old`,
          status: 'PRIMARY',
          taskDefinition: TD(opts.runningRev),
          desiredCount: 2,
          runningCount: 2,
          rolloutState: 'COMPLETED',
        },
      ],
    ]),
  );
  const updates = new Map<string, Deployment>();
  let polls = 0;
  const view = (name: string): Service => {
    const deps = current.get(name)!;
    const primary = deps.find((d) => d.status === 'PRIMARY')!;
    return {
      serviceName: name,
      status: 'ACTIVE',
      taskDefinition: primary.taskDefinition,
      desiredCount: 2,
      runningCount: primary.runningCount,
      deployments: deps,
      events: [],
    };
  };
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const rev = input.taskDefinition === 'api' ? opts.latestRev : Number(input.taskDefinition.split(':').pop());
    return { taskDefinition: { ...fileDef, image: undefined, memory: '1024', taskDefinitionArn: TD(rev), revision: rev }, tags: [] };
  });
  ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { ...fileDef, taskDefinitionArn: TD(opts.latestRev + 1) } });
  ecsMock.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    if (updates.size) polls += 1;
    for (const [name, d] of updates) current.set(name, opts.outcome(name, polls, d));
    return { services: input.services.map(view), failures: [] };
  });
  ecsMock.on(UpdateServiceCommand).callsFake((input: { service: string; taskDefinition: string }) => {
    const d: Deployment = {
      id: `ecs-svc/${input.service}-${updates.size + 1}-${input.taskDefinition.split(':').pop()}`,
      status: 'PRIMARY',
      taskDefinition: input.taskDefinition,
      desiredCount: 2,
      runningCount: 0,
      rolloutState: 'IN_PROGRESS',
    };
    const before = current.get(input.service)!.map((x) => ({ ...x, status: 'ACTIVE' }));
    current.set(input.service, [d, ...before]);
    updates.set(input.service, d);
    return { service: view(input.service) };
  });
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
  ecsMock.on(DescribeTasksCommand).resolves({ tasks: [] });
  return { current };
}

function deps(): Deps & { sleeps: number[]; report: ReturnType<typeof memoryReporter> } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ecr: new ECRClient({ region: 'eu-west-1' }),
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    exec: async () => 0,
    report: memoryReporter(),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => now,
    region: 'eu-west-1',
    sleeps,
  };
}

const inputs = (extra: Record<string, string> = {}) =>
  getInputs((n) => ({ 'task-definition': file, cluster: 'prod', services: 'api', ...extra })[n] ?? '', {});
const completed = (d: Deployment): Deployment[] => [{ ...d, runningCount: 2, rolloutState: 'COMPLETED' }];

beforeEach(() => {
  ecsMock.reset();
  ecrMock.reset();
  logsMock.reset();
  ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:aa' }] });
  logsMock.on(GetLogEventsCommand).resolves({ events: [] });
});

describe('deploy', () => {
  it('polls at the fixed interval until our deployment is COMPLETED', async () => {
    fakeEcs(['api'], { runningRev: 6, latestRev: 6, outcome: (_s, polls, d) => (polls >= 4 ? completed(d) : [d]) });
    const d = deps();
    const r = await deploy(inputs(), d);
    expect(r).toMatchObject({
      status: 'succeeded',
      changed: true,
      taskDefinitionArn: TD(7),
      previousTaskDefinitionArn: TD(6),
      rolledBack: false,
    });
    // The first poll comes right after UpdateService, the others one fixed interval apart.
    expect(d.sleeps).toEqual([5000, 5000, 5000]);
    expect(r.diff).toContain('memory: 1024 → 512');
  });

  it('rolls back to the ARN the service ran before, not the next older revision', async () => {
    // The service runs :4 although the family's latest is :6 (e.g. :5 and :6 were never deployed).
    fakeEcs(['api'], {
      runningRev: 4,
      latestRev: 6,
      outcome: (_s, polls, d) => (d.taskDefinition === TD(7) ? [{ ...d, failedTasks: polls, rolloutState: 'IN_PROGRESS' }] : completed(d)),
    });
    const r = await deploy(inputs({ 'poll-interval-seconds': '1' }), deps());
    expect(r.status).toBe('failed');
    expect(r.rolledBack).toBe(true);
    const updates = ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.taskDefinition);
    expect(updates).toEqual([TD(7), TD(4)]);
    expect(r.error?.message).toContain(`rolled back to ${TD(4)}`);
    expect(r.services[0]).toMatchObject({ result: 'rolled back', before: TD(4), after: TD(7) });
  });

  it("follows the circuit breaker's rollback that the wait's last poll did not see yet, instead of racing it with an UpdateService", async () => {
    // Poll 1 (the wait): ours FAILED and still PRIMARY. Poll 2 (read again before the rollback): ECS's rollback deployment is PRIMARY.
    const cbRollback = (polls: number): Deployment => ({
      id: 'ecs-svc/cb-rollback',
      status: 'PRIMARY',
      taskDefinition: TD(6),
      desiredCount: 2,
      runningCount: polls >= 3 ? 2 : 0,
      rolloutState: polls >= 3 ? 'COMPLETED' : 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/api-old.',
    });
    const failed = (d: Deployment): Deployment => ({
      ...d,
      rolloutState: 'FAILED',
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
    });
    fakeEcs(['api'], {
      runningRev: 6,
      latestRev: 6,
      outcome: (_s, polls, d) => (polls <= 1 ? [failed(d)] : [cbRollback(polls), { ...failed(d), status: 'ACTIVE' }]),
    });
    const d = deps();
    const r = await deploy(inputs({ 'poll-interval-seconds': '1' }), d);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(1); // ours only
    expect(d.report.lines.join('\n')).toContain('ECS is already rolling back to api:6 (deployment ecs-svc/cb-rollback); following it');
    expect(r).toMatchObject({ status: 'failed', rolledBack: true });
    expect(r.services[0]).toMatchObject({ result: 'rolled back' });
  });

  it('does not roll back when rollback-on-failure is false, and says why it failed', async () => {
    fakeEcs(['api'], {
      runningRev: 6,
      latestRev: 6,
      outcome: (_s, _p, d) => [
        { ...d, rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' },
      ],
    });
    const r = await deploy(inputs({ 'rollback-on-failure': 'false' }), deps());
    expect(r).toMatchObject({ status: 'failed', rolledBack: false });
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(r.error?.message).toMatch(/rollout FAILED: ECS deployment circuit breaker/);
  });

  it('times out with the last state, then rolls back', async () => {
    fakeEcs(['api'], {
      runningRev: 6,
      latestRev: 6,
      outcome: (_s, _p, d) => (d.taskDefinition === TD(7) ? [{ ...d, pendingCount: 2 }] : completed(d)),
    });
    const d = deps();
    const r = await deploy(inputs({ 'timeout-minutes': '1' }), d);
    expect(r.status).toBe('timed-out');
    expect(r.services[0]!.result).toBe('rolled back');
    // timeout-minutes covers wait + rollback: the rollout wait ends at 45 s, the last 15 s are the rollback's.
    expect(r.error?.message).toMatch(
      /timed out after 45 s \(timeout-minutes 1, the last 15 s kept for a rollback; running 0\/2, pending 2, IN_PROGRESS\)/,
    );
    // Fixed 5 s polls up to the 60 s deadline: no back-off.
    expect(new Set(d.sleeps.slice(0, 12))).toEqual(new Set([5000]));
  });

  it('one failed UpdateService rolls back the services already updated and says which failed', async () => {
    fakeEcs(['api', 'worker'], { runningRev: 6, latestRev: 6, outcome: (_s, _p, d) => (d.taskDefinition === TD(6) ? completed(d) : [d]) });
    ecsMock
      .on(UpdateServiceCommand, { service: 'worker', taskDefinition: TD(7) })
      .rejects(Object.assign(new Error('Service was not ACTIVE.'), { name: 'ServiceNotActiveException' }));
    const r = await deploy(inputs({ services: 'api\nworker', 'max-parallel': '1' }), deps());
    expect(r.status).toBe('failed');
    expect(r.services.map((s) => [s.service, s.result])).toEqual([
      ['api', 'rolled back'],
      ['worker', 'failed'],
    ]);
    expect(r.error?.message).toMatch(/worker: UpdateService failed: ServiceNotActiveException: Service was not ACTIVE\./);
    expect(r.error?.message).toContain(`api rolled back to ${TD(6)}`);
  });

  it('an UpdateService that ECS applied although its retries failed (answer lost, then throttled) is read back and rolled back', async () => {
    const { current } = fakeEcs(['api'], {
      runningRev: 6,
      latestRev: 6,
      outcome: (_s, _p, d) => (d.taskDefinition === TD(6) ? completed(d) : [d]),
    });
    ecsMock.on(UpdateServiceCommand, { service: 'api', taskDefinition: TD(7) }).callsFake(() => {
      // The first attempt was applied, its answer lost; every retry was throttled until max-attempts.
      const old = current.get('api')!.map((x) => ({ ...x, status: 'ACTIVE' }));
      const d: Deployment = {
        id: 'ecs-svc/api-new',
        status: 'PRIMARY',
        taskDefinition: TD(7),
        desiredCount: 2,
        runningCount: 0,
        rolloutState: 'IN_PROGRESS',
      };
      current.set('api', [d, ...old]);
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    });
    const r = await deploy(inputs(), deps());
    expect(r.status).toBe('failed');
    const updates = ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.taskDefinition);
    expect(updates).toEqual([TD(7), TD(6)]);
    expect(r.services.map((s) => [s.service, s.result])).toEqual([['api', 'rolled back']]);
  });

  it('an AWS call failing past max-attempts before any update (RegisterTaskDefinition throttled) ends with a result, not an exception', async () => {
    fakeEcs(['api'], { runningRev: 6, latestRev: 6, outcome: (_s, _p, d) => completed(d) });
    ecsMock
      .on(RegisterTaskDefinitionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const r = await deploy(inputs(), deps());
    expect(r.status).toBe('failed');
    expect(r.services.map((s) => [s.service, s.result, s.before])).toEqual([['api', 'failed', TD(6)]]);
    expect(r.error?.message).toMatch(/failed \(ThrottlingException: Rate exceeded\) during registering/);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('updates 12 services with DescribeServices batched by 10', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `svc${i}`);
    fakeEcs(names, { runningRev: 6, latestRev: 6, outcome: (_s, polls, d) => (polls >= 3 ? completed(d) : [d]) });
    const r = await deploy(inputs({ services: names.join('\n') }), deps());
    expect(r.status).toBe('succeeded');
    const sizes = ecsMock.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services!.length);
    expect(Math.max(...sizes)).toBe(10);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(12);
    expect(Object.keys(r.deploymentIds)).toHaveLength(12);
  });

  it('skips services already on the revision unless forced', async () => {
    fakeEcs(['api'], { runningRev: 6, latestRev: 6, outcome: (_s, _p, d) => completed(d) });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...fileDef, taskDefinitionArn: TD(6) }, tags: [] });
    const r = await deploy(inputs(), deps());
    expect(r).toMatchObject({ status: 'unchanged', changed: false, taskDefinitionArn: TD(6) });
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    const forced = await deploy(inputs({ 'force-new-deployment': 'true' }), deps());
    expect(forced.status).toBe('succeeded');
    expect(ecsMock.commandCalls(UpdateServiceCommand)[0]!.args[0].input.forceNewDeployment).toBe(true);
  });

  it('fails on a missing service before registering anything', async () => {
    fakeEcs(['api'], { runningRev: 6, latestRev: 6, outcome: (_s, _p, d) => completed(d) });
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/ghost', reason: 'MISSING' }] });
    await expect(deploy(inputs({ services: 'ghost' }), deps())).rejects.toThrow(/Service 'ghost' was not found in cluster 'prod'/);
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('pins the image digest when asked', async () => {
    fakeEcs(['api'], { runningRev: 6, latestRev: 6, outcome: (_s, _p, d) => completed(d) });
    await deploy(inputs({ 'pin-image-digest': 'true' }), deps());
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input.containerDefinitions![0]!.image).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend@sha256:aa',
    );
  });
});
