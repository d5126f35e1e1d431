/**
 * Family guard, `previous` and promote-from, end to end through the committed bundle against the emulator:
 * the family guard, `task-definition: previous`, and `promote-from` (the digest
 * staging runs, deployed to prod without a build or a layer copy).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeregisterTaskDefinitionCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';

const ACCOUNT = '123456789012';
const REPO = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend`;
const awsvpc = { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' } };

const taskDef = (family: string, image: string, env: Record<string, string> = {}) => ({
  family,
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    { name: 'backend', image, essential: true, environment: Object.entries(env).map(([name, value]) => ({ name, value })) },
  ],
});

let emu: Emulator;
let n = 0;
const digests: Record<string, string> = {};

/** A cluster with one `backend` service steady on revision 1 of `family`. */
function seed(env: string, family = `delivery-${env}-backend-${++n}`, image = `${REPO}:v1`) {
  const cluster = `delivery-${env}-${n}`;
  emu.ecs.createCluster(cluster);
  const first = emu.ecs.registerTaskDefinition(taskDef(family, image));
  emu.ecs.createService({
    cluster,
    serviceName: 'backend',
    taskDefinition: first,
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: awsvpc,
  });
  return { cluster, family, first };
}

function run(inputs: Record<string, string>, def?: unknown) {
  const workspace = mkdtempSync(join(tmpdir(), 'deploy-ecs-15-'));
  if (def) writeFileSync(join(workspace, 'taskdef.json'), JSON.stringify(def));
  return runBundle('deploy-ecs', {
    inputs: { 'poll-interval-seconds': '0.2', 'timeout-minutes': '0.5', ...inputs },
    env: emu.env(),
    workspace,
  });
}

