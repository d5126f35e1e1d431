import { DescribeTaskDefinitionCommand, ECSClient, type Service, type TaskDefinition } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { Inputs } from '../../actions/deploy-ecs/inputs.js';
import { dryRunPlan, planServices } from '../../actions/deploy-ecs/plan.js';
import type { TaskDefinitionInput } from '../../lib/taskdef.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
const inputs = (over: Partial<Inputs> = {}): Inputs =>
  ({ services: ['api'], forceNewDeployment: false, imagePublish: 'none', tags: [], ...over }) as Inputs;
const plan = (service: Service, over: Partial<Inputs> = {}, arn = TD(6)) => planServices(inputs(over), new Map([['api', service]]), arn)[0];
/** Steady on `rev`: its one deployment COMPLETED, every task running. */
const steady = (rev: number, count = 2): Service => ({
  taskDefinition: TD(rev),
  desiredCount: count,
  runningCount: count,
  deployments: [{ status: 'PRIMARY', taskDefinition: TD(rev), rolloutState: 'COMPLETED' }],
});

describe('planServices: which services a run updates, and why', () => {
  it('updates a service that runs another revision; forces only when force-new-deployment is set', () => {
    expect(plan(steady(5))).toEqual({ service: 'api', update: true, force: false, why: 'runs api:5' });
    expect(plan(steady(5), { forceNewDeployment: true })).toEqual({ service: 'api', update: true, force: true, why: 'runs api:5' });
  });

  it('forces a new deployment of the revision a steady service runs when force-new-deployment is set', () => {
    expect(plan(steady(6), { forceNewDeployment: true })).toEqual({
      service: 'api',
      update: true,
      force: true,
      why: 'force-new-deployment',
    });
  });

  it('leaves a service steady on the revision unchanged, also when desired-count is what it has', () => {
    const unchanged = { service: 'api', update: false, force: false, why: 'steady on api:6 (deployment COMPLETED, 2/2 running)' };
    expect(plan(steady(6))).toEqual(unchanged);
    expect(plan(steady(6), { desiredCount: 2 })).toEqual(unchanged);
  });

  it('updates only the count of a steady service when desired-count differs', () => {
    expect(plan(steady(6), { desiredCount: 4 })).toEqual({ service: 'api', update: true, force: false, why: 'desired count 2 → 4' });
  });

  it('starts no deployment while its one COMPLETED deployment scales out', () => {
    const scaling: Service = { ...steady(6, 3), runningCount: 1 };
    expect(plan(scaling)).toEqual({
      service: 'api',
      update: false,
      force: false,
      why: 'on api:6, its one deployment COMPLETED and scaling (1/3 running); no new deployment',
    });
    // A deployment without rollout state (no circuit breaker) reads as COMPLETED; counts left out read as 0.
    const noState: Service = { taskDefinition: TD(6), desiredCount: 3, deployments: [{ status: 'PRIMARY', taskDefinition: TD(6) }] };
    expect(plan(noState)).toMatchObject({
      update: false,
      why: 'on api:6, its one deployment COMPLETED and scaling (0/3 running); no new deployment',
    });
    const noCounts: Service = { taskDefinition: TD(6), runningCount: 2, deployments: [{ status: 'PRIMARY', taskDefinition: TD(6) }] };
    expect(plan(noCounts)).toMatchObject({
      update: false,
      why: 'on api:6, its one deployment COMPLETED and scaling (2/0 running); no new deployment',
    });
  });

  it('forces a new deployment when the service is on the revision but not steady for another reason than scaling', () => {
    const forced = (why: string) => ({
      service: 'api',
      update: true,
      force: true,
      why: `on api:6 but not steady: ${why}; starting a new deployment`,
    });
    // Scaling while desired-count asks for another count: the update carries the count, and forces.
    expect(plan({ ...steady(6, 3), runningCount: 1 }, { desiredCount: 5 })).toEqual(forced('it runs 1 of 3 tasks'));
    expect(plan({ ...steady(6), deployments: [{ status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'IN_PROGRESS' }] })).toEqual(
      forced('its deployment of api:6 is IN_PROGRESS'),
    );
    expect(
      plan({
        ...steady(6, 3),
        runningCount: 1,
        deployments: [
          { status: 'PRIMARY', taskDefinition: TD(6), rolloutState: 'COMPLETED' },
          { status: 'ACTIVE', taskDefinition: TD(5), rolloutState: 'COMPLETED' },
        ],
      }),
    ).toEqual(forced('1 other deployment(s) still active (api:5 COMPLETED)'));
    // The service names the revision, but its one deployment is of another one.
    expect(
      plan({ ...steady(6, 3), runningCount: 1, deployments: [{ status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'COMPLETED' }] }),
    ).toEqual(forced('it runs api:6'));
    expect(plan({ taskDefinition: TD(6), desiredCount: 3, runningCount: 1 })).toEqual(forced('it runs api:6'));
  });

  it('plans every service in the order given', () => {
    const before = new Map([
      ['a', steady(5)],
      ['b', steady(6)],
    ]);
    expect(planServices(inputs({ services: ['b', 'a'] }), before, TD(6)).map((p) => [p.service, p.update])).toEqual([
      ['b', false],
      ['a', true],
    ]);
  });
});

