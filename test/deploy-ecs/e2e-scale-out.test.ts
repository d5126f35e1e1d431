/**
 * A re-run while Application Auto Scaling scales the service out (one COMPLETED deployment, 8 of 10
 * running) is "unchanged": no forced deployment replaces the healthy tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { describe as describeServices, runDeploy, Seeder, startDeployEmulator } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'scale');

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs: a re-run during a scale-out', () => {
  it('does not force a new deployment while the one COMPLETED deployment scales out', async () => {
    const { cluster, first } = seeder.seed(['backend']);
    emu.ecs.scaleService(cluster, 'backend', 10, 120);
    const [during] = await describeServices(emu, cluster, ['backend']);
    expect(during!.deployments).toHaveLength(1);
    expect(during!.deployments![0]!.rolloutState).toBe('COMPLETED');
    expect(during!.runningCount).toBeLessThan(10);
    emu.resetCounts();
    const r = await runDeploy(emu, { 'task-definition': first, cluster, services: 'backend' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe('unchanged');
    expect(emu.counts()['ECS.UpdateService'] ?? 0).toBe(0);
    expect(r.stdout).toMatch(/backend: unchanged, on scale-backend-\d+:1, its one deployment COMPLETED and scaling \(2\/10 running\)/);
  });
});