const ecsClient = () =>
  new ECSClient({ region: 'eu-west-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

async function running(cluster: string): Promise<string> {
  const ecs = ecsClient();
  const td = (await ecs.send(new DescribeServicesCommand({ cluster, services: ['backend'] }))).services![0]!.taskDefinition!;
  return (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: td }))).taskDefinition!.containerDefinitions![0]!.image!;
}

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  for (const tag of ['v1', 'v2', 'v3']) digests[tag] = emu.ecr.putImage('delivery/backend', tag).digest;
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs: family guard', () => {
  it('refuses a test revision on the prod service before any write, naming both families', async () => {
    const prod = seed('prod');
    const test = seed('test');
    emu.resetCounts();
    const r = await run({ 'task-definition': `${test.family}:1`, cluster: prod.cluster, services: 'backend' });
    expect(r.code).toBe(1);
    const error = r.errors.join('\n');
    expect(error).toContain(`runs family '${prod.family}'`);
    expect(error).toContain(`family '${test.family}'`);
    expect(error).toContain('allow-family-change');
    const ops = emu.requests().map((q) => q.operation);
    for (const write of ['UpdateService', 'RegisterTaskDefinition', 'PutImage']) expect(ops).not.toContain(write);
    expect(await running(prod.cluster)).toBe(`${REPO}:v1`);
  });

  it('a rendered file of another family is refused too; allow-family-change: true moves the service', async () => {
    const prod = seed('prod');
    const other = taskDef(`${prod.family}-v2`, `${REPO}:v2`);
    const refused = await run({ 'task-definition': 'taskdef.json', cluster: prod.cluster, services: 'backend' }, other);
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toContain(`family '${prod.family}-v2'`);
    emu.scenarios.nextRollout({ cluster: prod.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const moved = await run(
      { 'task-definition': 'taskdef.json', cluster: prod.cluster, services: 'backend', 'allow-family-change': 'true' },
      other,
    );
    expect(moved.code, moved.stdout).toBe(0);
    expect(moved.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${prod.family}-v2:1$`));
    expect(moved.stdout).toContain(`family changes from '${prod.family}' to '${prod.family}-v2'`);
  });
});

describe('deploy-ecs: task-definition previous', () => {
  it('returns to the revision that served before the current one, skipping a failed (rolled-back) release', async () => {
    const s = seed('prod');
    const ok = async (image: string) => {
      emu.scenarios.nextRollout({ cluster: s.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
      const r = await run({ 'task-definition': 'taskdef.json', cluster: s.cluster, services: 'backend' }, taskDef(s.family, image));
      expect(r.code, r.stdout).toBe(0);
      return r.outputs['task-definition-arn']!;
    };
    await ok(`${REPO}:v2`); // revision 2 served
    const third = await ok(`${REPO}:v3`); // revision 3 serves now
    // Revision 4 fails and is rolled back to 3 by deploy-ecs: it never served.
    emu.scenarios.nextRollout({ cluster: s.cluster, service: 'backend' }, { result: 'fail', afterSeconds: 0.5, exitCode: 1 });
    emu.scenarios.nextRollout({ cluster: s.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const failed = await run(
      { 'task-definition': 'taskdef.json', cluster: s.cluster, services: 'backend' },
      taskDef(s.family, `${REPO}:v3`, { BROKEN: '1' }),
    );
    expect(failed.outputs['rolled-back'], failed.stdout).toBe('true');
    expect(await running(s.cluster)).toBe(`${REPO}:v3`);

    emu.scenarios.nextRollout({ cluster: s.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const back = await run({ 'task-definition': 'previous', cluster: s.cluster, services: 'backend', 'rollback-on-failure': 'false' });
    expect(back.code, back.stdout).toBe(0);
    expect(back.outputs['previous-task-definition-arn']).toBe(third);
    expect(back.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${s.family}:2$`));
    expect(back.outputs.changed).toBe('false');
    expect(await running(s.cluster)).toBe(`${REPO}:v2`);
    expect(back.summary).toContain('Rolled back to the previous revision found in ECS');
  });

  it('a previous revision that was deregistered (INACTIVE) is refused before any write, with the fix', async () => {
    const s = seed('prod');
    emu.scenarios.nextRollout({ cluster: s.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run({ 'task-definition': 'taskdef.json', cluster: s.cluster, services: 'backend' }, taskDef(s.family, `${REPO}:v2`));
    expect(r.code, r.stdout).toBe(0);
    await ecsClient().send(new DeregisterTaskDefinitionCommand({ taskDefinition: `${s.family}:1` }));
    emu.resetCounts();
    const back = await run({ 'task-definition': 'previous', cluster: s.cluster, services: 'backend' });
    expect(back.code).toBe(1);
    expect(back.errors.join('\n')).toContain(`${s.family}:1 is INACTIVE`);
    expect(back.errors.join('\n')).toContain('Register it again');
    expect(emu.requests().map((q) => q.operation)).not.toContain('UpdateService');
  });

  it('a service with no earlier successful deployment stops with the fix, before any write', async () => {
    const s = seed('prod');
    emu.resetCounts();
    const r = await run({ 'task-definition': 'previous', cluster: s.cluster, services: 'backend' });
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toContain('no earlier successful deployment');
    expect(r.errors.join('\n')).toContain('family:revision');
    expect(emu.requests().map((q) => q.operation)).not.toContain('UpdateService');
  });
});

describe('deploy-ecs: promote-from', () => {
  it('prod gets exactly the digest staging runs: no build, no PutImage, both digests in the summary', async () => {
    const staging = seed('staging', undefined, `${REPO}:v2`);
    const prod = seed('prod');
    emu.scenarios.nextRollout({ cluster: prod.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster: prod.cluster,
        services: 'backend',
        'promote-from': `${staging.cluster}/backend`,
        'container-name': 'backend',
      },
      taskDef(prod.family, `${REPO}:placeholder`),
    );
    expect(r.code, r.stdout).toBe(0);
    const now = r.outputs['image-digest']!;
    expect(now).toBe(digests.v2);
    expect(await running(prod.cluster)).toBe(`${REPO}@${now}`);
    const ops = emu.requests().map((q) => q.operation);
    expect(ops).not.toContain('PutImage');
    expect(ops).not.toContain('InitiateLayerUpload');
    expect(r.summary).toContain(`| \`${staging.cluster}\` | \`backend\` | \`${now}\` |`);
    expect(r.summary).toContain('same bytes');
  });

  it('a staging service pinned by digest is promoted by that digest, even after its tag moved', async () => {
    const staging = seed('staging', undefined, `${REPO}@${digests.v3}`);
    const prod = seed('prod');
    emu.ecr.putImage('delivery/backend', 'v3', '{"schemaVersion":2,"moved-again":true}');
    emu.scenarios.nextRollout({ cluster: prod.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run(
      { 'task-definition': 'taskdef.json', cluster: prod.cluster, services: 'backend', 'promote-from': `${staging.cluster}/backend` },
      taskDef(prod.family, `${REPO}:v1`),
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs['image-digest']).toBe(digests.v3);
    expect(await running(prod.cluster)).toBe(`${REPO}@${digests.v3}`);
  });

  it('bad promote-from values fail on the input before any AWS call', async () => {
    emu.resetCounts();
    const r = await run(
      { 'task-definition': 'taskdef.json', cluster: 'x', services: 'backend', 'promote-from': 'just-a-service' },
      taskDef('f', `${REPO}:v1`),
    );
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toContain("input 'promote-from'");
    expect(emu.requests()).toHaveLength(0);
  });
});