const container = (image: string) => ({ name: 'app', image, essential: true, memory: 512 });
const def = (image: string, over: Partial<TaskDefinitionInput> = {}): TaskDefinitionInput => ({
  family: 'api',
  containerDefinitions: [container(image)],
  ...over,
});
const described = (rev: number, image: string): TaskDefinition => ({
  ...def(image),
  taskDefinitionArn: TD(rev),
  revision: rev,
  status: 'ACTIVE',
});

function ecsWith(defs: TaskDefinition[], tags: Record<string, { key: string; value: string }[]> = {}) {
  const ecs = mockClient(ECSClient);
  ecs.on(DescribeTaskDefinitionCommand).callsFake(async (input: { taskDefinition: string }) => {
    const found = input.taskDefinition === 'api' ? defs.at(-1) : defs.find((d) => d.taskDefinitionArn === input.taskDefinition);
    if (!found) throw Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' });
    return { taskDefinition: found, tags: tags[found.taskDefinitionArn!] };
  });
  return ecs;
}
const run = (
  ecs: ReturnType<typeof ecsWith>,
  over: Partial<Inputs>,
  d: TaskDefinitionInput | undefined,
  existing: TaskDefinition | undefined,
  before: Map<string, Service>,
) => dryRunPlan(ecs as unknown as ECSClient, inputs(over), d, existing, before);

