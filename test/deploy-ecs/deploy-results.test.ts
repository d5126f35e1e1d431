import { describe, expect, it } from 'vitest';
import {
  cancelledBeforeWrites,
  dryRunResult,
  overallStatus,
  previousArnOutput,
  serviceResults,
  type Outcomes,
} from '../../actions/deploy-ecs/deploy-results.js';
import type { ServiceResult } from '../../actions/deploy-ecs/deploy-types.js';
import type { Inputs } from '../../actions/deploy-ecs/inputs.js';
import type { Verdict } from '../../actions/deploy-ecs/judge.js';
import type { WaitOutcome } from '../../actions/deploy-ecs/wait.js';

type ServiceOutcome = ServiceResult['result'];
const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
const result = (service: string, outcome: ServiceOutcome): ServiceResult => ({ service, after: TD(7), result: outcome, durationMs: 0 });

/** overallStatus as deploy() calls it: `failed` holds the failing results, `superseded` the superseded ones. */
function statusOf(outcomes: ServiceOutcome[], failing: ServiceOutcome[], updated: number) {
  const results = outcomes.map((o, i) => result(`svc${i}`, o));
  return overallStatus(
    results,
    results.filter((r) => failing.includes(r.result)),
    results.filter((r) => r.result === 'superseded'),
    updated,
  );
}
const FAILING: ServiceOutcome[] = ['failed', 'timed-out', 'cancelled'];

describe('overallStatus: a cancel wins, then a failure, then a timeout, then another deployer, then what was done', () => {
  it('a cancelled service makes the run cancelled, even beside a failed and a timed-out one', () => {
    expect(statusOf(['failed', 'cancelled', 'timed-out'], FAILING, 3)).toBe('cancelled');
  });
  it('a failed service beside a timed-out one: failed', () => {
    expect(statusOf(['timed-out', 'failed'], FAILING, 2)).toBe('failed');
  });
  it('a superseded service counted as failing (on-other-deployment: fail) fails the run', () => {
    expect(statusOf(['superseded', 'succeeded'], [...FAILING, 'superseded'], 2)).toBe('failed');
  });
  it('only timed-out services: timed-out', () => {
    expect(statusOf(['timed-out', 'succeeded'], FAILING, 2)).toBe('timed-out');
  });
  it('a superseded service not counted as failing: superseded, although another succeeded', () => {
    expect(statusOf(['succeeded', 'superseded'], FAILING, 2)).toBe('superseded');
  });
  it('services updated and none failing: succeeded; none updated: unchanged', () => {
    expect(statusOf(['succeeded'], FAILING, 1)).toBe('succeeded');
    expect(statusOf(['unchanged', 'unchanged'], FAILING, 0)).toBe('unchanged');
  });
});

describe('previousArnOutput', () => {
  it('one ARN when every service ran the same revision (or there is one service)', () => {
    expect(
      previousArnOutput(
        ['api', 'web'],
        new Map([
          ['api', TD(4)],
          ['web', TD(4)],
        ]),
      ),
    ).toBe(TD(4));
    expect(previousArnOutput(['api'], new Map([['api', TD(4)]]))).toBe(TD(4));
  });
  it('service=ARN lines when the services ran different revisions, an empty ARN for one without a target', () => {
    expect(
      previousArnOutput(
        ['api', 'web', 'jobs'],
        new Map([
          ['api', TD(4)],
          ['web', TD(5)],
        ]),
      ),
    ).toBe(`api=${TD(4)}\nweb=${TD(5)}\njobs=`);
  });
  it('empty when no service has a rollback target', () => {
    expect(previousArnOutput(['api', 'web'], new Map())).toBe('');
  });
});

const inputs = { services: ['api'], timeoutMinutes: 2 } as Inputs;
const waited = (verdict: Verdict | undefined, extra: Partial<WaitOutcome> = {}): WaitOutcome => ({
  verdicts: new Map(verdict ? [['api', verdict]] : []),
  services: new Map(),
  serviceDeployments: new Map(),
  finishedAt: new Map(verdict ? [['api', 31_000]] : []),
  timedOut: false,
  aborted: false,
  polls: 3,
  ...extra,
});
/** One service, api, updated from :4 to :7 at t = 1 s (the run started at t = 0). */
const outcomes = (extra: Partial<Outcomes> = {}): Outcomes => ({
  arn: TD(7),
  previous: new Map([['api', TD(4)]]),
  tracked: [{ service: 'api', deploymentId: 'ecs-svc/1', targetArn: TD(7), startedAt: 1000 }],
  toUpdate: [{ service: 'api' }],
  updateErrors: new Map(),
  aborted: false,
  stoppedInFanOut: false,
  started: 0,
  now: 50_000,
  reserve: 0,
  ...extra,
});
const only = (o: Outcomes) => serviceResults(inputs, o)[0];

