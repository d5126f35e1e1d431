import { DescribeServiceRevisionsCommand, ECSClient, ListServiceDeploymentsCommand, type Service } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { rollbackTarget, stableRevision } from '../../actions/deploy-ecs/rollback-target.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
const at = (s: number) => new Date(s * 1000);

describe('stableRevision (the rollback target without a history call)', () => {
  it('is what the service runs when it is steady', () => {
    expect(
      stableRevision({ taskDefinition: TD(5), deployments: [{ status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'COMPLETED' }] }),
    ).toEqual({ arn: TD(5) });
  });

  it('is the completed revision, not the unproven one, when an earlier deployment is still rolling out', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS', runningCount: 0, createdAt: at(2) },
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', runningCount: 2, createdAt: at(1) },
      ],
    });
    expect(r.arn).toBe(TD(5));
    expect(r.note).toBe('was still deploying api:6; the rollback target is api:5, the last deployment that completed');
  });

  it('is the last completed revision, never the FAILED one an earlier run left PRIMARY', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', runningCount: 0, createdAt: at(3) },
        { status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'COMPLETED', runningCount: 0, createdAt: at(1) },
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', runningCount: 2, createdAt: at(2) },
      ],
    });
    expect(r).toEqual({ arn: TD(5), note: 'was left FAILED on api:6; the rollback target is api:5, the last deployment that completed' });
  });

  it("follows ECS's rollback shown as a new deployment (rolloutStateReason 'rolling back to deploymentId')", () => {
    const r = stableRevision({
      taskDefinition: TD(5),
      deployments: [
        {
          id: 'ecs-svc/3',
          status: 'PRIMARY',
          taskDefinition: TD(5),
          rolloutState: 'IN_PROGRESS',
          rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.',
          runningCount: 0,
          createdAt: at(3),
        },
        { id: 'ecs-svc/2', status: 'ACTIVE', taskDefinition: TD(6), rolloutState: 'FAILED', runningCount: 3, createdAt: at(2) },
      ],
    });
    expect(r.arn).toBe(TD(5));
  });

  it("follows ECS's rollback shown as the old deployment back IN_PROGRESS, although the FAILED one serves more tasks", () => {
    const r = stableRevision({
      taskDefinition: TD(5),
      deployments: [
        {
          id: 'ecs-svc/1',
          status: 'PRIMARY',
          taskDefinition: TD(5),
          rolloutState: 'IN_PROGRESS',
          rolloutStateReason: 'ECS deployment ecs-svc/1 in progress.',
          runningCount: 1,
          createdAt: at(1),
        },
        { id: 'ecs-svc/2', status: 'ACTIVE', taskDefinition: TD(6), rolloutState: 'FAILED', runningCount: 3, createdAt: at(2) },
      ],
    });
    expect(r.arn).toBe(TD(5));
    expect(r.note).toMatch(/rolled back by ECS to api:5/);
  });

  it('asks the history when only a FAILED deployment is listed', () => {
    expect(
      stableRevision({
        taskDefinition: TD(6),
        deployments: [{ status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(2) }],
      }).arn,
    ).toBeUndefined();
  });
});

describe('rollbackTarget', () => {
  const onlyFailed: Service = {
    taskDefinition: TD(6),
    deployments: [{ status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(2) }],
  };

  it('is the newest SUCCESSFUL service deployment when only a FAILED one is listed', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { targetServiceRevisionArn: 'rev-4', createdAt: at(1) },
        { targetServiceRevisionArn: 'rev-5', createdAt: at(1.5) },
      ],
    });
    ecs.on(DescribeServiceRevisionsCommand).resolves({
      serviceRevisions: [
        { serviceRevisionArn: 'rev-4', taskDefinition: TD(4) },
        { serviceRevisionArn: 'rev-5', taskDefinition: TD(5) },
      ],
    });
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', onlyFailed);
    expect(r.arn).toBe(TD(5));
    expect(ecs.commandCalls(ListServiceDeploymentsCommand)[0]!.args[0].input.status).toEqual(['SUCCESSFUL']);
  });

  it('is empty (no rollback) rather than the FAILED revision when ECS records no success', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [{ targetServiceRevisionArn: 'rev-6', createdAt: at(1) }] });
    ecs.on(DescribeServiceRevisionsCommand).resolves({ serviceRevisions: [{ serviceRevisionArn: 'rev-6', taskDefinition: TD(6) }] });
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', onlyFailed);
    expect(r.arn).toBe('');
    expect(r.note).toMatch(/no rollback target/);
  });
});

