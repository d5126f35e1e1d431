/**
 * e2e on the committed bundle: a promote cut short by a cancel leaves ECR writes behind — tags that
 * point at a build no service of the run deploys, or a PutImage whose answer was abandoned while ECR
 * applied it. The log and the step summary say what was left. The cancel (SIGINT, the runner's first
 * signal) is sent on an event the emulator shows: the PutImage answers, or the tag applied in ECR.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { runDeploy, Seeder, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'left-in-ecr');

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterEach(() => emu.faults.clear());
afterAll(async () => {
  await emu?.stop();
});

/** Polls the emulator until `happened` (an event, not a time), then sends SIGINT. */
function cancelWhen(happened: () => boolean): (child: ChildProcess) => void {
  return (child) =>
    void (async () => {
      while (!happened()) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGINT');
    })();
}

const promote = (cluster: string, n: number) => ({
  'task-definition': 'taskdef.json',
  cluster,
  services: 'backend',
  'image-publish': 'promote',
  'source-image': 'delivery/backend:v2',
  tags: `release-${n}\nprod-${n}`,
  'container-name': 'backend',
});

describe('deploy-ecs: ECR writes a cut-short run leaves behind', () => {
  it('cancelled while registering after the promote: both tags are written and no service runs them', async () => {
    const { cluster, family, n } = seeder.seed(['backend']);
    emu.resetCounts();
    // The registration is answered late: the cancel after both PutImage answers lands before any UpdateService.
    emu.faults.set({ answerDelayMs: 30_000, operations: ['ECS.RegisterTaskDefinition'] });
    const r = await runDeploy(emu, promote(cluster, n), workspaceWith(taskDef(family, 'v1')), {
      onSpawn: cancelWhen(() => (emu.counts()['ECR.PutImage'] ?? 0) >= 2),
    });
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.status).toBe('cancelled');
    expect(emu.counts()['ECS.UpdateService'] ?? 0).toBe(0);
    const left = r.summary.slice(r.summary.indexOf('#### Left in ECR by this run'));
    expect(left, r.summary).toMatch(new RegExp(`- delivery/backend:release-${n} \\(sha256:[0-9a-f]+\\): written; no service was updated`));
    expect(left).toMatch(new RegExp(`- delivery/backend:prod-${n} \\(sha256:[0-9a-f]+\\): written; no service was updated`));
    // A multi-line annotation: the runner's command escapes the newline as %0A.
    expect(r.stdout).toMatch(new RegExp(`::warning::Left in ECR by this run:%0A *delivery/backend:release-${n}`));
  });

  it('cancelled while a PutImage is in flight: the tag ECR applied is named as an abandoned write', async () => {
    const { cluster, family, n } = seeder.seed(['backend']);
    // ECR applies each PutImage at once and answers late: the cancel comes once the first tag is there.
    emu.faults.set({ answerDelayMs: 30_000, operations: ['ECR.PutImage'] });
    const r = await runDeploy(emu, promote(cluster, n), workspaceWith(taskDef(family, 'v1')), {
      onSpawn: cancelWhen(() => emu.ecr.digestOf(emu.ecr.uri(`delivery/backend:release-${n}`)) !== undefined),
    });
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.status).toBe('cancelled');
    // ECR applied the write whose answer the run gave up on.
    expect(emu.ecr.digestOf(emu.ecr.uri(`delivery/backend:release-${n}`))).toBe(emu.ecr.digestOf(emu.ecr.uri('delivery/backend:v2')));
    expect(r.summary, r.summary).toContain(
      `- delivery/backend:release-${n}: the write was abandoned (cancelled) after it was sent; ECR may have applied it`,
    );
    expect(r.summary).not.toContain(`prod-${n}`);
  });
});
