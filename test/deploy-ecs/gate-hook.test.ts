/**
 * The PAUSE-hook driver with a mocked ECS client: which answer goes to ContinueServiceDeployment, and
 * what happens when the run ends (abort) while a gate is still running at a pause.
 */
import { spawn } from 'node:child_process';
import { ContinueServiceDeploymentCommand, DescribeServiceDeploymentsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { driveHooks, pauseHook } from '../../actions/deploy-ecs/gate-hook.js';
import type { GateInputs } from '../../actions/deploy-ecs/gate-inputs.js';
import type { GateResult } from '../../actions/deploy-ecs/gate.js';
import { realClock } from '../../lib/poll.js';
import { memoryReporter } from '../../lib/report.js';

const ecsMock = mockClient(ECSClient);
const arn = 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/prod/api/abc';
const t = { service: 'api', serviceDeploymentArn: arn, targetArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:8', startedAt: 0 };
const paused = { serviceDeploymentArn: arn, status: 'IN_PROGRESS' as const, lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' as const, lifecycleHookDetails: [{ hookId: 'ecs-pause-1', targetType: 'PAUSE' as const, status: 'AWAITING_ACTION' as const, timeoutAction: 'ROLLBACK' as const }] };

function gate(command: string): GateInputs {
  return { urls: new Map([['api', []]]), command, expectStatus: [], successes: 1, timeoutMs: 10_000, requestTimeoutMs: 1000, intervalMs: 10, followRedirects: false, method: 'GET' };
}

function setup(command: string) {
  const report = memoryReporter();
  const deps = { ecs: new ECSClient({ region: 'eu-west-1' }), report, sleep: () => new Promise<void>((r) => setTimeout(r, 5)), now: realClock };
  const gateDeps = { fetch, spawn, sleep: deps.sleep, now: realClock, report };
  const results: GateResult[] = [];
  return { report, results, drive: (signal: AbortSignal) => driveHooks(deps, gateDeps, gate(command), t, { intervalMs: 5, signal, onResult: (r) => results.push(r) }) };
}

const continueActions = () => ecsMock.commandCalls(ContinueServiceDeploymentCommand).map((c) => c.args[0].input.action);

beforeEach(() => ecsMock.reset());

describe('driveHooks', () => {
  it('answers each AWAITING_ACTION hook once: CONTINUE after a passing gate, then follows the deployment to its end', async () => {
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [{ ...paused, lifecycleStage: 'SCALE_UP', lifecycleHookDetails: [] }] })
      .resolvesOnce({ serviceDeployments: [paused] })
      .resolvesOnce({ serviceDeployments: [{ ...paused, lifecycleHookDetails: [{ ...paused.lifecycleHookDetails[0]!, status: 'SUCCEEDED' }] }] })
      .resolves({ serviceDeployments: [{ ...paused, status: 'SUCCESSFUL', lifecycleStage: 'CLEAN_UP' }] });
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: arn });
    const { drive, results, report } = setup('exit 0');
    await drive(new AbortController().signal);
    expect(continueActions()).toEqual(['CONTINUE']);
    expect(ecsMock.commandCalls(ContinueServiceDeploymentCommand)[0]!.args[0].input).toEqual({ serviceDeploymentArn: arn, hookId: 'ecs-pause-1', action: 'CONTINUE' });
    expect(results.map((r) => r.status)).toEqual(['passed']);
    expect(report.lines.filter((l) => l.includes('lifecycle stage'))).toEqual(['api: lifecycle stage SCALE_UP (IN_PROGRESS)', 'api: lifecycle stage POST_TEST_TRAFFIC_SHIFT (IN_PROGRESS)', 'api: lifecycle stage CLEAN_UP (SUCCESSFUL)']);
  });

  it('sends ROLLBACK after a failing gate', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolvesOnce({ serviceDeployments: [paused] }).resolves({ serviceDeployments: [{ ...paused, status: 'ROLLBACK_IN_PROGRESS' }] });
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({});
    const { drive, results } = setup('echo broken; exit 2');
    await drive(new AbortController().signal);
    expect(continueActions()).toEqual(['ROLLBACK']);
    expect(results[0]!.command!.exitCode).toBe(2);
  });

  it('a run that ends while the gate runs at a pause answers ROLLBACK (the release is not left paused)', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [paused] });
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({});
    const { drive, results } = setup('sleep 600');
    const abort = new AbortController();
    const done = drive(abort.signal);
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await done;
    expect(continueActions()).toEqual(['ROLLBACK']);
    expect(results[0]).toMatchObject({ status: 'skipped', reason: 'the gate command was stopped before it finished' });
  });

  it('a failed ContinueServiceDeployment is a warning that names the hook timeout as the fallback', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolvesOnce({ serviceDeployments: [paused] }).resolves({ serviceDeployments: [{ ...paused, status: 'SUCCESSFUL' }] });
    ecsMock.on(ContinueServiceDeploymentCommand).rejects(Object.assign(new Error('not authorized to perform ecs:ContinueServiceDeployment'), { name: 'AccessDeniedException' }));
    const { drive, report } = setup('exit 0');
    await drive(new AbortController().signal);
    expect(report.lines.join('\n')).toMatch(/warning: api: ContinueServiceDeployment CONTINUE failed \(AccessDeniedException: not authorized.*\); the hook's own timeout action applies/);
  });

  it('pauseHook finds a PAUSE hook only on native strategies', () => {
    const hooks = [{ targetType: 'PAUSE' as const, lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const] }];
    expect(pauseHook({ deploymentConfiguration: { strategy: 'CANARY', lifecycleHooks: hooks } })).toEqual(hooks[0]);
    expect(pauseHook({ deploymentConfiguration: { strategy: 'ROLLING', lifecycleHooks: hooks } })).toBeUndefined();
    expect(pauseHook({ deploymentConfiguration: { strategy: 'BLUE_GREEN', lifecycleHooks: [{ targetType: 'AWS_LAMBDA', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] }] } })).toBeUndefined();
  });
});
