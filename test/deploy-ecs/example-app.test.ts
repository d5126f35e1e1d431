/**
 * The example app end to end: render-taskdef's bundle renders core/test/backend from
 * examples/delivery-app, deploy-ecs's bundle deploys that file to the seeded emulator,
 * and a second deploy of the same file registers and updates nothing.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, type DemoNames } from '../../scripts/demo/seed.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';

let emu: Emulator;
let names: DemoNames;
let workspace: string;

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  workspace = mkdtempSync(join(tmpdir(), 'deploy-ecs-example-'));
  cpSync(join(repoRoot, 'examples/delivery-app'), workspace, { recursive: true });
  names = await seed(emu, workspace);
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs with render-taskdef output (examples/delivery-app)', () => {
  it('deploys the rendered backend once, and an unchanged re-run is a no-op', async () => {
    const render = await runBundle('render-taskdef', {
      inputs: {
        template: 'infra/taskdef/backend.json',
        'features-dir': 'infra/env/features',
        feature: 'core',
        environment: 'test',
        image: names.image('backend'),
        output: 'rendered/backend.json',
      },
      env: emu.env(),
      workspace,
    });
    expect(render.code, render.stdout).toBe(0);
    const inputs = {
      'task-definition': 'rendered/backend.json',
      cluster: names.cluster.test,
      services: 'backend',
      'poll-interval-seconds': '0.2',
      'timeout-minutes': '0.5',
    };

    emu.scenarios.nextRollout({ cluster: names.cluster.test, service: 'backend' }, { result: 'success', afterSeconds: 0.5 });
    const first = await runBundle('deploy-ecs', { inputs, env: emu.env(), workspace });
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs).toMatchObject({ changed: 'true', status: 'succeeded', image: names.image('backend') });
    expect(first.outputs['task-definition-arn']).toMatch(/task-definition\/delivery-test-backend:2$/);
    // The diff names secrets by name only.
    expect(first.summary).toMatch(/secrets added: .*DATABASE_URL/);

    emu.resetCounts();
    const again = await runBundle('deploy-ecs', { inputs, env: emu.env(), workspace });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs).toMatchObject({
      changed: 'false',
      status: 'unchanged',
      'task-definition-arn': first.outputs['task-definition-arn'],
    });
    const ops = emu.requests().map((r) => r.operation);
    expect(ops).not.toContain('RegisterTaskDefinition');
    expect(ops).not.toContain('UpdateService');
  });
});
