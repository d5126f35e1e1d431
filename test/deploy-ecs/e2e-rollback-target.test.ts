/**
 * The rollback target, end to end on the committed bundle: never the FAILED revision. A run that
 * starts while ECS's circuit breaker rolls the service back (in either shape the emulator models)
 * returns to ECS's target; a service that lists only its FAILED deployment returns to the newest
 * SUCCESSFUL service deployment.
 */
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import type { RolloutScenario } from '../emulator/scenarios.js';
import { describe as describeServices, runDeploy, Seeder, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'target');

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

/** Someone else's UpdateService to `taskDefinition` (a console user, another pipeline). */
async function theirUpdate(cluster: string, taskDefinition: string): Promise<void> {
  const ecs = new ECSClient({ region: emu.region, endpoint: emu.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await ecs.send(new UpdateServiceCommand({ cluster, service: 'backend', taskDefinition }));
}

/** Service on rev 1; someone's rev 2 fails as `failing` says; then our run of rev 3 fails too, without ECS rolling it back. */
async function runAfterAFailure(failing: RolloutScenario, circuitBreakerRollback: boolean) {
  const { cluster, family, first } = seeder.seed(['backend'], { circuitBreakerRollback });
  const broken = emu.ecs.registerTaskDefinition(taskDef(family, 'v2', { BROKEN: 'yes' }));
  emu.clock.advance(60); // the service has run rev 1 for a while before their update
  emu.scenarios.nextRollout({ cluster, service: 'backend' }, failing);
  await theirUpdate(cluster, broken);
  emu.clock.advance((failing.afterSeconds ?? 3) + 0.2); // their deployment has FAILED by now (emulator time)
  emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'fail', afterSeconds: 0.6, circuitBreakerRollback: false });
  emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
  const r = await runDeploy(emu, { 'task-definition': 'taskdef.json', cluster, services: 'backend' }, workspaceWith(taskDef(family, 'v3')));
  const [svc] = await describeServices(emu, cluster, ['backend']);
  return { r, first, broken, svc: svc! };
}

describe('deploy-ecs: the rollback target is what served last, never a FAILED revision', () => {
  it("follows ECS's rollback shown as the old deployment back IN_PROGRESS (the FAILED one listed next to it)", async () => {
    const { r, first, broken, svc } = await runAfterAFailure(
      { result: 'fail', afterSeconds: 0.4, rollbackShape: 'previous-in-progress', rollbackSeconds: 60 },
      true,
    );
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs['previous-task-definition-arn']).toBe(first);
    expect(r.outputs['previous-task-definition-arn']).not.toBe(broken);
    expect(r.outputs['rolled-back']).toBe('true');
    expect(svc.taskDefinition).toBe(first);
    expect(r.stdout).toMatch(/is being rolled back by ECS to target-backend-\d+:1/);
  });

  it("follows ECS's rollback shown as a new deployment", async () => {
    const { r, first, svc } = await runAfterAFailure(
      { result: 'fail', afterSeconds: 0.4, rollbackShape: 'new-deployment', rollbackSeconds: 60 },
      true,
    );
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs['previous-task-definition-arn']).toBe(first);
    expect(svc.taskDefinition).toBe(first);
  });

  it('takes the newest SUCCESSFUL service deployment when DescribeServices lists only the FAILED one', async () => {
    const { r, first, broken, svc } = await runAfterAFailure({ result: 'fail', afterSeconds: 0.4, oldTasksStopFirst: true }, false);
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs['previous-task-definition-arn']).toBe(first);
    expect(r.outputs['previous-task-definition-arn']).not.toBe(broken);
    expect(r.stdout).toMatch(/its newest SUCCESSFUL service deployment \(ListServiceDeployments\)/);
    expect(svc.taskDefinition).toBe(first);
  });
});
