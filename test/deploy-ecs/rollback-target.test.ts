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
