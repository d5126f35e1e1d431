/**
 * The PAUSE-hook step of the wait (hookStep, wait.ts nativeStep) with a mocked ECS client: which answer
 * goes to ContinueServiceDeployment, the verdict it gives, and what happens when the run is cancelled
 * while a gate is still running at a pause.
 */
import { spawn } from 'node:child_process';
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  ECSClient,
  type Service,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { hookStep, pauseHook, startGates } from '../../actions/deploy-ecs/gate-hook.js';
import type { Inputs } from '../../actions/deploy-ecs/inputs.js';
import type { Verdict } from '../../actions/deploy-ecs/judge.js';
import type { GateInputs } from '../../actions/deploy-ecs/gate-inputs.js';
import type { GateResult } from '../../actions/deploy-ecs/gate-types.js';
import { nativeState } from '../../actions/deploy-ecs/native.js';
import { realClock } from '../../lib/poll.js';
import { memoryReporter } from '../../lib/report.js';

const ecsMock = mockClient(ECSClient);
const arn = 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/prod/api/abc';
const t = {
  service: 'api',
  serviceDeploymentArn: arn,
  targetArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:8',
  startedAt: 0,
};
const hook = {
  hookId: 'ecs-pause-1',
  targetType: 'PAUSE' as const,
  status: 'AWAITING_ACTION' as const,
  timeoutAction: 'ROLLBACK' as const,
};
const paused: ServiceDeployment = {
  serviceDeploymentArn: arn,
  status: 'IN_PROGRESS',
  lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
  lifecycleHookDetails: [hook],
  rollback: undefined,
};

/** A blue/green service pausing after the test traffic shift (the gate's stage) and after the production shift (a person's go/no-go). */
const service = {
  deploymentConfiguration: {
    strategy: 'BLUE_GREEN' as const,
    lifecycleHooks: [
      { targetType: 'PAUSE' as const, lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const, 'POST_PRODUCTION_TRAFFIC_SHIFT' as const] },
    ],
  },
};

function gate(command: string): GateInputs {
  return {
    urls: new Map([['api', []]]),
    command,
    expectStatus: [],
    successes: 1,
    timeoutMs: 10_000,
    requestTimeoutMs: 1000,
    intervalMs: 10,
    followRedirects: false,
    method: 'GET',
    stage: 'POST_TEST_TRAFFIC_SHIFT',
  };
}

function setup(command: string, signal?: AbortSignal, opts: { stage?: GateInputs['stage']; service?: object } = {}) {
  const report = memoryReporter();
  const deps = {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    report,
    sleep: () => new Promise<void>((r) => setTimeout(r, 5)),
    now: realClock,
    signal,
  };
  const gateDeps = { fetch, spawn, sleep: deps.sleep, now: realClock, report };
  const results: GateResult[] = [];
  const step = hookStep(
    deps,
    gateDeps,
    { ...gate(command), stage: opts.stage ?? 'POST_TEST_TRAFFIC_SHIFT' },
    20,
    (r) => results.push(r),
    new Map([['api', (opts.service ?? service) as Service]]),
  );
  return { report, results, step: (sd: ServiceDeployment) => step(nativeState('api', sd), t) };
}

const continueActions = () => ecsMock.commandCalls(ContinueServiceDeploymentCommand).map((c) => c.args[0].input.action);

beforeEach(() => ecsMock.reset());

