import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  type Service,
  type ServiceDeploymentBrief,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { resolvePrevious, successfulDeployments } from '../../actions/deploy-ecs/previous.js';
import { ActionError } from '../../lib/errors.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
/** Service revision `n` runs task definition revision `n % 100` (so one revision can be deployed many times). */
const REV = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:service-revision/prod/api/${n}`;
const at = (s: number) => new Date(s * 1000);
const row = (rev: number, s: number): ServiceDeploymentBrief => ({ targetServiceRevisionArn: REV(rev), createdAt: at(s) });

/** ECS with one service history; `described` says which service revisions DescribeServiceRevisions knows. */
function ecsWith(history: ServiceDeploymentBrief[], described: (n: number) => boolean = () => true) {
  const ecs = mockClient(ECSClient);
  ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: history });
  ecs.on(DescribeServiceRevisionsCommand).callsFake(async (input: { serviceRevisionArns: string[] }) => ({
    serviceRevisions: input.serviceRevisionArns
      .map((arn) => Number(arn.split('/').pop()))
      .filter(described)
      .map((n) => ({ serviceRevisionArn: REV(n), taskDefinition: TD(n % 100) })),
  }));
  return ecs;
}
const on = (rev: number): Map<string, Service> => new Map([['api', { serviceName: 'api', taskDefinition: TD(rev) }]]);
const previousOf = async (ecs: ReturnType<typeof mockClient>, rev: number) =>
  (await resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api'], on(rev)))[0]!;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ActionError,
  );

describe('successfulDeployments', () => {
  it('asks for SUCCESSFUL deployments 100 at a time, follows nextToken, and sorts newest first (no createdAt: oldest)', async () => {
    const ecs = mockClient(ECSClient);
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [row(1, 1), { targetServiceRevisionArn: 'no-time' }], nextToken: 't1' })
      .resolvesOnce({ serviceDeployments: [row(3, 3)], nextToken: 't2' })
      .resolvesOnce({ serviceDeployments: [row(2, 2)] });
    const rows = await successfulDeployments(ecs as unknown as ECSClient, 'prod', 'api');
    expect(rows.map((r) => r.targetServiceRevisionArn)).toEqual([REV(3), REV(2), REV(1), 'no-time']);
    expect(ecs.commandCalls(ListServiceDeploymentsCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'api', status: ['SUCCESSFUL'], maxResults: 100, nextToken: undefined },
      { cluster: 'prod', service: 'api', status: ['SUCCESSFUL'], maxResults: 100, nextToken: 't1' },
      { cluster: 'prod', service: 'api', status: ['SUCCESSFUL'], maxResults: 100, nextToken: 't2' },
    ]);
  });

  it('reads at most 5 pages; an answer without a list adds nothing', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).resolves({ nextToken: 'more' });
    expect(await successfulDeployments(ecs as unknown as ECSClient, 'prod', 'api')).toEqual([]);
    expect(ecs.commandCalls(ListServiceDeploymentsCommand)).toHaveLength(5);
  });
});

describe('resolvePrevious: the release before the current one that was not rolled away from', () => {
  it('names the previous revision and when its deployment started', async () => {
    const ecs = ecsWith([row(3, 1), row(4, 2), row(5, 3)]);
    expect(await previousOf(ecs, 5)).toEqual({ service: 'api', current: TD(5), previous: TD(4), deployedAt: at(2) });
  });

  it('after v1, v2, v3 and a rollback to v2, the previous of v2 is v1, never v3', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2), row(3, 3), row(102, 4)]);
    expect((await previousOf(ecs, 2)).previous).toBe(TD(1));
  });

  it('a redeploy of the revision on top keeps the line; the earlier deployment time is kept', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2), row(102, 3), row(3, 4)]);
    expect(await previousOf(ecs, 3)).toEqual({ service: 'api', current: TD(3), previous: TD(2), deployedAt: at(2) });
  });

  it('a current revision with no successful deployment yet: the top of the line came before it', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2), row(3, 3)]);
    expect((await previousOf(ecs, 9)).previous).toBe(TD(3));
  });

  it('a rollback to the oldest release cuts the line back to it: redeploying a later one steps back to the oldest', async () => {
    // v1, v2, v3, then back to v1; v3 is being deployed again (no success yet): the line is v1 alone.
    const ecs = ecsWith([row(1, 1), row(2, 2), row(3, 3), row(101, 4)]);
    expect((await previousOf(ecs, 3)).previous).toBe(TD(1));
  });

  it('no history: no service revision is described', async () => {
    const ecs = ecsWith([]);
    expect(await failure(resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api'], on(2)))).toBeInstanceOf(ActionError);
    expect(ecs.commandCalls(DescribeServiceRevisionsCommand)).toHaveLength(0);
  });

  it('skips rows without a service revision and revisions ECS cannot describe', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2), { createdAt: at(3) }, row(3, 4), row(4, 5)], (n) => n !== 3);
    // Without revision 3 described, the line is 1, 2, 4: the previous of 4 is 2.
    expect((await previousOf(ecs, 4)).previous).toBe(TD(2));
    expect(ecs.commandCalls(DescribeServiceRevisionsCommand)[0]!.args[0].input.serviceRevisionArns).toEqual([
      REV(1),
      REV(2),
      REV(3),
      REV(4),
    ]);
  });

  it('describes the service revisions 20 at a time, oldest first', async () => {
    const history = Array.from({ length: 45 }, (_, i) => row(i + 1, i + 1));
    const ecs = ecsWith(history);
    expect((await previousOf(ecs, 45)).previous).toBe(TD(44));
    const asked = ecs.commandCalls(DescribeServiceRevisionsCommand).map((c) => c.args[0].input.serviceRevisionArns!);
    expect(asked.map((a) => a.length)).toEqual([20, 20, 5]);
    expect(asked[0]![0]).toBe(REV(1));
    expect(asked[2]![4]).toBe(REV(45));
  });

  it('an answer without serviceRevisions, or a revision without an ARN, gives no line: the error names task-definition', async () => {
    const ecs = mockClient(ECSClient);
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [row(1, 1), row(2, 2)] });
    ecs
      .on(DescribeServiceRevisionsCommand)
      .resolvesOnce({})
      .resolves({ serviceRevisions: [{ taskDefinition: TD(1) }] });
    const err = await failure(resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api'], on(2)));
    expect(String(err)).toBe(
      "input 'task-definition': Service 'api' has no earlier successful deployment recorded by ECS that was not rolled away from " +
        '(it runs api:2; ECS describes service revisions created since 2024-10-25 only). Fix: Give the revision to return to ' +
        'instead of previous, e.g. task-definition: family:revision.',
    );
    const again = await failure(resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api'], on(2)));
    expect(String(again)).toBe(String(err));
    expect(again).toBeInstanceOf(ActionError);
  });

  it('describes the services itself when not given them; a missing service names the services input', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2)]);
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'api', taskDefinition: TD(2) }] });
    expect(await resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api'])).toEqual([
      { service: 'api', current: TD(2), previous: TD(1), deployedAt: at(1) },
    ]);
    const err = await failure(resolvePrevious(ecs as unknown as ECSClient, 'prod', ['web']));
    expect(String(err)).toBe(
      "input 'services': Service 'web' was not found in cluster 'prod', so it has no previous revision. Fix: Check the service name and the cluster.",
    );
  });

  it('services that ran the same previous revision: one result each', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2)]);
    const known = new Map<string, Service>([
      ['a', { taskDefinition: TD(2) }],
      ['b', { taskDefinition: TD(2) }],
    ]);
    const got = await resolvePrevious(ecs as unknown as ECSClient, 'prod', ['a', 'b'], known);
    expect(got.map((r) => [r.service, r.previous])).toEqual([
      ['a', TD(1)],
      ['b', TD(1)],
    ]);
  });

  it('services that ran different revisions before: refused, naming each', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2), row(3, 3)]);
    const known = new Map<string, Service>([
      ['a', { taskDefinition: TD(3) }],
      ['b', { taskDefinition: TD(2) }],
    ]);
    const err = await failure(resolvePrevious(ecs as unknown as ECSClient, 'prod', ['a', 'b'], known));
    expect(String(err)).toBe(
      "input 'task-definition': The services ran different revisions before their current one (a: api:2, b: api:1). " +
        'Fix: Roll them back one at a time (one service per run), or give the revision explicitly.',
    );
  });

  it('every problem at once: the disagreement is not reported on top of a missing service', async () => {
    const ecs = ecsWith([row(1, 1), row(2, 2), row(3, 3)]);
    const known = new Map<string, Service>([
      ['a', { taskDefinition: TD(3) }],
      ['b', { taskDefinition: TD(2) }],
    ]);
    const err = await failure(resolvePrevious(ecs as unknown as ECSClient, 'prod', ['a', 'b', 'c', 'd'], known));
    expect(err!.message).toMatch(/^task-definition 'previous' cannot be resolved \(2 problems\):\n/);
    expect(err!.problems.map((p) => p.message)).toEqual([
      "Service 'c' was not found in cluster 'prod', so it has no previous revision.",
      "Service 'd' was not found in cluster 'prod', so it has no previous revision.",
    ]);
  });
});
