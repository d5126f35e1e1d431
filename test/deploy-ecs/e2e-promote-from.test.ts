/**
 * promote-from end to end on the committed bundle: prod gets the digest the source service runs
 * (from its service revision), not where the source's tag points now; a source that is not steady
 * is refused, naming its state, before any write.
 */
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { awsvpc, describe as describeServices, runDeploy, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
let n = 0;

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

/** A cluster with one `backend` service steady on revision 1 of its own family, running `tag`. */
function seed(env: string, tag: string) {
  n += 1;
  const cluster = `promote-${env}-${n}`;
  const family = `promote-${env}-backend-${n}`;
  emu.ecs.createCluster(cluster);
  const first = emu.ecs.registerTaskDefinition(taskDef(family, tag));
  emu.ecs.createService({
    cluster,
    serviceName: 'backend',
    taskDefinition: first,
    desiredCount: 2,
    launchType: 'FARGATE',
    networkConfiguration: awsvpc,
  });
  return { cluster, family, first };
}

const promote = (prod: { cluster: string; family: string }, staging: { cluster: string }) =>
  runDeploy(
    emu,
    {
      'task-definition': 'taskdef.json',
      cluster: prod.cluster,
      services: 'backend',
      'promote-from': `${staging.cluster}/backend`,
      'container-name': 'backend',
    },
    workspaceWith(taskDef(prod.family, 'placeholder')),
  );

describe('deploy-ecs: promote-from takes the digest the source runs', () => {
  it('the :staging tag moved after staging deployed: prod gets the digest staging runs, and the summary says so truly', async () => {
    const tag = `staging-${n + 1}`;
    const built = emu.ecr.putImage('delivery/backend', tag).digest;
    const staging = seed('staging', tag);
    // Someone pushes another build to the same tag; staging keeps running the first one.
    const later = emu.ecr.putImage('delivery/backend', tag, '{"schemaVersion":2,"another-build":true}').digest;
    expect(later).not.toBe(built);
    const prod = seed('prod', 'v1');
    emu.scenarios.nextRollout({ cluster: prod.cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await promote(prod, staging);
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs['image-digest']).toBe(built);
    const [svc] = await describeServices(emu, prod.cluster, ['backend']);
    expect(svc!.taskDefinition).not.toBe(prod.first);
    expect(r.summary).toContain(`| \`${staging.cluster}\` | \`backend\` | \`${built}\` |`);
    expect(r.summary).toContain(`\`${built}\` (same bytes`);
    expect(r.summary).not.toContain(later);
  });

  it('a source still rolling out is refused, naming its state, before any write', async () => {
    const staging = seed('staging', 'v2');
    const prod = seed('prod', 'v1');
    const next = emu.ecs.registerTaskDefinition(taskDef(staging.family, 'v3'));
    emu.scenarios.nextRollout({ cluster: staging.cluster, service: 'backend' }, { result: 'stuck' });
    const ecs = new ECSClient({ region: emu.region, endpoint: emu.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ecs.send(new UpdateServiceCommand({ cluster: staging.cluster, service: 'backend', taskDefinition: next }));
    emu.resetCounts();
    const r = await promote(prod, staging);
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(
      new RegExp(
        `input 'promote-from'.*${staging.cluster}/backend is not steady \\(its deployment of ${staging.family}:2 is IN_PROGRESS`,
        's',
      ),
    );
    expect(emu.counts()['ECS.UpdateService'] ?? 0).toBe(0);
    expect(emu.counts()['ECS.RegisterTaskDefinition'] ?? 0).toBe(0);
  });
});