describe('dryRunPlan: what a run would register and change, read-only', () => {
  it('uses a named revision as it is; a service on it shows no change', async () => {
    const ecs = ecsWith([described(6, 'app:2')]);
    const r = await run(ecs, {}, undefined, described(6, 'app:2'), new Map([['api', steady(6)]]));
    expect(r).toEqual({
      register: `use ${TD(6)} as it is`,
      lines: [`use ${TD(6)} as it is`, 'api: unchanged, steady on api:6 (deployment COMPLETED, 2/2 running)'],
      diffs: [{ service: 'api', against: TD(6), diff: ['no change: the service already runs this revision'] }],
    });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
  });

  it('uses a named revision as it is when the definition to register equals it', async () => {
    const ecs = ecsWith([described(5, 'app:1'), described(6, 'app:2')]);
    const r = await run(ecs, {}, def('app:2'), described(6, 'app:2'), new Map([['api', steady(5)]]));
    expect(r.register).toBe(`use ${TD(6)} as it is`);
    expect(r.lines[1]).toBe('api: would update (runs api:5)');
    expect(r.diffs).toEqual([{ service: 'api', against: TD(5), diff: ['container app image: app:1 → app:2'] }]);
  });

  it('registers nothing when the latest revision of the family already matches, tags included', async () => {
    const tags = [{ key: 'team', value: 'web' }];
    const ecs = ecsWith([described(5, 'app:1'), described(7, 'app:2')], { [TD(7)]: tags });
    const r = await run(ecs, {}, def('app:2', { tags }), undefined, new Map([['api', steady(7)]]));
    expect(r.register).toBe(`no new revision: ${TD(7)} already matches`);
    expect(r.lines[1]).toBe('api: unchanged, steady on api:7 (deployment COMPLETED, 2/2 running)');
    expect(r.diffs[0]!.diff).toEqual(['no change: the service already runs this revision']);
    const first = ecs.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input;
    expect(first).toEqual({ taskDefinition: 'api', include: ['TAGS'] });
  });

  it('registers a new revision when only the tags differ, and when the latest has tags the file leaves out', async () => {
    const ecs = ecsWith([described(7, 'app:2')], { [TD(7)]: [{ key: 'team', value: 'web' }] });
    const r = await run(ecs, {}, def('app:2', { tags: [{ key: 'team', value: 'api' }] }), undefined, new Map([['api', steady(7)]]));
    expect(r.register).toBe('would register a new revision of api (latest is api:7)');
    const untagged = await run(ecs, {}, def('app:2'), undefined, new Map([['api', steady(7)]]));
    expect(untagged.register).toBe('would register a new revision of api (latest is api:7)');
    // Neither side tagged: the same revision.
    const plain = await run(ecsWith([described(7, 'app:2')]), {}, def('app:2'), undefined, new Map([['api', steady(7)]]));
    expect(plain.register).toBe(`no new revision: ${TD(7)} already matches`);
  });

  it('would register a new revision: every service updates, each diffed against what it runs (each revision described once)', async () => {
    const ecs = ecsWith([described(5, 'app:1'), described(6, 'app:1')]);
    const before = new Map([
      ['a', steady(5)],
      ['b', steady(5)],
      ['c', steady(6)],
    ]);
    const r = await run(ecs, { services: ['a', 'b', 'c'] }, def('app:2'), undefined, before);
    expect(r.register).toBe('would register a new revision of api (latest is api:6)');
    expect(r.lines.slice(1)).toEqual(['a: would update (runs api:5)', 'b: would update (runs api:5)', 'c: would update (runs api:6)']);
    expect(r.diffs).toEqual([
      { service: 'a', against: TD(5), diff: ['container app image: app:1 → app:2'] },
      { service: 'b', against: TD(5), diff: ['container app image: app:1 → app:2'] },
      { service: 'c', against: TD(6), diff: ['container app image: app:1 → app:2'] },
    ]);
    const asked = ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition);
    expect(asked).toEqual(['api', TD(5), TD(6)]);
  });

  it("a named revision whose image changes: a new revision, compared with the family's latest", async () => {
    const ecs = ecsWith([described(6, 'app:2'), described(7, 'app:3')]);
    const r = await run(ecs, {}, def('app:3'), described(6, 'app:2'), new Map([['api', steady(6)]]));
    expect(r.register).toBe(`no new revision: ${TD(7)} already matches`);
    const changed = await run(ecs, {}, def('app:4'), described(6, 'app:2'), new Map([['api', steady(6)]]));
    expect(changed.register).toBe('would register a new revision of api (latest is api:7)');
    expect(changed.diffs).toEqual([{ service: 'api', against: TD(6), diff: ['container app image: app:2 → app:4'] }]);
  });

  it('a service that names no revision is diffed against nothing', async () => {
    const ecs = ecsWith([described(6, 'app:2')]);
    const r = await run(ecs, {}, undefined, described(6, 'app:2'), new Map([['api', { desiredCount: 1 }]]));
    expect(r.diffs).toEqual([{ service: 'api', against: '', diff: ['new family (no previous revision)'] }]);
  });

  it('a family ECS does not know: the first revision, diffed against nothing', async () => {
    const ecs = ecsWith([]);
    const r = await run(ecs, {}, def('app:2'), undefined, new Map([['api', steady(5)]]));
    expect(r.register).toBe('would register a new revision of api (first revision)');
    expect(r.diffs).toEqual([{ service: 'api', against: TD(5), diff: ['new family (no previous revision)'] }]);
  });

  it('a service on an equal revision under another number: no difference', async () => {
    const ecs = ecsWith([described(5, 'app:2'), described(6, 'app:2')]);
    const r = await run(ecs, {}, undefined, described(6, 'app:2'), new Map([['api', steady(5)]]));
    expect(r.diffs).toEqual([{ service: 'api', against: TD(5), diff: ['no difference'] }]);
  });

  it('says "force a new deployment" only for a service already on the revision', async () => {
    const ecs = ecsWith([described(5, 'app:1'), described(6, 'app:2')]);
    const before = new Map([
      ['a', steady(5)],
      ['b', steady(6)],
    ]);
    const r = await run(ecs, { services: ['a', 'b'], forceNewDeployment: true }, undefined, described(6, 'app:2'), before);
    expect(r.lines.slice(1)).toEqual(['a: would update (runs api:5)', 'b: would force a new deployment (force-new-deployment)']);
  });

  it('names the image publish first: push with the commit and the tags, promote with the tags only', async () => {
    const before = new Map([['api', steady(6)]]);
    const pushed = await run(
      ecsWith([described(6, 'app:2')]),
      { imagePublish: 'push', image: 'backend:ci', commitSha: 'abc123', tags: ['latest'] },
      undefined,
      described(6, 'app:2'),
      before,
    );
    expect(pushed.register).toBe(`use ${TD(6)} as it is; would push backend:ci with tags abc123, latest first`);
    const noSha = await run(
      ecsWith([described(6, 'app:2')]),
      { imagePublish: 'push', image: 'backend:ci', tags: ['latest'] },
      undefined,
      described(6, 'app:2'),
      before,
    );
    expect(noSha.register).toBe(`use ${TD(6)} as it is; would push backend:ci with tags latest first`);
    const promoted = await run(
      ecsWith([described(6, 'app:2')]),
      { imagePublish: 'promote', image: 'backend:ci', sourceImage: 'api:rc1', commitSha: 'abc123', tags: ['v1', 'prod'] },
      undefined,
      described(6, 'app:2'),
      before,
    );
    expect(promoted.register).toBe(`use ${TD(6)} as it is; would promote api:rc1 with tags v1, prod first`);
    expect(promoted.lines[0]).toBe(promoted.register);
  });
});