describe('hookStep', () => {
  it('answers each AWAITING_ACTION hook once: CONTINUE after a passing gate, and leaves the verdict to the judge', async () => {
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: arn });
    const { step, results } = setup('exit 0');
    expect(await step({ ...paused, lifecycleStage: 'SCALE_UP', lifecycleHookDetails: [] })).toBeUndefined();
    expect(continueActions()).toEqual([]);
    expect(await step(paused)).toBeUndefined();
    // The next poll may still show the hook before ECS moved on: no second gate, no second answer.
    expect(await step(paused)).toBeUndefined();
    expect(continueActions()).toEqual(['CONTINUE']);
    expect(ecsMock.commandCalls(ContinueServiceDeploymentCommand)[0]!.args[0].input).toEqual({
      serviceDeploymentArn: arn,
      hookId: 'ecs-pause-1',
      action: 'CONTINUE',
    });
    expect(results.map((r) => r.status)).toEqual(['passed']);
  });

  it('a LINEAR deployment pausing before each traffic step (gate-stage PRE_PRODUCTION_TRAFFIC_SHIFT) gets a gate at each pause', async () => {
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: arn });
    const linear = {
      deploymentConfiguration: {
        strategy: 'LINEAR' as const,
        linearConfiguration: { stepPercent: 50 },
        lifecycleHooks: [{ targetType: 'PAUSE' as const, lifecycleStages: ['PRE_PRODUCTION_TRAFFIC_SHIFT' as const] }],
      },
    };
    const { step, results } = setup('exit 0', undefined, { stage: 'PRE_PRODUCTION_TRAFFIC_SHIFT', service: linear });
    await step(paused);
    await step({
      ...paused,
      lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT',
      lifecycleHookDetails: [
        { ...hook, status: 'SUCCEEDED' },
        { ...hook, hookId: 'ecs-pause-2' },
      ],
    });
    expect(ecsMock.commandCalls(ContinueServiceDeploymentCommand).map((c) => c.args[0].input.hookId)).toEqual([
      'ecs-pause-1',
      'ecs-pause-2',
    ]);
    expect(results).toHaveLength(2);
  });

  it('a pause at another stage (after the production shift: a go/no-go) is left alone, the log says who must answer it', async () => {
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: arn });
    const { step, results, report } = setup('exit 0');
    await step(paused);
    const later: ServiceDeployment = {
      ...paused,
      lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT',
      lifecycleHookDetails: [
        { ...hook, status: 'SUCCEEDED' as const },
        { ...hook, hookId: 'ecs-pause-2', timeoutAction: 'CONTINUE' as const },
      ],
    };
    expect(await step(later)).toBeUndefined();
    expect(await step(later)).toBeUndefined();
    expect(ecsMock.commandCalls(ContinueServiceDeploymentCommand).map((c) => c.args[0].input.hookId)).toEqual(['ecs-pause-1']);
    expect(results).toHaveLength(1);
    const notes = report.lines.filter((l) => l.includes('ecs-pause-2'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /paused at POST_PRODUCTION_TRAFFIC_SHIFT \(hook ecs-pause-2\), not the gate's stage .*left alone\. Whoever set this PAUSE hook must answer it .*timeout action CONTINUE/,
    );
  });

  it('a pause at POST_SCALE_UP (no test traffic) gets no gate even when it is the only pause', async () => {
    const scaleUp = {
      deploymentConfiguration: {
        strategy: 'BLUE_GREEN' as const,
        lifecycleHooks: [{ targetType: 'PAUSE' as const, lifecycleStages: ['POST_SCALE_UP' as const] }],
      },
    };
    const { step, results } = setup('exit 0', undefined, { service: scaleUp });
    expect(await step({ ...paused, lifecycleStage: 'POST_SCALE_UP' })).toBeUndefined();
    expect(continueActions()).toEqual([]);
    expect(results).toEqual([]);
  });

  it('sends ROLLBACK after a failing gate and fails the verdict as a rollback ECS now runs', async () => {
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({});
    const { step, results } = setup('echo broken; exit 2');
    const v = await step({ ...paused, rollback: { serviceRevisionArn: 'arn:rev/blue' } });
    expect(continueActions()).toEqual(['ROLLBACK']);
    expect(results[0]!.command!.exitCode).toBe(2);
    expect(v).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(
        /^test-traffic gate failed at the POST_TEST_TRAFFIC_SHIFT pause hook: the gate command exited 2; ROLLBACK sent$/,
      ),
      replaced: { by: 'ecs-rollback' },
    });
  });

  it('a cancel while the gate runs at a pause kills the command and answers ROLLBACK (the release is not left paused)', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [paused] });
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({});
    const cancel = new AbortController();
    const { step, results } = setup('sleep 600', cancel.signal);
    const done = step(paused);
    await new Promise((r) => setTimeout(r, 300));
    cancel.abort();
    await done;
    expect(continueActions()).toEqual(['ROLLBACK']);
    expect(results[0]).toMatchObject({ status: 'skipped', reason: 'the gate command was stopped before it finished' });
  });

  it('the pause ends without us while the gate runs (hook timed out): the gate stops, nothing is sent', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [{ ...paused, status: 'ROLLBACK_IN_PROGRESS', lifecycleHookDetails: [{ ...hook, status: 'TIMED_OUT' }] }],
    });
    const { step, report, results } = setup('sleep 600');
    expect(await step(paused)).toBeUndefined();
    expect(continueActions()).toEqual([]);
    expect(results[0]).toMatchObject({ status: 'skipped' });
    expect(report.lines.join('\n')).toContain('left the pause without us');
  });

  it('the gate ends before the hook expires (with a margin), whatever gate-timeout-seconds says', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [paused] });
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({});
    const { step, results, report } = setup('sleep 600');
    // gate-timeout-seconds is 10 here; the hook expires in 16.5 s, so the gate has under 1.5 s (15 s kept for the answer).
    const v = await step({ ...paused, lifecycleHookDetails: [{ ...hook, expiresAt: new Date(Date.now() + 16_500) }] });
    expect(results[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/did not finish within 1\.[0-5]\d* s/) });
    expect(continueActions()).toEqual(['ROLLBACK']);
    expect(v).toMatchObject({ state: 'failed' });
    expect(report.lines.join('\n')).toMatch(/for at most 1\.[0-5] s \(15 s before the hook expires\)/);
  });

  it('the pause ends by its timeout action CONTINUE while the gate runs: expired, a failure without any answer sent, and no word of a cancel', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { ...paused, lifecycleStage: 'BAKE_TIME', lifecycleHookDetails: [{ ...hook, status: 'TIMED_OUT', timeoutAction: 'CONTINUE' }] },
      ],
    });
    const { step, results, report } = setup('sleep 600');
    const v = await step({ ...paused, lifecycleHookDetails: [{ ...hook, timeoutAction: 'CONTINUE' }] });
    expect(continueActions()).toEqual([]);
    expect(results[0]!.status).toBe('expired');
    expect(v).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(
        /^test-traffic gate expired at the POST_TEST_TRAFFIC_SHIFT pause hook: the pause ended before the gate passed: hook ecs-pause-1 is TIMED_OUT \(its timeout action CONTINUE ran\)/,
      ),
    });
    expect(v).not.toHaveProperty('replaced');
    expect(report.lines.join('\n')).not.toContain('cancel');
  });

  it('a failed ContinueServiceDeployment is a warning that names the hook timeout as the fallback', async () => {
    ecsMock
      .on(ContinueServiceDeploymentCommand)
      .rejects(Object.assign(new Error('not authorized to perform ecs:ContinueServiceDeployment'), { name: 'AccessDeniedException' }));
    const { step, report } = setup('exit 0');
    await step(paused);
    expect(report.lines.join('\n')).toMatch(
      /warning: api: ContinueServiceDeployment CONTINUE failed \(AccessDeniedException: not authorized.*\); the hook's own timeout action applies/,
    );
  });

  it('pauseHook finds a PAUSE hook on native and rolling strategies, not a Lambda hook', () => {
    const hooks = [{ targetType: 'PAUSE' as const, lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const] }];
    expect(pauseHook({ deploymentConfiguration: { strategy: 'CANARY', lifecycleHooks: hooks } })).toEqual(hooks[0]);
    expect(pauseHook({ deploymentConfiguration: { strategy: 'ROLLING', lifecycleHooks: hooks } })).toEqual(hooks[0]);
    expect(pauseHook({ deploymentConfiguration: { strategy: 'ROLLING' } })).toBeUndefined();
    expect(
      pauseHook({
        deploymentConfiguration: {
          strategy: 'BLUE_GREEN',
          lifecycleHooks: [{ targetType: 'AWS_LAMBDA', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] }],
        },
      }),
    ).toBeUndefined();
  });
});

