/**
 * e2e on the committed bundle: text from the application (container log lines) and from AWS (stopped
 * reasons, service events) is printed as data. The runner strips leading whitespace before it looks
 * for a workflow command, so an indented app line `::stop-commands::x` used to silence every later
 * command of the action, its own failure annotation included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { runnerView } from '../helpers/workflow-commands.js';
import { Seeder, runDeploy, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'printing');

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs prints what apps and AWS say as data', () => {
  it('app log lines ::stop-commands::, ::error::, ::add-mask:: neither silence nor inject; the failure annotation still reaches the runner', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      {
        result: 'fail',
        afterSeconds: 0.6,
        exitCode: 1,
        logLines: [
          'booting',
          '::stop-commands::x',
          '::error::injected by the app',
          '::add-mask::booting',
          '::warning::also injected',
          'Error: DATABASE_URL is not set',
        ],
      },
    );
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.2 });
    const r = await runDeploy(
      emu,
      { 'task-definition': 'taskdef.json', cluster, services: 'backend' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code, r.stdout).toBe(1);
    // The app's lines are in the log, as text.
    expect(r.stdout).toContain('::error::injected by the app');
    expect(r.stdout).toContain('Error: DATABASE_URL is not set');
    const runner = runnerView(r.stdout);
    expect(
      runner.errors.some((e) => /deploy-ecs failed/.test(e)),
      r.stdout,
    ).toBe(true);
    expect(runner.errors.join('\n')).not.toContain('injected');
    expect(runner.warnings.join('\n')).not.toContain('injected');
    expect(runner.masks).not.toContain('booting');
    expect(r.outputs['rolled-back']).toBe('true');
  });
});