describe('stableRevision: the edges of each step', () => {
  it.each<[string, Service, { arn?: string; note?: string }]>([
    ['a service without deployments: what it names', { taskDefinition: TD(5) }, { arn: TD(5) }],
    ['a service naming no revision and no deployment: empty', {}, { arn: '' }],
    [
      'a PRIMARY without a rollout state (no circuit-breaker era): what the service runs',
      { taskDefinition: TD(6), deployments: [{ status: 'PRIMARY', taskDefinition: TD(6) }] },
      { arn: TD(6) },
    ],
    [
      "ECS's rollback reason matched whatever its case",
      {
        taskDefinition: TD(5),
        deployments: [
          {
            id: 'ecs-svc/3',
            status: 'PRIMARY',
            taskDefinition: TD(5),
            rolloutState: 'IN_PROGRESS',
            rolloutStateReason: 'Rolling Back To Deployment x',
          },
        ],
      },
      { arn: TD(5), note: 'is being rolled back by ECS to api:5 (deployment ecs-svc/3); that is the rollback target' },
    ],
    [
      'an older FAILED deployment is no rollback sign: the PRIMARY is still deploying',
      {
        taskDefinition: TD(6),
        deployments: [
          { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS', createdAt: at(3) },
          { status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'FAILED', createdAt: at(1) },
          { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', createdAt: at(2) },
        ],
      },
      { arn: TD(5), note: 'was still deploying api:6; the rollback target is api:5, the last deployment that completed' },
    ],
    [
      'a FAILED PRIMARY that is not IN_PROGRESS is no ECS rollback, whatever its reason says',
      {
        taskDefinition: TD(6),
        deployments: [
          {
            status: 'PRIMARY',
            taskDefinition: TD(6),
            rolloutState: 'FAILED',
            rolloutStateReason: 'rolling back to deployment x',
            createdAt: at(2),
          },
          { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', createdAt: at(1) },
        ],
      },
      { arn: TD(5), note: 'was left FAILED on api:6; the rollback target is api:5, the last deployment that completed' },
    ],
    [
      'a completed deployment without a revision is not a target',
      {
        taskDefinition: TD(6),
        deployments: [
          { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(2) },
          { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: at(3) },
        ],
      },
      { note: 'was left FAILED on api:6 and lists no deployment that completed' },
    ],
  ])('%s', (_label, service, expected) => {
    expect(stableRevision(service)).toEqual(expected);
  });
});

describe('rollbackTarget: the history', () => {
  const onlyFailed: Service = {
    taskDefinition: TD(6),
    deployments: [{ status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(2) }],
  };

  it('does not read the history when the service itself names the target', async () => {
    const ecs = mockClient(ECSClient);
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', {
      taskDefinition: TD(5),
      deployments: [{ status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'COMPLETED' }],
    });
    expect(r).toEqual({ arn: TD(5), note: undefined });
    expect(ecs.calls()).toHaveLength(0);
  });

  it('describes revisions 20 at a time, skips rows without a revision and revisions listed FAILED, and names where the target came from', async () => {
    const ecs = mockClient(ECSClient);
    // Newest first after sorting: rev-30 … rev-1 (rev-30 is the FAILED revision 6 again).
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { createdAt: at(100) },
        ...Array.from({ length: 30 }, (_, i) => ({ targetServiceRevisionArn: `rev-${i + 1}`, createdAt: at(i + 1) })),
      ],
    });
    ecs.on(DescribeServiceRevisionsCommand).callsFake((input: { serviceRevisionArns: string[] }) => ({
      serviceRevisions: input.serviceRevisionArns.map((arn) => ({
        serviceRevisionArn: arn,
        // Only the oldest rows have a revision other than the FAILED one.
        taskDefinition: arn === 'rev-3' ? TD(3) : arn === 'rev-2' ? TD(2) : TD(6),
      })),
    }));
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', onlyFailed);
    expect(r).toEqual({
      arn: TD(3),
      note: 'was left FAILED on api:6 and lists no deployment that completed; the rollback target is api:3, its newest SUCCESSFUL service deployment (ListServiceDeployments)',
    });
    const asked = ecs.commandCalls(DescribeServiceRevisionsCommand).map((c) => c.args[0].input.serviceRevisionArns);
    expect(asked.map((a) => a!.length)).toEqual([20, 10]);
    expect(asked[0]![0]).toBe('rev-30');
  });

  it('has no target, and says why, when the history cannot be read', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).rejects(new Error('AccessDeniedException: not authorized to ecs:ListServiceDeployments'));
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', onlyFailed);
    expect(r.arn).toBe('');
    expect(r.note).toBe(
      'was left FAILED on api:6 and lists no deployment that completed, and its deployment history cannot be read ' +
        '(AccessDeniedException: not authorized to ecs:ListServiceDeployments): no rollback target',
    );
  });

  it('says ECS records no SUCCESSFUL deployment of another revision when the history has none', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', onlyFailed);
    expect(r).toEqual({
      arn: '',
      note: 'was left FAILED on api:6 and lists no deployment that completed, and ECS records no SUCCESSFUL deployment of another revision: no rollback target',
    });
    expect(ecs.commandCalls(DescribeServiceRevisionsCommand)).toHaveLength(0);
  });
});

