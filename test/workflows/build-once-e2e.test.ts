/**
 * Build once, promote by digest and safe rollbacks through the reusable workflows (mini-runner, committed bundles, emulator,
 * the real AWS CLI for the build job's and promote-from's look-ups): build once per
 * commit in the build job, promote by digest, session length, rollbacks to the
 * previous revision without auto-rollback, the family guard, pipefail.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import { REGISTRY, callerRun, durations, emu, expectSuccess, needed, pushed, useCallerHarness } from './caller-harness.js';

useCallerHarness();

/** Build once and promote by digest, rollbacks that cannot go wrong, one session length. */
describe.skipIf(needed.length > 0)('build once, promote by digest, safe rollbacks', () => {
  const SHA2 = 'fedcba9876543210fedcba9876543210fedcba98';
  const ROLLBACK = join(repoRoot, 'workflows', 'rollback.yml');
  /** workflows/rollback.yml pointed at the delivery-app backend. */
  const rollback = (environment: string, inputs: Record<string, string> = {}) =>
    callerRun(
      'rollback.yml',
      { ref: 'main', inputs: { environment, ...inputs } },
      {
        callerFile: ROLLBACK,
        callerJob: 'rollback',
        with: {
          services: 'backend',
          'ecr-repository': 'delivery/backend',
          'taskdef-template': 'infra/taskdef/backend.json',
          'features-dir': 'infra/env/features',
          feature: 'core',
        },
      },
    );

  /** A quick redeploy of an image already in ECR (no build job, no migration) with a feature config. */
  const redeploy = (environment: string, feature: string) =>
    callerRun(
      'backend.yml',
      { ref: 'staging', inputs: { environment, feature, 'image-tag': 'v41' } },
      { with: { 'migration-command': '' } },
    );
  let testImage = '';
  beforeAll(() => {
    emu.ecr.putImage('delivery/backend', 'v41');
  });

  it('one commit on staging then main is built once, in the build job; prod runs the digest test runs', async () => {
    const pushedBefore = pushed.length;
    durations.length = 0;
    const staging = await callerRun(
      'backend.yml',
      { ref: 'staging' },
      { sha: SHA2, with: { 'role-duration-seconds': 7200, 'migration-command': '' } },
    );
    expectSuccess(staging);
    expect(staging.jobs.build!.ran_steps).toContain('Build and push the image');
    // One session length for the build role and the deploy role.
    expect(durations).toEqual(['build=7200', 'deploy=7200']);
    const prod = await callerRun('backend.yml', { ref: 'main' }, { sha: SHA2, with: { 'migration-command': '' } });
    expectSuccess(prod);
    // The tag (the commit SHA) was found in ECR: no second build, no overwritten tag.
    expect(prod.jobs.build!.ran_steps).toContain("Look for this commit's image");
    expect(prod.jobs.build!.ran_steps).not.toContain('Build and push the image');
    expect(pushed.slice(pushedBefore)).toEqual([`${REGISTRY}/delivery/backend:${SHA2}`]);
    expect(prod.outputs['image-digest']).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(prod.outputs['image-digest']).toBe(staging.outputs['image-digest']);
    expect(prod.outputs.image).toBe(staging.outputs.image);
    testImage = staging.outputs.image!;
  });

  it('promote-from: prod deploys exactly the digest the test service runs, without a build job', async () => {
    expect(testImage).toContain('@sha256:');
    // Prod moves elsewhere first, so the promotion is a real change.
    expectSuccess(await redeploy('prod', 'core'));
    emu.resetCounts();
    const prod = await callerRun(
      'backend.yml',
      { ref: 'main', inputs: { environment: 'prod' } },
      { with: { 'promote-from': 'delivery-test/backend', 'migration-command': '' } },
    );
    expectSuccess(prod);
    expect(prod.jobs.build!.ran).toBe(false);
    expect(prod.jobs.deploy!.ran_steps).toContain('Image of the service to promote from');
    expect(prod.outputs.image).toBe(testImage);
    expect(prod.outputs['image-digest']).toBe(testImage.split('@')[1]);
    const ops = emu.requests().map((r) => r.operation);
    expect(ops).toContain('UpdateService');
    for (const write of ['PutImage', 'InitiateLayerUpload', 'CompleteLayerUpload']) expect(ops).not.toContain(write);
  });

  it('the rollback workflow with no revision returns to the previous one found in ECS', async () => {
    const before = await redeploy('test', 'core');
    expectSuccess(before);
    const current = await redeploy('test', 'menu-rewrite');
    expectSuccess(current);
    expect(current.outputs['task-definition-arn']).not.toBe(before.outputs['task-definition-arn']);
    const run = await rollback('test');
    expectSuccess(run);
    expect(run.jobs.build!.ran).toBe(false);
    expect(run.jobs.deploy!.ran_steps).not.toContain('Render task definition');
    expect(run.outputs['task-definition-arn']).toBe(before.outputs['task-definition-arn']);
  });

  it('a failing rollback is not rolled back to the release it replaces (rollback-on-failure: false)', async () => {
    expectSuccess(await redeploy('test', 'menu-rewrite'));
    emu.scenarios.nextRollout(
      { cluster: 'delivery-test', service: 'backend' },
      { result: 'fail', afterSeconds: 1, exitCode: 1, logLines: ['old release cannot read the new schema'] },
    );
    emu.resetCounts();
    const run = await rollback('test');
    expect(run.jobs.deploy!.failed).toBe('Deploy');
    expect(run.outputs['rolled-back']).toBe('false');
    // One UpdateService (the rollback itself); none back to the release being left.
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
  });

  it('a rollback to a revision of another environment is refused before anything changes (family guard)', async () => {
    emu.resetCounts();
    const run = await rollback('prod', { 'task-definition': 'delivery-test-backend:1' });
    expect(run.jobs.deploy!.failed).toBe('Deploy');
    expect(run.jobs.deploy!.error).toContain("runs family 'delivery-prod-backend'");
    expect(run.jobs.deploy!.error).toContain("family 'delivery-test-backend'");
    expect(emu.requests().map((r) => r.operation)).not.toContain('UpdateService');
  });

  it('a build command whose failure is hidden by a pipe fails the static build (shell: bash, pipefail)', async () => {
    const run = await callerRun('site.yml', { ref: 'main' }, { with: { 'build-command': 'false | tee build.log' } });
    expect(run.jobs.build!.failed).toBe('Build');
    expect(run.jobs.deploy!.ran).toBe(false);
  });
});
