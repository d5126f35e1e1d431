/**
 * End to end on the committed bundle: cancel signals in the runner's order, another deployer
 * mid-wait, ECS's own rollbacks, ECS-native strategies, failed polls, and the time budget.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { Seeder, startDeployEmulator, describe as describeServices, runDeploy, taskDef, whenCalled, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'races');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

/** Cancels the child the way the runner does once our UpdateService reached the emulator: SIGINT, SIGTERM 7.5 s later, SIGKILL at 10 s. */
function cancelLikeTheRunner(sent: { signals: string[]; exitAfterMs?: number }) {
  return (child: ChildProcess) => {
    void whenCalled(emu, 'ECS.UpdateService').then(async () => {
      await sleep(300);
      const t0 = Date.now();
      child.kill('SIGINT');
      sent.signals.push('SIGINT');
      const term = setTimeout(() => (child.kill('SIGTERM'), sent.signals.push('SIGTERM')), 7500);
      const kill = setTimeout(() => (child.kill('SIGKILL'), sent.signals.push('SIGKILL')), 10_000);
      child.on('exit', () => {
        clearTimeout(term);
        clearTimeout(kill);
        sent.exitAfterMs = Date.now() - t0;
      });
    });
  };
}

describe('deploy-ecs never leaves a deploy half-done', () => {
  it('2: cancel mid-wait rolls back within 10 s and writes outputs, summary and a "cancelled" error', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck' });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.5 });
    emu.resetCounts();
    const sent: { signals: string[]; exitAfterMs?: number } = { signals: [] };
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'timeout-minutes': '5' },
      workspaceWith(taskDef(family, 'v2')),
      { onSpawn: cancelLikeTheRunner(sent) },
    );
    expect(r.code, r.stdout).toBe(1); // exited on its own, not killed
    expect(sent.signals).not.toContain('SIGKILL');
    expect(r.outputs).toMatchObject({ status: 'cancelled', 'rolled-back': 'true' });
    expect(r.errors.join('\n')).toMatch(/was cancelled/);
    expect(r.summary).toMatch(/cancelled on/);
    expect(emu.counts()['ECS.UpdateService']).toBe(2); // ours, then the rollback
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(first);
  });

  it('2, 10: cancel of a BLUE_GREEN deployment uses StopServiceDeployment and exits before the kill even when the rollback is slow', async () => {
    const { cluster, family } = seeder.seed(['backend'], { strategy: 'BLUE_GREEN' });
    // Emulator time moves one second per polled read (a few per poll round): 600 s outlasts the 8 s cancel budget's polls.
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck', rollbackSeconds: 600 });
    emu.resetCounts();
    const sent: { signals: string[]; exitAfterMs?: number } = { signals: [] };
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'timeout-minutes': '5' },
      workspaceWith(taskDef(family, 'v2')),
      { onSpawn: cancelLikeTheRunner(sent) },
    );
    expect(r.code, r.stdout).toBe(1);
    expect(sent.signals, r.stdout).toEqual(['SIGINT', 'SIGTERM']); // survived SIGTERM, gone before SIGKILL
    expect(sent.exitAfterMs).toBeLessThan(10_000);
    expect(r.outputs).toMatchObject({ status: 'cancelled', 'rolled-back': 'false' });
    expect(r.stdout).toMatch(/rollback to .* started but not confirmed before the runner stops this step/);
    expect(emu.counts()['ECS.StopServiceDeployment']).toBe(1);
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
  });

  it('6: another deployer mid-wait fails the run naming their deployment, and is never rolled back over', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    const theirs = emu.ecs.registerTaskDefinition(taskDef(family, 'v3', { OWNER: 'other-pipeline' }));
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      { result: 'success', afterSeconds: 3, interruptedBy: { afterSeconds: 0.5, taskDefinition: theirs, rolloutSeconds: 0.5 } },
    );
    emu.resetCounts();
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/another deployment \(ecs-svc\/\d+, races-backend-\d+:2\) replaced ours: someone else deployed this service/);
    expect(r.stdout).not.toMatch(/circuit breaker/);
    expect(r.outputs['rolled-back']).toBe('false');
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
    await sleep(600);
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(theirs);
  });

  it('6: on-other-deployment: warn exits 0 with status superseded', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      { result: 'success', afterSeconds: 3, interruptedBy: { afterSeconds: 0.4 } },
    );
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'on-other-deployment': 'warn' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.status).toBe('superseded');
    expect(r.stdout).toMatch(/::warning::backend: another deployment .* Not rolled back/);
  });

  it('8: five failed polls in a row end in a diagnosis and a rollback, not an abandoned deploy', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck' });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    emu.resetCounts();
    try {
      const r = await runDeploy(
        emu,
        { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'max-attempts': '1', 'timeout-minutes': '1' },
        workspaceWith(taskDef(family, 'v2')),
        {
          onSpawn: () =>
            void whenCalled(emu, 'ECS.UpdateService').then(() => emu.faults.set({ serverErrorBurst: 5, operations: ['DescribeServices'] })),
        },
      );
      expect(r.code).toBe(1);
      expect(r.outputs.status).toBe('failed');
      expect(r.stdout).toMatch(/could not read the service state: 5 polls in a row failed \(last: .*(InternalFailure|ServiceUnavailable)/);
      expect(r.stdout).toMatch(/::group::Diagnosis/);
      expect(r.outputs['rolled-back']).toBe('true');
      const [svc] = await describeServices(emu, cluster, ['backend']);
      expect(svc!.taskDefinition).toBe(first);
    } finally {
      emu.faults.clear();
    }
  });

  it('9: timeout-minutes is the whole budget: a stuck rollback does not get a second full timeout', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck' });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck' });
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'timeout-minutes': '0.1' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
    expect(r.stdout).toMatch(/the last 1.5 s kept for a rollback/);
    expect(r.stdout).toMatch(/rollback to .* started but not confirmed within timeout-minutes/);
    // 6 s budget; the old behaviour waited 6 s for the rollout and 6 s more for the rollback.
    expect(Number(r.outputs['duration-seconds'])).toBeLessThan(9);
  });

  it('10: a stuck BLUE_GREEN deployment is rolled back with StopServiceDeployment, its stage in the progress lines', async () => {
    const { cluster, family, first } = seeder.seed(['backend'], { strategy: 'BLUE_GREEN' });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck', rollbackSeconds: 0.4 });
    emu.resetCounts();
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'timeout-minutes': '0.1' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/backend: running \d\/2, pending \d, IN_PROGRESS \(SCALE_UP\)/);
    expect(r.stdout).toMatch(/StopServiceDeployment \(ROLLBACK\)/);
    expect(r.stdout).toMatch(/rollback backend: SUCCEEDED .*ROLLBACK_SUCCESSFUL/);
    expect(r.outputs['rolled-back']).toBe('true');
    expect(emu.counts()['ECS.StopServiceDeployment']).toBe(1);
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(first);
  });

  it('10: a rollback ECS already started on a BLUE_GREEN service is followed, not raced', async () => {
    const { cluster, family, first } = seeder.seed(['backend'], { strategy: 'BLUE_GREEN', circuitBreakerRollback: true });
    // Long enough (in polled reads: each moves the emulator's clock 1 s) for the bundle to see ECS's rollback in progress.
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      { result: 'fail', afterSeconds: 6, exitCode: 1, circuitBreakerRollback: true, rollbackSeconds: 5 },
    );
    emu.resetCounts();
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'max-failed-tasks': '0' },
      workspaceWith(taskDef(family, 'v3')),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ECS rolled the deployment back \(ROLLBACK_(REQUESTED|IN_PROGRESS)\)/);
    expect(r.stdout).toMatch(/ECS is already rolling the service deployment back/);
    expect(r.outputs['rolled-back']).toBe('true');
    expect(emu.counts()['ECS.StopServiceDeployment'] ?? 0).toBe(0);
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(first);
  });

  it.each(['LINEAR', 'CANARY'] as const)(
    '10: %s is done when its service deployment is SUCCESSFUL, after traffic shift and bake time',
    async (strategy) => {
      const { cluster, family } = seeder.seed(['backend'], { strategy });
      // 30 polled reads of the emulator's clock: the bundle's polls see the stages one by one.
      emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 30 });
      const r = await runDeploy(
        emu,
        { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'poll-interval-seconds': '0.1' },
        workspaceWith(taskDef(family, 'v2')),
      );
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain(`strategy ${strategy}`);
      const stages = [...r.stdout.matchAll(/IN_PROGRESS \(([A-Z_]+)\)/g)].map((m) => m[1]);
      expect(stages).toContain('PRODUCTION_TRAFFIC_SHIFT');
      expect(stages.indexOf('BAKE_TIME')).toBeGreaterThan(stages.indexOf('PRODUCTION_TRAFFIC_SHIFT'));
      expect(r.stdout).toMatch(/SUCCEEDED .*SUCCESSFUL/);
    },
  );
});