describe('stableRevision: deployments in any order, fields left out', () => {
  it('finds the PRIMARY deployment wherever ECS lists it', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', createdAt: at(1) },
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS', createdAt: at(2) },
      ],
    });
    expect(r).toEqual({ arn: TD(5), note: 'was still deploying api:6; the rollback target is api:5, the last deployment that completed' });
  });

  it("recognises ECS's rollback (the old deployment back in front) when the FAILED newer one is listed first", () => {
    const r = stableRevision({
      taskDefinition: TD(5),
      deployments: [
        { id: 'ecs-svc/2', status: 'ACTIVE', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(2) },
        { id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'IN_PROGRESS', createdAt: at(1) },
      ],
    });
    expect(r).toEqual({ arn: TD(5), note: 'is being rolled back by ECS to api:5 (deployment ecs-svc/1); that is the rollback target' });
  });

  it('an older PRIMARY in front of a newer deployment that did not fail is no ECS rollback', () => {
    const r = stableRevision({
      taskDefinition: TD(5),
      deployments: [
        { id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'IN_PROGRESS', createdAt: at(1) },
        { id: 'ecs-svc/2', status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'COMPLETED', createdAt: at(2) },
      ],
    });
    expect(r).toEqual({ arn: TD(4), note: 'was still deploying api:5; the rollback target is api:4, the last deployment that completed' });
  });

  it('a FAILED deployment created at the same moment as the PRIMARY is not newer: no ECS rollback', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { id: 'ecs-svc/3', status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS', createdAt: at(2) },
        { id: 'ecs-svc/2', status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'FAILED', createdAt: at(2) },
        { id: 'ecs-svc/1', status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', createdAt: at(1) },
      ],
    });
    expect(r).toEqual({ arn: TD(5), note: 'was still deploying api:6; the rollback target is api:5, the last deployment that completed' });
  });

  it('only a COMPLETED deployment is a target: a newer FAILED one is passed over', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS', createdAt: at(3) },
        { status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'FAILED', createdAt: at(2) },
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', createdAt: at(1) },
      ],
    });
    expect(r).toEqual({ arn: TD(5), note: 'was still deploying api:6; the rollback target is api:5, the last deployment that completed' });
  });

  it('a deployment without createdAt counts as the oldest', () => {
    const r = stableRevision({
      taskDefinition: TD(6),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(3) },
        { status: 'ACTIVE', taskDefinition: TD(4), rolloutState: 'COMPLETED' },
        { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED', createdAt: at(1) },
      ],
    });
    expect(r.arn).toBe(TD(5));
  });
});

describe('rollbackTarget: only revisions listed FAILED are skipped in the history', () => {
  it('a revision still deploying (not FAILED) stays a target from the history', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { targetServiceRevisionArn: 'rev-a', createdAt: at(1) },
        { targetServiceRevisionArn: 'rev-b', createdAt: at(2) },
      ],
    });
    ecs.on(DescribeServiceRevisionsCommand).resolves({
      serviceRevisions: [
        { serviceRevisionArn: 'rev-a', taskDefinition: TD(5) },
        { serviceRevisionArn: 'rev-b', taskDefinition: TD(7) },
      ],
    });
    // api:7 is being deployed again (forced) and api:6 FAILED before it: api:7 served last.
    const r = await rollbackTarget(ecs as unknown as ECSClient, 'c', 'api', {
      taskDefinition: TD(7),
      deployments: [
        { status: 'PRIMARY', taskDefinition: TD(7), rolloutState: 'IN_PROGRESS', createdAt: at(4) },
        { status: 'ACTIVE', taskDefinition: TD(6), rolloutState: 'FAILED', createdAt: at(3) },
      ],
    });
    expect(r.arn).toBe(TD(7));
  });
});
