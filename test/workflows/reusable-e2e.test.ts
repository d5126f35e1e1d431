/**
 * The reusable workflows end to end: the delivery-app caller workflows
 * (examples/delivery-app/.github/workflows) call deploy-ecs-service.yml and
 * deploy-static-site.yml, run by test/workflows/mini-runner.ts with the committed
 * bundles against the local AWS emulator. Checks what a user sees: which
 * environment was picked, which steps ran, the outputs, and what AWS was asked.
 */
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { interpolate, runReusable, type Contexts, type Handler, type WorkflowRun } from './mini-runner.js';
import { loadWorkflow } from './workflow-files.js';

const APP = join(repoRoot, 'examples', 'delivery-app');
/** The application the next run checks out (a caller repository). */
let app = APP;
const SHA = '0123456789abcdef0123456789abcdef01234567';
const SUITE = { workflow_repository: 'acme/aws-deploy-actions', workflow_sha: 'f'.repeat(40) };
const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const needed = ['render-taskdef', 'migrate-db', 'deploy-ecs', 'deploy-static'].filter((a) => !existsSync(join(repoRoot, 'dist', a, 'index.js')));

let emu: Emulator;
let expectedSuite = { repository: SUITE.workflow_repository, ref: SUITE.workflow_sha };
let distribution: string;
const pushed: string[] = [];
const roles: string[] = [];
const artifacts = mkdtempSync(join(tmpdir(), 'artifacts-'));

const stepEnv = () => emu.env();
const logins: string[] = [];

