import { describe, expect, it } from 'vitest';
import { mapLimit, stableRevision } from '../../actions/deploy-ecs/services.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;

describe('stableRevision (the rollback target)', () => {
  it('is what the service runs when it is steady', () => {
    expect(stableRevision({ taskDefinition: TD(5), deployments: [{ status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'COMPLETED' }] })).toEqual({ arn: TD(5) });
  });

  it('is the serving revision, not the unproven one, when an earlier deployment is still rolling out', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS', runningCount: 0 },
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', runningCount: 2 },
      ],
    });
    expect(r.arn).toBe(TD(5));
    expect(r.note).toMatch(/^was still deploying api:6; the rollback target is api:5, /);
  });

  it('is the last completed revision, never the FAILED one an earlier run left PRIMARY', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', runningCount: 0, createdAt: new Date(3000) },
        { status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'COMPLETED', runningCount: 0, createdAt: new Date(1000) },
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', runningCount: 2, createdAt: new Date(2000) },
      ],
    });
    expect(r).toEqual({ arn: TD(5), note: 'was left FAILED on api:6; the rollback target is api:5, the last deployment that completed' });
  });
});

describe('stableRevision when an earlier run left the service mid-way', () => {
  const dep = (rev: number, status: string, rolloutState: string | undefined, runningCount: number, createdAt: number) => ({ status, taskDefinition: TD(rev), rolloutState, runningCount, createdAt: new Date(createdAt) });
  it.each([
    [
      'the last COMPLETED one, even when an unfinished one serves more tasks',
      [dep(7, 'PRIMARY', 'IN_PROGRESS', 0, 4000), dep(6, 'ACTIVE', 'IN_PROGRESS', 3, 3000), dep(5, 'ACTIVE', 'COMPLETED', 1, 2000)],
      { arn: TD(5), note: 'was still deploying api:7; the rollback target is api:5, the last deployment that completed' },
    ],
    [
      'the last COMPLETED one, even when a FAILED one serves more tasks',
      [dep(7, 'PRIMARY', 'FAILED', 0, 4000), dep(6, 'ACTIVE', 'FAILED', 4, 3000), dep(5, 'ACTIVE', 'COMPLETED', 2, 2000)],
      { arn: TD(5), note: 'was left FAILED on api:7; the rollback target is api:5, the last deployment that completed' },
    ],
    [
      'without a COMPLETED one, the one serving the most tasks',
      [dep(7, 'PRIMARY', 'IN_PROGRESS', 0, 4000), dep(6, 'ACTIVE', 'IN_PROGRESS', 1, 3000), dep(5, 'ACTIVE', undefined, 3, 2000), dep(4, 'ACTIVE', 'FAILED', 2, 1000)],
      { arn: TD(5), note: 'was still deploying api:7; the rollback target is api:5, which was serving' },
    ],
    [
      'without any earlier deployment, the revision the service names',
      [dep(7, 'PRIMARY', 'FAILED', 0, 4000)],
      { arn: TD(7), note: 'was left FAILED on api:7 and lists no earlier deployment; the rollback target is that revision' },
    ],
  ])('%s', (_label, deployments, expected) => {
    expect(stableRevision({ taskDefinition: TD(7), deployments })).toEqual(expected);
  });

  it.each([
    ['no PRIMARY deployment', [{ status: 'ACTIVE', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS' }]],
    ['a PRIMARY deployment without rollout state (older accounts)', [{ status: 'PRIMARY', taskDefinition: TD(6) }, { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED' }]],
  ])('%s: the revision the service names, without a note', (_label, deployments) => {
    expect(stableRevision({ taskDefinition: TD(6), deployments })).toEqual({ arn: TD(6) });
  });
});

describe('mapLimit', () => {
  it('never runs more than the limit at once and keeps the order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
  });
});
