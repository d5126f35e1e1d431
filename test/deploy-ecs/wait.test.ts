import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ECSClient,
  type DeploymentRolloutState,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { waitForDeployments } from '../../actions/deploy-ecs/wait.js';
import { memoryReporter } from '../../lib/report.js';

const NEW = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7';
const ecsMock = mockClient(ECSClient);
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
const svc = (rolloutState: DeploymentRolloutState, running: number): Service => ({
  serviceName: 'api',
  status: 'ACTIVE',
  deployments: [
    {
      id: 'ecs-svc/1',
      status: 'PRIMARY',
      taskDefinition: NEW,
      desiredCount: 2,
      runningCount: running,
      pendingCount: 2 - running,
      rolloutState,
    },
  ],
});

function clock() {
  let now = 0;
  const sleeps: number[] = [];
  return { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)), sleeps };
}

beforeEach(() => ecsMock.reset());

describe('waitForDeployments', () => {
  it('keeps waiting through failed polls (after the SDK retries) and prints a line only on change', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [svc('IN_PROGRESS', 0)] })
      .rejectsOnce(throttled())
      .resolvesOnce({ services: [svc('IN_PROGRESS', 0)] })
      .resolvesOnce({ services: [svc('IN_PROGRESS', 1)] })
      .resolves({ services: [svc('COMPLETED', 2)] });
    const report = memoryReporter();
    const c = clock();
    const out = await waitForDeployments(
      { ecs: new ECSClient({ region: 'eu-west-1' }), report, ...c },
      [{ service: 'api', deploymentId: 'ecs-svc/1', targetArn: NEW, startedAt: 0 }],
      {
        cluster: 'prod',
        intervalMs: 5000,
        timeoutMs: 60_000,
        maxFailedTasks: 3,
      },
    );
    expect(out.verdicts.get('api')?.state).toBe('succeeded');
    expect(report.lines).toEqual([
      'api: running 0/2, pending 2, IN_PROGRESS (0s)',
      'warning: poll failed (ThrottlingException: Rate exceeded); retrying',
      'api: running 1/2, pending 1, IN_PROGRESS (15s)',
      'api: SUCCEEDED running 2/2, pending 0, COMPLETED (20s)',
    ]);
    expect(c.sleeps.every((ms) => ms === 5000)).toBe(true);
  });

  it('ends the wait with a reason (not an exception) after five failed polls in a row', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(throttled());
    const c = clock();
    const out = await waitForDeployments(
      { ecs: new ECSClient({ region: 'eu-west-1' }), report: memoryReporter(), ...c },
      [{ service: 'api', deploymentId: 'ecs-svc/1', targetArn: NEW, startedAt: 0 }],
      {
        cluster: 'prod',
        intervalMs: 5000,
        timeoutMs: 600_000,
        maxFailedTasks: 3,
      },
    );
    expect(out.pollFailure).toBe('5 polls in a row failed (last: ThrottlingException: Rate exceeded)');
    expect(out.timedOut).toBe(false);
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(5);
  });

  it('stops at the timeout with the last state', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [svc('IN_PROGRESS', 1)] });
    const c = clock();
    const out = await waitForDeployments(
      { ecs: new ECSClient({ region: 'eu-west-1' }), report: memoryReporter(), ...c },
      [{ service: 'api', deploymentId: 'ecs-svc/1', targetArn: NEW, startedAt: 0 }],
      {
        cluster: 'prod',
        intervalMs: 5000,
        timeoutMs: 30_000,
        maxFailedTasks: 3,
      },
    );
    expect(out.timedOut).toBe(true);
    expect(c.now()).toBe(30_000);
    expect(out.verdicts.get('api')).toMatchObject({ state: 'waiting', progress: 'running 1/2, pending 1, IN_PROGRESS' });
  });

  it('a cancel ends the wait at once, even in the middle of a sleep', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [svc('IN_PROGRESS', 1)] });
    const cancel = new AbortController();
    let now = 0;
    // A sleep that never ends on its own: only the abort can end the wait.
    const sleep = () => (setTimeout(() => cancel.abort(), 5), new Promise<void>(() => undefined));
    const out = await waitForDeployments(
      { ecs: new ECSClient({ region: 'eu-west-1' }), report: memoryReporter(), sleep, now: () => now++, signal: cancel.signal },
      [{ service: 'api', deploymentId: 'ecs-svc/1', targetArn: NEW, startedAt: 0 }],
      {
        cluster: 'prod',
        intervalMs: 5000,
        timeoutMs: 600_000,
        maxFailedTasks: 3,
      },
    );
    expect(out.aborted).toBe(true);
    expect(out.timedOut).toBe(false);
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });

  it("nativeStep sees each poll's service deployment (arn, status, stage) and can decide the verdict", async () => {
    const bg = { ...svc('IN_PROGRESS', 2), deploymentConfiguration: { strategy: 'BLUE_GREEN' as const } };
    ecsMock.on(DescribeServicesCommand).resolves({ services: [bg] });
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [{ serviceDeploymentArn: 'arn:sd', status: 'IN_PROGRESS', lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' }],
    });
    const seen: string[] = [];
    const out = await waitForDeployments(
      { ecs: new ECSClient({ region: 'eu-west-1' }), report: memoryReporter(), ...clock() },
      [{ service: 'api', deploymentId: 'ecs-svc/1', serviceDeploymentArn: 'arn:sd', targetArn: NEW, startedAt: 0 }],
      {
        cluster: 'prod',
        intervalMs: 5000,
        timeoutMs: 60_000,
        maxFailedTasks: 3,
        nativeStep: async (state) => {
          seen.push(`${state.serviceDeploymentArn} ${state.status} ${state.lifecycleStage}`);
          return { state: 'failed', progress: 'gate', reason: 'test traffic gate failed' };
        },
      },
    );
    expect(seen).toEqual(['arn:sd IN_PROGRESS POST_TEST_TRAFFIC_SHIFT']);
    expect(out.verdicts.get('api')).toMatchObject({ state: 'failed', reason: 'test traffic gate failed' });
  });
});