const handlers: Record<string, Handler> = {
  'actions/checkout': ({ with: w, workspace }) => {
    if (w.path === '.aws-deploy-actions') {
      // The suite must come from the workflow's own repository and commit.
      expect(w.repository).toBe(expectedSuite.repository);
      expect(w.ref).toBe(expectedSuite.ref);
      symlinkSync(repoRoot, join(workspace, '.aws-deploy-actions'));
    } else {
      // The application beside the suite, never containing it (a Docker build context of app/).
      expect(['', 'app']).toContain(w.path ?? '');
      cpSync(app, join(workspace, w.path ?? ''), { recursive: true });
    }
  },
  'aws-actions/configure-aws-credentials': ({ with: w }) => {
    expect(w['role-to-assume']).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(w['aws-region']).toBe('eu-west-1');
    roles.push(w['role-to-assume']!);
    return { outputs: { 'aws-account-id': '123456789012' } };
  },
  'docker/login-action': ({ with: w }) => {
    logins.push(w.registry!);
  },
  'docker/setup-buildx-action': () => undefined,
  'docker/build-push-action': ({ with: w }) => {
    expect(w.push).toBe('true');
    // The build context is the application's, which never contains the suite checkout.
    expect(w.context).toMatch(/^app\//);
    const [repo, tag] = w.tags!.slice(REGISTRY.length + 1).split(':') as [string, string];
    emu.ecr.putImage(repo, tag);
    pushed.push(w.tags!);
  },
  'actions/setup-node': () => undefined,
  'actions/upload-artifact': ({ with: w, workspace }) => {
    cpSync(join(workspace, w.path!), join(artifacts, w.name!), { recursive: true });
  },
  'actions/download-artifact': ({ with: w, workspace }) => {
    cpSync(join(artifacts, w.name!), join(workspace, w.path!), { recursive: true });
  },
};

let storeTargets = '';

function environments(): Record<string, Record<string, string>> {
  const env = (name: string) => ({
    AWS_ROLE_ARN: `arn:aws:iam::123456789012:role/delivery-${name}-deploy`,
    AWS_REGION: 'eu-west-1',
    ECS_CLUSTER: `delivery-${name}`,
    SITE_BUCKET: `delivery-${name}-site`,
    CLOUDFRONT_DISTRIBUTION_ID: distribution,
  });
  // Each repository has its own environments: only the stores app sets SITE_TARGETS.
  const stores: Record<string, string> = app.endsWith('rails-stores') ? { SITE_TARGETS: storeTargets } : {};
  return { test: env('test'), prod: { ...env('prod'), ...stores } };
}

let runs = 0;

/** Runs the caller workflow file's single job the way GitHub would for this event. */
async function callerRun(
  file: string,
  event: { ref: string; inputs?: Record<string, string> },
  over: { job?: Record<string, string>; with?: Record<string, string>; app?: string; callerJob?: string } = {},
): Promise<WorkflowRun> {
  app = over.app ?? APP;
  const caller = loadWorkflow(join(app, '.github', 'workflows', file));
  const job = over.callerJob ? caller.doc.jobs[over.callerJob]! : Object.values(caller.doc.jobs)[0]!;
  runs += 1;
  const github = { ref_name: event.ref, ref_type: 'branch', repository: 'acme/delivery-app', run_id: String(4000 + runs), run_attempt: '1', sha: SHA, token: 'ghs_test' };
  const callerCtx: Contexts = { github, inputs: event.inputs ?? {}, vars: {}, needs: {} };
  const withs = Object.fromEntries(Object.entries(job.with ?? {}).map(([k, v]) => [k, typeof v === 'string' ? interpolate(v, callerCtx) : (v as string)]));
  const reusable = loadWorkflow(join(repoRoot, job.uses!.replace(/^[^/]+\/aws-deploy-actions\//, '').replace(/@.*$/, '')));
  // Polls every second instead of five: the emulator's rollouts take a second or two.
  return runReusable(reusable, { ...withs, ...(reusable.path.endsWith('deploy-ecs-service.yml') ? { 'poll-interval-seconds': 1 } : {}), ...over.with }, {
    contexts: { github, job: over.job ?? SUITE, secrets: {}, vars: {}, runner: { temp: tmpdir() } },
    env: stepEnv(),
    handlers,
    environments: environments(),
  });
}

/** No job failed (with the failing step's log when one did). */
function expectSuccess(run: WorkflowRun): void {
  for (const [name, job] of Object.entries(run.jobs)) expect(job.failed, `jobs.${name}: ${job.error}`).toBeUndefined();
}

beforeAll(async () => {
  emu = await startEmulator();
  for (const name of ['test', 'prod']) {
    emu.ecs.createCluster(`delivery-${name}`);
    emu.logs.createLogGroup(`/ecs/delivery-${name}`);
    const taskDefinition = emu.ecs.registerTaskDefinition({
      family: `delivery-${name}-backend`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
      containerDefinitions: [{ name: 'backend', image: `${REGISTRY}/delivery/backend:old`, essential: true }],
    });
    emu.ecs.createService({
      cluster: `delivery-${name}`,
      serviceName: 'backend',
      taskDefinition,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a'], securityGroups: ['sg-0a'], assignPublicIp: 'DISABLED' } },
    });
    await emu.s3.createBucket(`delivery-${name}-site`);
  }
  distribution = emu.cloudfront.createDistribution({ invalidationSeconds: 1 });
  // rails-stores: one storefront build, three store sites on two buckets.
  await emu.s3.createBucket('shop-prod-stores');
  await emu.s3.createBucket('shop-prod-stores-uk');
  const [de, fr, uk] = [1, 2, 3].map(() => emu.cloudfront.createDistribution({ invalidationSeconds: 1 }));
  storeTargets = [
    `bucket=shop-prod-stores prefix=de distribution-id=${de}`,
    `bucket=shop-prod-stores prefix=fr distribution-id=${fr}`,
    `bucket=shop-prod-stores-uk distribution-id=${uk}`,
  ].join('\n');
});
afterAll(async () => {
  await emu?.stop();
});

describe.skipIf(needed.length > 0)(needed.length ? `SKIPPED: dist/${needed.join(', dist/')} not built yet` : 'reusable workflows, end to end', () => {
  it('a push to staging builds, renders, migrates and deploys the backend to test (this app maps staging -> test)', async () => {
    emu.resetCounts();
    const run = await callerRun('backend.yml', { ref: 'staging' });
    expectSuccess(run);
    expect(run.outputs.environment).toBe('test');
    expect(run.jobs.deploy!.environment).toBe('test');
    expect(run.jobs.deploy!.concurrency).toBe('aws-deploy-ecs/acme/delivery-app/test/backend');
    expect(run.jobs.deploy!.ran_steps).toEqual(
      expect.arrayContaining(['Build and push the image', 'Render task definition', 'Run migrations', 'Deploy']),
    );
    expect(pushed).toContain(`${REGISTRY}/delivery/backend:${SHA}`);
    expect(logins).toContain(REGISTRY);
    expect(roles.at(-1)).toBe('arn:aws:iam::123456789012:role/delivery-test-deploy');
    expect(run.outputs.image).toBe(`${REGISTRY}/delivery/backend:${SHA}`);
    expect(run.outputs['task-definition-arn']).toMatch(/:task-definition\/delivery-test-backend:\d+$/);
    expect(run.outputs['rolled-back']).toBe('false');
    // Migrations ran as a one-off task before the service moved.
    const ops = emu.requests().map((r) => `${r.service}.${r.operation}`);
    expect(ops).toContain('ECS.RunTask');
    expect(ops.indexOf('ECS.RunTask')).toBeLessThan(ops.indexOf('ECS.UpdateService'));
  });

  it('a failed migration stops the run before the service moves', async () => {
    emu.resetCounts();
    emu.scenarios.nextTask({ startedBy: 'migrate/backend' }, { exitCode: 1, afterSeconds: 0.5, logLines: ['ERROR: relation "orders" already exists'] });
    const run = await callerRun('backend.yml', { ref: 'staging' });
    expect(run.jobs.deploy!.failed).toBe('Run migrations');
    expect(run.jobs.deploy!.error).toContain('relation "orders" already exists');
    expect(run.jobs.deploy!.ran_steps).not.toContain('Deploy');
    expect(emu.requests().map((r) => r.operation)).not.toContain('UpdateService');
  });

  it('a failed rollout rolls the service back and says so in the outputs', async () => {
    emu.scenarios.nextRollout({ cluster: 'delivery-test', service: 'backend' }, { result: 'fail', afterSeconds: 2, exitCode: 1, logLines: ['panic: missing STRIPE_API_KEY'] });
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
    const run = await callerRun('backend.yml', { ref: 'feature/x', inputs: { environment: 'prod', feature: 'menu-rewrite', 'image-tag': 'v41' } });
    expectSuccess(run);
    expect(run.outputs.environment).toBe('prod');
    expect(run.jobs.deploy!.ran_steps).not.toContain('Build and push the image');
    expect(pushed.length).toBe(pushedBefore);
    expect(run.outputs.image).toBe(`${REGISTRY}/delivery/backend:v41`);
    expect(run.outputs['task-definition-arn']).toMatch(/delivery-prod-backend:\d+$/);
    expect(roles.at(-1)).toBe('arn:aws:iam::123456789012:role/delivery-prod-deploy');
  });

  it('promote-tags re-tags the redeployed image in ECR (no build, no layer moved)', async () => {
    emu.ecr.putImage('delivery/backend', 'v41');
    emu.resetCounts();
    const run = await callerRun('backend.yml', { ref: 'main', inputs: { environment: 'prod', feature: 'core', 'image-tag': 'v41' } }, { with: { 'promote-tags': 'prod-current' } });
    expectSuccess(run);
    expect(run.jobs.deploy!.ran_steps).not.toContain('Build and push the image');
    expect(emu.counts()['ECR.PutImage']).toBe(1);
    expect(run.outputs.image).toBe(`${REGISTRY}/delivery/backend:prod-current`);
  });

  it('a rollback to a task-definition revision skips build, render and migrations', async () => {
    emu.resetCounts();
    const reusable = loadWorkflow(join(repoRoot, '.github', 'workflows', 'deploy-ecs-service.yml'));
    const github = { ref_name: 'main', ref_type: 'branch', repository: 'acme/delivery-app', run_id: '4243', sha: SHA, token: 'ghs_test' };
    const run = await runReusable(reusable, { environment: 'test', services: 'backend', 'task-definition': 'delivery-test-backend:1', 'poll-interval-seconds': 1 }, {
      contexts: { github, job: SUITE, secrets: {}, vars: {}, runner: { temp: tmpdir() } },
      env: stepEnv(),
      handlers,
      environments: environments(),
    });
    expectSuccess(run);
    expect(run.jobs.deploy!.ran_steps).not.toContain('Resolve image');
    for (const skipped of ['Build and push the image', 'Render task definition', 'Run migrations']) expect(run.jobs.deploy!.ran_steps).not.toContain(skipped);
    expect(run.outputs['task-definition-arn']).toMatch(/delivery-test-backend:1$/);
    expect(emu.requests().map((r) => r.operation)).not.toContain('RunTask');
  });

  it('rails-stores: one storefront build is published to every store site of the environment (SITE_TARGETS)', async () => {
    emu.resetCounts();
    const run = await callerRun('deploy.yml', { ref: 'main' }, { app: join(repoRoot, 'examples', 'rails-stores'), callerJob: 'storefront' });
    expectSuccess(run);
    expect(run.outputs.environment).toBe('prod');
    expect(run.jobs.build!.ran_steps).toEqual(expect.arrayContaining(['Install dependencies', 'Build']));
    // index.html + a fingerprinted JS and CSS file, to each of the three stores.
    expect(run.outputs.uploaded).toBe('9');
    expect(run.outputs['invalidation-id']!.split(',')).toHaveLength(3);
    expect(emu.counts()['CloudFront.CreateInvalidation']).toBe(3);
  });

  it('on GHES (no job.workflow_*) the suite comes from suite-repository / suite-ref', async () => {
    expectedSuite = { repository: 'acme/aws-deploy-actions', ref: 'v1.0.0' };
    try {
      const run = await callerRun('backend.yml', { ref: 'feature/ghes' }, { job: {}, with: { 'suite-repository': 'acme/aws-deploy-actions', 'suite-ref': 'v1.0.0' } });
      expectSuccess(run);
      expect(run.jobs.plan!.ran_steps).toContain('Check out the suite at this workflow\'s commit');
    } finally {
      expectedSuite = { repository: SUITE.workflow_repository, ref: SUITE.workflow_sha };
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

  // releases (issue 13): the rollback-static path checks out and builds nothing, and uploads nothing.
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
  });
});
