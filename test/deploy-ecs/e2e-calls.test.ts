/**
 * e2e on the committed bundle: the AWS calls of an instant rolling rollout (its deployment COMPLETED
 * when UpdateService returns). Each one is there for a check the README promises — the services read
 * once, the image check, register only if changed, the update, one poll — and a second read of the
 * same thing is start-up time every run pays (bench/deploy-ecs/instant.ts compares this with
 * amazon-ecs-deploy-task-definition).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { runDeploy, Seeder, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'calls');

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs: the calls of an instant rollout', () => {
  it('reads the services once, checks the image, registers, updates and polls once', async () => {
    const { cluster, family } = seeder.seed(['api']);
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 0 });
    emu.resetCounts();
    const r = await runDeploy(emu, { 'task-definition': 'taskdef.json', cluster, services: 'api' }, workspaceWith(taskDef(family, 'v2')));
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe('succeeded');
    expect(emu.counts()).toEqual({
      'ECS.DescribeServices': 2,
      'ECS.DescribeTaskDefinition': 1,
      'ECR.DescribeImages': 1,
      'ECS.RegisterTaskDefinition': 1,
      'ECS.UpdateService': 1,
    });
  });
});