describe('serviceResults: each service judged from what the update and the wait saw', () => {
  it('succeeded: its deployment id, the revisions before and after, the time from its update to its verdict', () => {
    expect(only(outcomes({ waited: waited({ state: 'succeeded', progress: '2/2' }) }))).toEqual({
      service: 'api',
      before: TD(4),
      after: TD(7),
      result: 'succeeded',
      durationMs: 30_000,
      deploymentId: 'ecs-svc/1',
    });
  });
  it("failed and superseded carry the verdict's reason", () => {
    expect(only(outcomes({ waited: waited({ state: 'failed', progress: '0/2', reason: 'circuit breaker' }) }))).toMatchObject({
      result: 'failed',
      reason: 'circuit breaker',
    });
    const replaced = { by: 'other-deployer' as const, deploymentId: 'ecs-svc/2', taskDefinition: TD(8) };
    expect(
      only(outcomes({ waited: waited({ state: 'superseded', progress: '1/2', reason: 'another deployer', replaced }) })),
    ).toMatchObject({
      result: 'superseded',
      reason: 'another deployer',
    });
  });
  it('an UpdateService error fails the service with its text, whatever the wait saw', () => {
    expect(
      only(outcomes({ updateErrors: new Map([['api', 'AccessDenied']]), waited: waited({ state: 'succeeded', progress: '2/2' }) })),
    ).toEqual({ service: 'api', before: TD(4), after: TD(7), result: 'failed', durationMs: 0, reason: 'AccessDenied' });
  });
  it('planned but never updated: cancelled when the run was cancelled, timed-out when the deadline passed in the fan-out', () => {
    expect(only(outcomes({ tracked: [], aborted: true }))).toMatchObject({ result: 'cancelled', durationMs: 0 });
    expect(only(outcomes({ tracked: [], stoppedInFanOut: true }))).toMatchObject({
      result: 'timed-out',
      reason: 'not updated: timeout-minutes (2) passed during the UpdateService fan-out',
    });
  });
  it('not planned (already on the revision): unchanged', () => {
    expect(only(outcomes({ tracked: [], toUpdate: [] }))).toEqual({
      service: 'api',
      before: TD(4),
      after: TD(7),
      result: 'unchanged',
      durationMs: 0,
    });
    // Not planned wins over a cancel or a fan-out timeout: nothing of this service was cut short.
    expect(only(outcomes({ tracked: [], toUpdate: [], aborted: true, stoppedInFanOut: true }))?.result).toBe('unchanged');
  });
  it('updated, no verdict yet: cancelled (with the last progress) when the run was cancelled', () => {
    expect(only(outcomes({ aborted: true, waited: waited({ state: 'waiting', progress: '1/2 running' }) }))).toMatchObject({
      result: 'cancelled',
      reason: 'cancelled while 1/2 running',
    });
    expect(only(outcomes({ aborted: true }))).toMatchObject({
      result: 'cancelled',
      reason: 'cancelled while starting',
      durationMs: 49_000,
    });
  });
  it('updated, the state unreadable: failed, naming the poll failure', () => {
    expect(only(outcomes({ waited: waited(undefined, { pollFailure: 'ThrottlingException' }) }))).toMatchObject({
      result: 'failed',
      reason: 'could not read the service state: ThrottlingException',
    });
  });
  it('updated, the deadline passed in the fan-out before any wait: timed-out, not waited for', () => {
    expect(only(outcomes({ stoppedInFanOut: true }))).toMatchObject({
      result: 'timed-out',
      reason: 'updated, not waited for: timeout-minutes (2) passed during the UpdateService fan-out',
    });
  });
  it('the wait timed out: the seconds since the run started, the reserve kept for a rollback, the last progress', () => {
    const timedOut = outcomes({
      now: 95_000,
      reserve: 25_000,
      waited: waited({ state: 'waiting', progress: '1/2 running' }, { timedOut: true }),
    });
    timedOut.waited!.finishedAt.clear();
    expect(only(timedOut)).toMatchObject({
      result: 'timed-out',
      durationMs: 94_000,
      reason: 'timed out after 95 s (timeout-minutes 2, the last 25 s kept for a rollback; 1/2 running)',
    });
    const noReserve = outcomes({ now: 120_040, waited: waited(undefined, { timedOut: true }) });
    expect(only(noReserve)?.reason).toBe('timed out after 120 s (timeout-minutes 2; no state yet)');
  });
  it('the timeout counts from when the run started, not from t = 0', () => {
    const late = outcomes({ started: 5000, now: 95_000, waited: waited(undefined, { timedOut: true }) });
    expect(only(late)?.reason).toBe('timed out after 90 s (timeout-minutes 2; no state yet)');
  });
  it("updated, not waited for because another service's UpdateService failed: interrupted, not timed out", () => {
    // deploy() waits for nothing once an update failed: no wait outcome, no deadline passed.
    const two = serviceResults({ services: ['api', 'web'], timeoutMinutes: 2 } as Inputs, {
      ...outcomes({ toUpdate: [{ service: 'api' }, { service: 'web' }] }),
      updateErrors: new Map([['web', 'AccessDenied']]),
    });
    expect(two.map((r) => [r.service, r.result])).toEqual([
      ['api', 'interrupted'],
      ['web', 'failed'],
    ]);
  });
  it('a cancel before the update cancels only the services planned for an update; the others stay unchanged', () => {
    const two = serviceResults({ services: ['api', 'web'], timeoutMinutes: 2 } as Inputs, outcomes({ tracked: [], aborted: true }));
    expect(two.map((r) => [r.service, r.result])).toEqual([
      ['api', 'cancelled'],
      ['web', 'unchanged'],
    ]);
  });
  it('updated and waited for, with no verdict and no timeout: interrupted', () => {
    expect(only(outcomes({ waited: waited({ state: 'waiting', progress: '1/2' }) }))).toMatchObject({ result: 'interrupted' });
  });
  it('judges each service by its own name', () => {
    const two = serviceResults({ services: ['api', 'web'], timeoutMinutes: 2 } as Inputs, {
      ...outcomes({ toUpdate: [{ service: 'api' }, { service: 'web' }] }),
      previous: new Map([
        ['api', TD(4)],
        ['web', TD(5)],
      ]),
      tracked: [{ service: 'web', deploymentId: 'ecs-svc/w', targetArn: TD(7), startedAt: 2000 }],
      waited: {
        ...waited(undefined),
        verdicts: new Map([['web', { state: 'succeeded', progress: '2/2' }]]),
        finishedAt: new Map([['web', 12_000]]),
      },
      aborted: true,
    });
    expect(two).toEqual([
      { service: 'api', before: TD(4), after: TD(7), result: 'cancelled', durationMs: 0 },
      { service: 'web', before: TD(5), after: TD(7), result: 'succeeded', durationMs: 10_000, deploymentId: 'ecs-svc/w' },
    ]);
  });
});