describe('startGates after the wait', () => {
  it('on-other-deployment warn: a service another deployer took over does not let the services that succeeded skip their gate', async () => {
    const report = memoryReporter();
    const probed: string[] = [];
    const inputs = {
      gate: {
        ...gate(''),
        command: undefined,
        urls: new Map([
          ['api', ['http://test.invalid/api']],
          ['worker', ['http://test.invalid/worker']],
        ]),
      },
      onOtherDeployment: 'warn',
      pollIntervalSeconds: 1,
    } as unknown as Inputs;
    const tracked = ['api', 'worker'].map((service) => ({ ...t, service, serviceDeploymentArn: undefined }));
    const fakeFetch = (async (url: string) => {
      probed.push(String(url));
      return new Response('down', { status: 503 });
    }) as unknown as typeof fetch;
    let clock = 0;
    const deps = {
      ecs: new ECSClient({ region: 'eu-west-1' }),
      report,
      sleep: async (ms: number) => void (clock += ms),
      now: () => clock,
    };
    const run = startGates(inputs, deps, tracked, new Map(), { fetch: fakeFetch });
    const verdicts = new Map<string, Verdict>([
      ['api', { state: 'succeeded', progress: 'COMPLETED' }],
      ['worker', { state: 'superseded', progress: 'STOPPED', reason: 'another deployment', replaced: { by: 'other-deployer' } }],
    ]);
    await run.afterWait({
      verdicts,
      services: new Map(),
      serviceDeployments: new Map(),
      finishedAt: new Map(),
      timedOut: false,
      aborted: false,
      polls: 1,
    });
    expect(new Set(probed)).toEqual(new Set(['http://test.invalid/api']));
    expect(verdicts.get('api')?.state).toBe('failed');
    expect(run.results.map((r) => [r.service, r.status])).toEqual([['api', 'failed']]);
  });
});
