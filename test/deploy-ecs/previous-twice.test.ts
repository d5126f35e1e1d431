/**
 * `task-definition: previous` means the release before the current one that was not rolled away
 * from: run twice, it steps back twice and never returns to the release the first one replaced.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';

const REPO = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api';
const awsvpc = { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' } };
const FAMILY = 'shop-prod-api';
const taskDef = (image: string) => ({
  family: FAMILY,
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'api', image, essential: true }],
});

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  for (const tag of ['v1', 'v2', 'v3']) emu.ecr.putImage('shop/api', tag);
});
afterAll(async () => {
  await emu?.stop();
});

function run(inputs: Record<string, string>, def?: unknown) {
  const workspace = mkdtempSync(join(tmpdir(), 'deploy-ecs-previous-'));
  if (def) writeFileSync(join(workspace, 'taskdef.json'), JSON.stringify(def));
  emu.scenarios.nextRollout({ cluster: 'shop-prod', service: 'api' }, { result: 'success', afterSeconds: 0.3 });
  return runBundle('deploy-ecs', {
    inputs: {
      cluster: 'shop-prod',
      services: 'api',
      'poll-interval-seconds': '0.2',
      'timeout-minutes': '0.5',
      'rollback-on-failure': 'false',
      ...inputs,
    },
    env: emu.env(),
    workspace,
  });
}

describe('deploy-ecs task-definition: previous, twice (bundle)', () => {
  it('v1, v2, v3 deployed; previous gives v2, previous again gives v1 (not v3), a third has nothing left', async () => {
    emu.ecs.createCluster('shop-prod');
    const first = emu.ecs.registerTaskDefinition(taskDef(`${REPO}:v1`));
    emu.ecs.createService({
      cluster: 'shop-prod',
      serviceName: 'api',
      taskDefinition: first,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: awsvpc,
    });
    for (const tag of ['v2', 'v3']) {
      const r = await run({ 'task-definition': 'taskdef.json' }, taskDef(`${REPO}:${tag}`));
      expect(r.code, r.stdout).toBe(0);
    }
    const back = await run({ 'task-definition': 'previous' });
    expect(back.code, back.stdout).toBe(0);
    expect(back.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${FAMILY}:2$`));
    const again = await run({ 'task-definition': 'previous' });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${FAMILY}:1$`));
    const none = await run({ 'task-definition': 'previous' });
    expect(none.code).toBe(1);
    expect(none.errors.join('\n')).toMatch(/no earlier successful deployment recorded by ECS that was not rolled away from/);
  });
});
