/**
 * One deadline for every AWS call, end to end on the committed bundle, with 20 services and heavy
 * ThrottlingException: a cancel in the runner's order (SIGINT, SIGTERM 7.5 s later, SIGKILL at 10 s)
 * ends before the kill with outputs, summary and the "cancelled" error; timeout-minutes ends the run
 * before a kill sent 10 s after it, with outputs, summary and the "timed out" error naming the phase.
 * The bounds are the runner's, not machine speed.
 */
import type { ChildProcess } from 'node:child_process';
import type { RunOptions } from '../helpers/run-bundle.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { describe as describeServices, runDeploy, Seeder, startDeployEmulator, taskDef, whenCalled, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'deadline');
const SERVICES = Array.from({ length: 20 }, (_, i) => `svc-${i + 1}`);

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterEach(() => emu.faults.clear());
afterAll(async () => {
  await emu?.stop();
});

function stuckEverywhere(cluster: string): void {
  for (const service of SERVICES) {
    emu.scenarios.nextRollout({ cluster, service }, { result: 'stuck' });
    emu.scenarios.nextRollout({ cluster, service }, { result: 'stuck' }); // the rollback does not finish either
  }
}

describe('deploy-ecs: one deadline for every AWS call', () => {
  it('a cancel at 80% throttling ends before the kill with outputs, summary and the cancelled error', async () => {
    const { cluster, family } = seeder.seed(SERVICES);
    stuckEverywhere(cluster);
    emu.resetCounts();
    const sent: { signals: string[] } = { signals: [] };
    const onSpawn = (child: ChildProcess) => {
      void whenCalled(emu, 'ECS.UpdateService', 20, 120_000).then(() => {
        emu.faults.set({ throttleRate: 0.8, seed: 7 });
        child.kill('SIGINT');
        sent.signals.push('SIGINT');
        const term = setTimeout(() => (child.kill('SIGTERM'), sent.signals.push('SIGTERM')), 7500);
        const kill = setTimeout(() => (child.kill('SIGKILL'), sent.signals.push('SIGKILL')), 10_000);
        child.on('exit', () => (clearTimeout(term), clearTimeout(kill)));
      });
    };
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: SERVICES.join('\n'), 'timeout-minutes': '5', 'poll-interval-seconds': '1' },
      workspaceWith(taskDef(family, 'v2')),
      { onSpawn, timeoutMs: 180_000 },
    );
    expect(sent.signals, r.stdout.slice(-3000)).not.toContain('SIGKILL');
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.status).toBe('cancelled');
    expect(r.errors.join('\n')).toMatch(/was cancelled/);
    expect(r.summary).toMatch(/cancelled/);
  });

  it('a cancel at 80% throttling during the rollback that follows a timeout ends before the kill with outputs, summary and "cancelled" in the error', async () => {
    const { cluster, family } = seeder.seed(SERVICES);
    stuckEverywhere(cluster);
    emu.resetCounts();
    const sent: string[] = [];
    const onSpawn = (child: ChildProcess) => {
      // The event: the timeout has passed and every service's rollback UpdateService has been sent.
      void whenCalled(emu, 'ECS.UpdateService', 2 * SERVICES.length, 170_000).then(() => {
        emu.faults.set({ throttleRate: 0.8, seed: 5 });
        child.kill('SIGINT');
        sent.push('SIGINT');
        const term = setTimeout(() => (child.kill('SIGTERM'), sent.push('SIGTERM')), 7500);
        const kill = setTimeout(() => (child.kill('SIGKILL'), sent.push('SIGKILL')), 10_000);
        child.on('exit', () => (clearTimeout(term), clearTimeout(kill)));
      });
    };
    // 1 minute: the rollback keeps 25% of it (15 s), longer than the runner's 10 s after a cancel.
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: SERVICES.join('\n'), 'timeout-minutes': '1', 'poll-interval-seconds': '1' },
      workspaceWith(taskDef(family, 'v2')),
      { onSpawn, timeoutMs: 180_000 },
    );
    expect(sent, r.stdout.slice(-3000)).toContain('SIGINT');
    expect(sent, r.stdout.slice(-3000)).not.toContain('SIGKILL');
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
    expect(r.outputs['rolled-back']).toBe('false');
    expect(r.errors.join('\n')).toMatch(/timed out: .*the workflow was cancelled during the rollback/);
    expect(r.errors.join('\n')).toMatch(/rollback to \S+ started but not confirmed before the runner stops this step/);
    expect(r.summary).toMatch(/cancelled during the rollback/);
  }, 200_000);

  /** A kill sent `ms` after the step starts, like a runner enforcing timeout-minutes + 10 s. */
  function killAfter(ms: number): { sent: string[]; onSpawn: RunOptions['onSpawn'] } {
    const sent: string[] = [];
    return {
      sent,
      onSpawn: (child: ChildProcess) => {
        const kill = setTimeout(() => (child.kill('SIGKILL'), sent.push('SIGKILL')), ms);
        child.on('exit', () => clearTimeout(kill));
      },
    };
  }

  // 70%: the rate the overrun was seen at; 80%: the rate the goal names for 20 services.
  it.each([0.7, 0.8])(
    'timeout-minutes at %s throttling ends within 10 s after it, with outputs, summary and the timed-out error',
    async (throttleRate) => {
      const { cluster, family } = seeder.seed(SERVICES);
      stuckEverywhere(cluster);
      emu.faults.set({ throttleRate, seed: 11 });
      const timeoutMinutes = 0.25; // 15 s, fractional minutes are accepted
      const { sent, onSpawn } = killAfter(timeoutMinutes * 60_000 + 10_000);
      const r = await runDeploy(
        emu,
        {
          'task-definition': 'taskdef.json',
          cluster,
          services: SERVICES.join('\n'),
          'timeout-minutes': String(timeoutMinutes),
          'poll-interval-seconds': '1',
        },
        workspaceWith(taskDef(family, 'v2')),
        { onSpawn, timeoutMs: 120_000 },
      );
      expect(sent, r.stdout.slice(-3000)).not.toContain('SIGKILL');
      expect(r.code, r.stdout.slice(-3000)).toBe(1);
      expect(r.outputs.status).toBe('timed-out');
      expect(r.errors.join('\n')).toMatch(/timed out/);
      expect(r.summary).toMatch(/timed-out|timed out/);
    },
    150_000,
  );

  it('a deadline during a read before any update names the phase and still writes outputs and summary', async () => {
    const { cluster, family } = seeder.seed(SERVICES);
    // Every DescribeServices is held longer than the whole budget: the deadline hits while the run reads the services.
    emu.resetCounts();
    emu.faults.set({ throttleRate: 0.7, seed: 3, latencyMs: 30_000, operations: ['ECS.DescribeServices'] });
    const timeoutMinutes = 0.05; // 3 s
    const { sent, onSpawn } = killAfter(timeoutMinutes * 60_000 + 10_000);
    const r = await runDeploy(
      emu,
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: SERVICES.join('\n'),
        'timeout-minutes': String(timeoutMinutes),
        'poll-interval-seconds': '1',
      },
      workspaceWith(taskDef(family, 'v2')),
      { onSpawn, timeoutMs: 120_000 },
    );
    expect(sent, r.stdout.slice(-3000)).not.toContain('SIGKILL');
    expect(r.code, r.stdout.slice(-3000)).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
    expect(r.errors.join('\n')).toMatch(/timed out .*during .*(DescribeServices|previous)/);
    expect(r.summary).toMatch(/timed-out|timed out/);
    expect(emu.counts()['ECS.UpdateService'] ?? 0).toBe(0);
  }, 150_000);

  it('an UpdateService applied by ECS but answered after the deadline is read back and rolled back', async () => {
    const few = SERVICES.slice(0, 3);
    const { cluster, family, first } = seeder.seed(few);
    for (const service of few) emu.scenarios.nextRollout({ cluster, service }, { result: 'stuck' });
    // ECS applies each UpdateService at once but answers only after the run's deadline has passed.
    emu.faults.set({ answerDelayMs: 20_000, operations: ['ECS.UpdateService'] });
    const timeoutMinutes = 0.1; // 6 s
    const { sent, onSpawn } = killAfter(timeoutMinutes * 60_000 + 10_000);
    const r = await runDeploy(
      emu,
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: few.join('\n'),
        'timeout-minutes': String(timeoutMinutes),
        'poll-interval-seconds': '1',
      },
      workspaceWith(taskDef(family, 'v2')),
      { onSpawn, timeoutMs: 120_000 },
    );
    expect(sent, r.stdout.slice(-3000)).not.toContain('SIGKILL');
    expect(r.outputs.status, r.stdout.slice(-3000)).toBe('timed-out');
    expect(r.stdout).toMatch(/UpdateService abandoned; ECS applied it/);
    // The rollback's own UpdateService is answered late too; ECS applied it, which is what counts.
    for (const svc of await describeServices(emu, cluster, few)) expect(svc.taskDefinition, svc.serviceName).toBe(first);
  }, 150_000);
});