describe('the results of runs that stopped before any update', () => {
  const two = { services: ['api', 'web'], timeoutMinutes: 2 } as Inputs;
  const previous = new Map([
    ['api', TD(4)],
    ['web', TD(5)],
  ]);
  it('dry-run: each service planned with its line of the plan, "changed" when a revision would be registered', () => {
    const plan = {
      register: 'would register a new revision of api',
      lines: ['api: would update api:4 → new', 'web: already runs it'],
      diffs: [],
    };
    const r = dryRunResult(two, previous, plan, { taskDefinitionArn: TD(6) }, 1000, 3449);
    expect(r).toMatchObject({
      status: 'dry-run',
      changed: true,
      taskDefinitionArn: TD(6),
      previousTaskDefinitionArn: `api=${TD(4)}\nweb=${TD(5)}`,
      rolledBack: false,
      durationSeconds: 2.4,
      dryRun: plan,
      image: '',
      deploymentIds: {},
      diff: [],
      diagnoses: [],
    });
    expect(r.services).toEqual([
      { service: 'api', before: TD(4), after: TD(6), result: 'planned', durationMs: 0, reason: 'would update api:4 → new' },
      { service: 'web', before: TD(5), after: TD(6), result: 'planned', durationMs: 0, reason: 'already runs it' },
    ]);
    const reuse = dryRunResult(two, previous, { ...plan, register: 'uses api:6, which matches' }, undefined, 0, 0);
    expect(reuse).toMatchObject({ changed: false, taskDefinitionArn: '' });
    expect(reuse.services[0]!.after).toBe('');
  });
  it('cancelled before any update: every service cancelled, nothing to roll back, no plan', () => {
    const r = cancelledBeforeWrites(two, previous, 0, 1500);
    expect(r).toMatchObject({ status: 'cancelled', changed: false, rolledBack: false, durationSeconds: 1.5, dryRun: undefined });
    expect(r.services).toEqual([
      { service: 'api', before: TD(4), after: '', result: 'cancelled', durationMs: 0 },
      { service: 'web', before: TD(5), after: '', result: 'cancelled', durationMs: 0 },
    ]);
    expect(r.error?.message).toBe('deploy-ecs was cancelled before any service was updated (nothing to roll back).');
    expect(r.error?.fix).toBe('Re-run the workflow to deploy.');
  });
});
