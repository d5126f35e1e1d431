/**
 * End to end on the committed bundle: "unchanged" means steady on the revision, the rollback
 * target is the last completed deployment, promote deploys what it promoted, no needless
 * registrations or ECR writes, the first poll right after UpdateService, word-bounded hints, dry-run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import {
  ACCOUNT,
  IMAGE,
  Seeder,
  startDeployEmulator,
  describe as describeServices,
  ops,
  runDeploy,
  taskDef,
  workspaceWith,
} from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'truth');
const run = (inputs: Record<string, string>, ws?: string) => runDeploy(emu, inputs, ws);
const writes = () => ops(emu).filter((o) => /\.(Register|Update|Put|Stop|Create|Delete|Run)/.test(o));

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs tells the truth about a service', () => {
  it('1: a re-run after a failed rollout (no rollback) is not "unchanged": it starts a new deployment and judges it', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    const ws = workspaceWith(taskDef(family, 'v2'));
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'fail', afterSeconds: 0.6, exitCode: 1 });
    const failed = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend', 'rollback-on-failure': 'false' }, ws);
    expect(failed.code).toBe(1);
    const [left] = await describeServices(emu, cluster, ['backend']);
    expect(left!.taskDefinition).toBe(failed.outputs['task-definition-arn']); // left FAILED on the new revision

    emu.resetCounts();
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.4 });
    const again = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.status).toBe('succeeded');
    expect(again.outputs.changed).toBe('false');
    expect(again.stdout).toMatch(/on .*:2 but not steady: its deployment of .*:2 is FAILED/);
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.deployments).toHaveLength(1);
    expect(svc!.deployments![0]!.rolloutState).toBe('COMPLETED');
  });

  it('7: with a FAILED primary left behind, the rollback target is the last completed revision, not the failed one', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'fail', afterSeconds: 0.6, exitCode: 1 });
    const failed = await run(
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'rollback-on-failure': 'false' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(failed.code).toBe(1);

    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'fail', afterSeconds: 0.6, exitCode: 1 });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, workspaceWith(taskDef(family, 'v3')));
    expect(r.code).toBe(1);
    expect(r.outputs['previous-task-definition-arn']).toBe(first);
    expect(r.stdout).toMatch(/was left FAILED on .*:2; the rollback target is .*:1, the last deployment that completed/);
    expect(r.outputs['rolled-back']).toBe('true');
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(first);
  });

  it('3: promote without container-name deploys the promoted image into the first container', async () => {
    const { cluster, family, n } = seeder.seed(['backend']);
    const { digest } = emu.ecr.putImage('delivery/backend', `rc-${n}`);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'image-publish': 'promote',
        'source-image': `delivery/backend:rc-${n}`,
        tags: `prod-${n}`,
      },
      workspaceWith(taskDef(family, 'v1')),
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe('succeeded');
    expect(r.outputs.changed).toBe('true');
    expect(r.outputs.image).toBe(IMAGE(`prod-${n}`));
    expect(ops(emu)).toContain('ECR.PutImage');
    expect(r.stdout).toContain(`tagged delivery/backend@${digest} as prod-${n}`);
  });

  it('12: promote checks every other container image before writing to ECR', async () => {
    const { cluster, family, n } = seeder.seed(['backend']);
    emu.ecr.putImage('delivery/backend', `rc-${n}`);
    const sidecar = { name: 'proxy', image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/proxy:never-pushed`, essential: false };
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'image-publish': 'promote',
        'source-image': `delivery/backend:rc-${n}`,
        tags: `prod-${n}`,
      },
      workspaceWith(taskDef(family, 'v1', {}, [sidecar])),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/delivery\/proxy:never-pushed of container 'proxy' does not exist in ECR/);
    expect(writes()).toEqual([]);
  });

  it('12: deploying family:rev with container-name registers no copy when nothing differs', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    emu.ecs.registerTaskDefinition(taskDef(family, 'v2')); // the family's latest is :2, the service runs :1
    emu.resetCounts();
    const r = await run({ 'task-definition': `${family}:1`, cluster, services: 'backend', 'container-name': 'backend' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs['task-definition-arn']).toBe(first);
    expect(r.outputs).toMatchObject({ changed: 'false', status: 'unchanged' });
    expect(writes()).toEqual([]);
  });

  it('12: the first poll comes right after UpdateService, not one interval later', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0 });
    emu.resetCounts();
    const r = await run(
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'poll-interval-seconds': '40' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code, r.stdout).toBe(0);
    const reqs = emu.requests();
    const update = reqs.find((q) => q.operation === 'UpdateService')!;
    const polls = reqs.filter((q) => q.operation === 'DescribeServices' && q.wallAt >= update.wallAt);
    expect(polls).toHaveLength(1);
    // Wall time, not the emulator's: half the 40 s interval, however busy the machine (the old
    // first poll came one interval later).
    expect(polls[0]!.wallAt - update.wallAt).toBeLessThan(20_000);
  });

  it('11: hints are word-bounded: "boom" is not OOM and "Melbourne" is not ELB', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      { result: 'fail', afterSeconds: 0.6, exitCode: 1, logLines: ['boom: config missing', 'region Melbourne unreachable'] },
    );
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.2 });
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, workspaceWith(taskDef(family, 'v3')));
    expect(r.code).toBe(1);
    expect(r.summary).toContain('boom: config missing');
    expect(r.summary).toMatch(/\*\*Hint:\*\* The app exited on its own/);
    expect(r.summary).not.toMatch(/killed for memory|Health checks failed/);
  });

  it('dry-run: no write call; the plan and the diff against what each service runs now', async () => {
    const { cluster, family } = seeder.seed(['api', 'worker']);
    const ws = workspaceWith(taskDef(family, 'v2', { FEATURE_MENU: 'on' }));
    emu.resetCounts();
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'api\nworker', 'dry-run': 'true' }, ws);
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe('dry-run');
    expect(writes()).toEqual([]);
    expect(r.stdout).toMatch(/would register a new revision of truth-backend-\d+ \(latest is .*:1\)/);
    expect(r.stdout).toMatch(/api: would update \(runs .*:1\)/);
    expect(r.summary).toContain('dry run (nothing changed)');
    expect(r.summary).toMatch(/worker: task definition vs .*:1/);
    expect(r.summary).toContain('container backend env added: FEATURE_MENU');
  });
});
