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
