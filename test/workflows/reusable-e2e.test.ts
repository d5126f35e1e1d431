/**
 * The reusable workflows end to end: the delivery-app caller workflows
 * (examples/delivery-app/.github/workflows) call deploy-ecs-service.yml and
 * deploy-static-site.yml, run by test/workflows/mini-runner.ts with the committed
 * bundles against the local AWS emulator. Checks what a user sees: which
 * environment was picked, which steps ran, the outputs, and what AWS was asked.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import { runReusable } from './mini-runner.js';
import { loadWorkflow } from './workflow-files.js';
import {
  BUILD_ROLE,
  REGISTRY,
  REPO_VARS,
  SHA,
  SUITE,
  callerRun,
  emu,
  environments,
  expectSuccess,
  expectSuiteFrom,
  handlers,
  logins,
  needed,
  pushed,
  roles,
  stepEnv,
  useCallerHarness,
} from './caller-harness.js';

useCallerHarness();

describe.skipIf(needed.length > 0)(
  needed.length ? `SKIPPED: dist/${needed.join(', dist/')} not built yet` : 'reusable workflows, end to end',
  () => {
    it('a push to staging builds, renders, migrates and deploys the backend to test (this app maps staging -> test)', async () => {
      emu.resetCounts();
      const run = await callerRun('backend.yml', { ref: 'staging' });
      expectSuccess(run);
      expect(run.outputs.environment).toBe('test');
      expect(run.jobs.deploy!.environment).toBe('test');
      expect(run.jobs.deploy!.concurrency).toBe('aws-deploy-ecs/acme/delivery-app/test/backend');
      expect(run.jobs.build!.ran_steps).toContain('Build and push the image');
      expect(run.jobs.deploy!.ran_steps).toEqual(expect.arrayContaining(['Render task definition', 'Run migrations', 'Deploy']));
      expect(run.jobs.deploy!.ran_steps).not.toContain('Build and push the image');
      expect(pushed).toContain(`${REGISTRY}/delivery/backend:${SHA}`);
      expect(logins).toContain(REGISTRY);
      expect(roles.slice(-2)).toEqual([BUILD_ROLE, 'arn:aws:iam::123456789012:role/delivery-test-deploy']);
      // Deployed by digest: the bytes the build pushed, whatever the tag does later.
      expect(run.outputs.image).toMatch(new RegExp(`^${REGISTRY}/delivery/backend@sha256:[a-f0-9]{64}$`));
      expect(run.outputs['image-digest']).toBe(run.outputs.image!.split('@')[1]);
      expect(run.outputs['task-definition-arn']).toMatch(/:task-definition\/delivery-test-backend:\d+$/);
      expect(run.outputs['rolled-back']).toBe('false');
      // Migrations ran as a one-off task before the service moved.
      const ops = emu.requests().map((r) => `${r.service}.${r.operation}`);
      expect(ops).toContain('ECS.RunTask');
      expect(ops.indexOf('ECS.RunTask')).toBeLessThan(ops.indexOf('ECS.UpdateService'));
    });

    it('a failed migration stops the run before the service moves', async () => {
      emu.resetCounts();
      emu.scenarios.nextTask(
        { startedBy: 'migrate/backend' },
        { exitCode: 1, afterSeconds: 0.5, logLines: ['ERROR: relation "orders" already exists'] },
      );
      const run = await callerRun('backend.yml', { ref: 'staging' });
      expect(run.jobs.deploy!.failed).toBe('Run migrations');
      expect(run.jobs.deploy!.error).toContain('relation "orders" already exists');
      expect(run.jobs.deploy!.ran_steps).not.toContain('Deploy');
      expect(emu.requests().map((r) => r.operation)).not.toContain('UpdateService');
    });

    it('a failed rollout rolls the service back and says so in the outputs', async () => {
      emu.scenarios.nextRollout(
        { cluster: 'delivery-test', service: 'backend' },
        { result: 'fail', afterSeconds: 2, exitCode: 1, logLines: ['panic: missing STRIPE_API_KEY'] },
      );
      // Another feature config, so there is a new revision to roll out (an unchanged one is not redeployed).
      const run = await callerRun('backend.yml', { ref: 'staging', inputs: { environment: 'test', feature: 'menu-rewrite' } });
      expect(run.jobs.deploy!.failed).toBe('Deploy');
      expect(run.jobs.deploy!.error).toContain('missing STRIPE_API_KEY');
      expect(run.outputs['rolled-back']).toBe('true');
      expect(run.outputs.environment).toBe('test');
    });

    it('a push to a feature branch deploys nothing and assumes no role', async () => {
      const before = roles.length;
      const run = await callerRun('backend.yml', { ref: 'feature/menu-search' });
      expect(run.jobs.plan!.ran).toBe(true);
      expect(run.jobs.deploy!.ran).toBe(false);
      expect(run.outputs.environment).toBe('');
      expect(roles.length).toBe(before);
    });

    it('Run workflow with an image tag redeploys it to the chosen environment without building', async () => {
      emu.ecr.putImage('delivery/backend', 'v41');
      const pushedBefore = pushed.length;
      const run = await callerRun('backend.yml', {
        ref: 'feature/x',
        inputs: { environment: 'prod', feature: 'menu-rewrite', 'image-tag': 'v41' },
      });
      expectSuccess(run);
      expect(run.outputs.environment).toBe('prod');
      expect(run.jobs.build!.ran).toBe(false);
      expect(pushed.length).toBe(pushedBefore);
      // A tag is deployed by the digest it points to now.
      expect(run.outputs.image).toMatch(new RegExp(`^${REGISTRY}/delivery/backend@sha256:`));
      expect(run.outputs['task-definition-arn']).toMatch(/delivery-prod-backend:\d+$/);
      expect(roles.at(-1)).toBe('arn:aws:iam::123456789012:role/delivery-prod-deploy');
    });

    it('promote-tags re-tags the redeployed image in ECR (no build, no layer moved)', async () => {
      emu.ecr.putImage('delivery/backend', 'v41');
      emu.resetCounts();
      const run = await callerRun(
        'backend.yml',
        { ref: 'main', inputs: { environment: 'prod', feature: 'core', 'image-tag': 'v41' } },
        { with: { 'promote-tags': 'prod-current' } },
      );
      expectSuccess(run);
      expect(run.jobs.build!.ran).toBe(false);
      expect(emu.counts()['ECR.PutImage']).toBe(1);
      expect(run.outputs.image).toMatch(new RegExp(`^${REGISTRY}/delivery/backend@sha256:`));
    });

    it('a rollback to a task-definition revision skips build, render and migrations', async () => {
      emu.resetCounts();
      const reusable = loadWorkflow(join(repoRoot, '.github', 'workflows', 'deploy-ecs-service.yml'));
      const github = { ref_name: 'main', ref_type: 'branch', repository: 'acme/delivery-app', run_id: '4243', sha: SHA, token: 'ghs_test' };
      const run = await runReusable(
        reusable,
        { environment: 'test', services: 'backend', 'task-definition': 'delivery-test-backend:1', 'poll-interval-seconds': 1 },
        {
          contexts: { github, job: SUITE, secrets: {}, vars: REPO_VARS, runner: { temp: tmpdir() } },
          env: stepEnv(),
          handlers,
          environments: environments(),
        },
      );
      expectSuccess(run);
      expect(run.jobs.deploy!.ran_steps).not.toContain('Resolve image');
      for (const skipped of ['Build and push the image', 'Render task definition', 'Run migrations'])
        expect(run.jobs.deploy!.ran_steps).not.toContain(skipped);
      expect(run.outputs['task-definition-arn']).toMatch(/delivery-test-backend:1$/);
      expect(emu.requests().map((r) => r.operation)).not.toContain('RunTask');
      // Its own concurrency group: a rollback waiting behind a deploy is never replaced by the next push's run.
      expect(run.jobs.deploy!.concurrency).toBe('aws-rollback-ecs/acme/delivery-app/test/backend');
    });

    it('environment-services: the line of the chosen environment names the services, no services input needed', async () => {
      emu.resetCounts();
      const reusable = loadWorkflow(join(repoRoot, '.github', 'workflows', 'deploy-ecs-service.yml'));
      const github = { ref_name: 'main', ref_type: 'branch', repository: 'acme/delivery-app', run_id: '4244', sha: SHA, token: 'ghs_test' };
      const run = await runReusable(
        reusable,
        {
          environment: 'test',
          'environment-services': 'test=backend\nprod=delivery-prod-api',
          'task-definition': 'delivery-test-backend:1',
          'poll-interval-seconds': 1,
        },
        {
          contexts: { github, job: SUITE, secrets: {}, vars: REPO_VARS, runner: { temp: tmpdir() } },
          env: stepEnv(),
          handlers,
          environments: environments(),
        },
      );
      expectSuccess(run);
      expect(run.jobs.deploy!.concurrency).toBe('aws-rollback-ecs/acme/delivery-app/test/backend');
      // The concurrency key above is the plan's services: test's line. deploy-ecs found that service
      // (prod's name does not exist in this cluster; no services at all stops at Check settings).
      expect(run.jobs.plan!.outputs.services).toBe('backend');
      expect(run.jobs.deploy!.ran_steps).toContain('Deploy');
      expect(emu.counts()['ECS.DescribeServices']).toBeGreaterThan(0);
      expect(run.outputs['task-definition-arn']).toMatch(/delivery-test-backend:1$/);
    });

    it('rails-stores: one storefront build is published to every store site of the environment (SITE_TARGETS)', async () => {
      emu.resetCounts();
      const run = await callerRun(
        'deploy.yml',
        { ref: 'main' },
        { app: join(repoRoot, 'examples', 'rails-stores'), callerJob: 'storefront' },
      );
      expectSuccess(run);
      expect(run.outputs.environment).toBe('prod');
      expect(run.jobs.build!.ran_steps).toEqual(expect.arrayContaining(['Install dependencies', 'Build']));
      // index.html + a fingerprinted JS and CSS file, to each of the three stores.
      expect(run.outputs.uploaded).toBe('9');
      expect(run.outputs['invalidation-id']!.split(',')).toHaveLength(3);
      expect(emu.counts()['CloudFront.CreateInvalidation']).toBe(3);
    });

    it('on GHES (no job.workflow_*) the suite comes from suite-repository / suite-ref', async () => {
      expectSuiteFrom('acme/aws-deploy-actions', 'v1.0.0');
      try {
        const run = await callerRun(
          'backend.yml',
          { ref: 'feature/ghes' },
          { job: {}, with: { 'suite-repository': 'acme/aws-deploy-actions', 'suite-ref': 'v1.0.0' } },
        );
        expectSuccess(run);
        expect(run.jobs.plan!.ran_steps).toContain("Check out the suite at this workflow's commit");
      } finally {
        expectSuiteFrom(SUITE.workflow_repository, SUITE.workflow_sha);
      }
    });

    it('on GHES without suite-repository / suite-ref the run stops with the fix, before any checkout', async () => {
      const run = await callerRun('backend.yml', { ref: 'main' }, { job: {} });
      expect(run.jobs.plan!.failed).toBe('Check where the suite comes from');
      expect(run.jobs.plan!.error).toContain('pass inputs suite-repository');
      expect(run.jobs.deploy!.ran).toBe(false);
    });

    it('the static site: build job without AWS, deploy job syncs to the environment bucket', async () => {
      const run = await callerRun('site.yml', { ref: 'main' });
      expectSuccess(run);
      expect(run.outputs.environment).toBe('prod');
      expect(run.jobs.build!.ran_steps).not.toContain('Configure AWS credentials (OIDC)');
      expect(run.jobs.deploy!.concurrency).toBe('aws-deploy-static/acme/delivery-app/prod/delivery-site');
      expect(Number(run.outputs.uploaded)).toBeGreaterThan(0);
      expect(run.outputs['invalidation-id']).toBeTruthy();
      // The source map was excluded by the caller.
      const again = await callerRun('site.yml', { ref: 'main' });
      expect(again.outputs.uploaded).toBe('0');
    });

    it("the static site's build job runs in the environment: build-vars gives the build that environment's variables", async () => {
      const check = 'test "$VITE_API_URL" = "https://api.prod.delivery.example" && test "$API_URL" = "$VITE_API_URL"';
      const run = await callerRun(
        'site.yml',
        { ref: 'main' },
        { with: { 'build-vars': 'VITE_API_URL=API_URL\nAPI_URL', 'build-command': check } },
      );
      expectSuccess(run);
      expect(run.jobs.build!.environment).toBe('prod');
      expect(run.jobs.build!.ran_steps).toContain('Build');
      const staging = await callerRun(
        'site.yml',
        { ref: 'staging' },
        { with: { 'build-vars': 'VITE_API_URL=API_URL', 'build-command': check } },
      );
      expect(staging.jobs.build!.environment).toBe('test');
      expect(staging.jobs.build!.failed).toBe('Build');
    });

    it('build-vars naming a variable the environment lacks fails the build before it runs, naming the line and the fix', async () => {
      const run = await callerRun('site.yml', { ref: 'main' }, { with: { 'build-vars': 'VITE_API_URL=API_URL\nSENTRY_DSN' } });
      expect(run.jobs.build!.failed).toBe('Build environment');
      expect(run.jobs.build!.error).toContain(
        "::error::input 'build-vars' line 2: no variable SENTRY_DSN on environment 'prod' or the repository: add it (Settings → Environments → prod → Variables).",
      );
      expect(run.jobs.deploy!.ran).toBe(false);
    });

    // releases: the rollback-static path checks out and builds nothing, and uploads nothing.
    it('the static site, rollback-to: the build job skips every step, the deploy job restores the release', async () => {
      const live = await callerRun('site.yml', { ref: 'main' });
      const id = live.outputs['release-id']!;
      expect(id).toMatch(/-\d{8}T\d{6}Z/);
      const back = await callerRun('site.yml', { ref: 'main' }, { with: { 'rollback-to': id } });
      expectSuccess(back);
      expect(back.jobs.build!.ran_steps).toEqual([]);
      expect(back.jobs.deploy!.ran_steps).not.toContain('Fetch the build');
      expect(back.jobs.deploy!.ran_steps).toContain('Deploy');
      expect(back.outputs.uploaded).toBe('0');
      expect(back.outputs['previous-release-id']).toBe(id);
      expect(back.outputs['release-id']).not.toBe(id);
      expect(back.jobs.deploy!.concurrency).toBe('aws-rollback-static/acme/delivery-app/prod/delivery-site');
    });
  },
);
