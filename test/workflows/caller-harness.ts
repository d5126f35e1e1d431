/**
 * The harness of the reusable-workflow e2e tests (reusable-e2e.test.ts and
 * build-once-e2e.test.ts): a local AWS emulator seeded with the delivery-app and
 * rails-stores resources, handlers standing in for third-party actions (they also
 * assert how they were called: the build runs only in the build job, which alone
 * gets the build role), and callerRun(), which runs a caller workflow's job the
 * way GitHub would for an event. Each test file calls useCallerHarness() once and
 * gets its own emulator.
 */
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { actionNames } from '../helpers/actions.js';
import { interpolate, runReusable, type Contexts, type Handler, type WorkflowRun } from './mini-runner.js';
import { loadWorkflow } from './workflow-files.js';

const APP = join(repoRoot, 'examples', 'delivery-app');
/** The application the next run checks out (a caller repository). */
let app = APP;
export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const SUITE = { workflow_repository: 'acme/aws-deploy-actions', workflow_sha: 'f'.repeat(40) };
export const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const BUILD_ROLE = 'arn:aws:iam::123456789012:role/delivery-build-push';
export const needed = actionNames().filter((a) => !existsSync(join(repoRoot, 'dist', a, 'index.js')));

export let emu: Emulator;
let expectedSuite = { repository: SUITE.workflow_repository, ref: SUITE.workflow_sha };
/** Where the suite checkout must come from (the GHES tests change it). */
export function expectSuiteFrom(repository: string, ref: string): void {
  expectedSuite = { repository, ref };
}
let distribution: string;
export const pushed: string[] = [];
export const roles: string[] = [];
export const durations: string[] = [];
const artifacts = mkdtempSync(join(tmpdir(), 'artifacts-'));

export const stepEnv = () => emu.env();
export const logins: string[] = [];

export const handlers: Record<string, Handler> = {
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
  'aws-actions/configure-aws-credentials': ({ job, with: w }) => {
    expect(w['role-to-assume']).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(w['aws-region']).toBe('eu-west-1');
    // The build job gets the build role only; a deploy job never gets it.
    expect(w['role-to-assume'] === BUILD_ROLE).toBe(job === 'build');
    expect(w['role-duration-seconds']).toMatch(/^\d+$/);
    roles.push(w['role-to-assume']!);
    durations.push(`${job}=${w['role-duration-seconds']}`);
    return { outputs: { 'aws-account-id': '123456789012' } };
  },
  'docker/login-action': ({ with: w }) => {
    logins.push(w.registry!);
  },
  'docker/setup-buildx-action': () => undefined,
  'docker/build-push-action': ({ job, with: w }) => {
    expect(w.push).toBe('true');
    // The build runs in the build job only, never where the deploy role is.
    expect(job).toBe('build');
    // The build context is the application's, which never contains the suite checkout.
    expect(w.context).toMatch(/^app\//);
    const [repo, tag] = w.tags!.slice(REGISTRY.length + 1).split(':') as [string, string];
    const { digest } = emu.ecr.putImage(repo, tag);
    pushed.push(w.tags!);
    return { outputs: { digest } };
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

export function environments(): Record<string, Record<string, string>> {
  const env = (name: string) => ({
    AWS_ROLE_ARN: `arn:aws:iam::123456789012:role/delivery-${name}-deploy`,
    AWS_REGION: 'eu-west-1',
    ECS_CLUSTER: `delivery-${name}`,
    SITE_BUCKET: `delivery-${name}-site`,
    CLOUDFRONT_DISTRIBUTION_ID: distribution,
    // What a SPA compiles in: the static build job runs in the environment to read it.
    API_URL: `https://api.${name}.delivery.example`,
  });
  // Each repository has its own environments: only the stores app sets SITE_TARGETS.
  const stores: Record<string, string> = app.endsWith('rails-stores') ? { SITE_TARGETS: storeTargets } : {};
  return { test: env('test'), prod: { ...env('prod'), ...stores } };
}

/** Repository variables (no environment): what the build job sees. */
export const REPO_VARS = { AWS_BUILD_ROLE_ARN: BUILD_ROLE, AWS_REGION: 'eu-west-1' };

let runs = 0;

/** Runs the caller workflow file's single job the way GitHub would for this event. */
export async function callerRun(
  file: string,
  event: { ref: string; inputs?: Record<string, string> },
  over: {
    job?: Record<string, string>;
    with?: Record<string, string | number | boolean>;
    app?: string;
    callerJob?: string;
    sha?: string;
    callerFile?: string;
  } = {},
): Promise<WorkflowRun> {
  app = over.app ?? APP;
  const caller = loadWorkflow(over.callerFile ?? join(app, '.github', 'workflows', file));
  const job = over.callerJob ? caller.doc.jobs[over.callerJob]! : Object.values(caller.doc.jobs)[0]!;
  runs += 1;
  const github = {
    ref_name: event.ref,
    ref_type: 'branch',
    repository: 'acme/delivery-app',
    run_id: String(4000 + runs),
    run_attempt: '1',
    sha: over.sha ?? SHA,
    token: 'ghs_test',
  };
  const callerCtx: Contexts = { github, inputs: event.inputs ?? {}, vars: {}, needs: {} };
  const withs = Object.fromEntries(
    Object.entries(job.with ?? {}).map(([k, v]) => [k, typeof v === 'string' ? interpolate(v, callerCtx) : (v as string)]),
  );
  const reusable = loadWorkflow(join(repoRoot, job.uses!.replace(/^[^/]+\/aws-deploy-actions\//, '').replace(/@.*$/, '')));
  // Polls every second instead of five: the emulator's rollouts take a second or two.
  return runReusable(
    reusable,
    { ...withs, ...(reusable.path.endsWith('deploy-ecs-service.yml') ? { 'poll-interval-seconds': 1 } : {}), ...over.with },
    {
      contexts: { github, job: over.job ?? SUITE, secrets: {}, vars: REPO_VARS, runner: { temp: tmpdir() } },
      env: stepEnv(),
      handlers,
      environments: environments(),
    },
  );
}

/** No job failed (with the failing step's log when one did). */
export function expectSuccess(run: WorkflowRun): void {
  for (const [name, job] of Object.entries(run.jobs)) expect(job.failed, `jobs.${name}: ${job.error}`).toBeUndefined();
}

export function useCallerHarness(): void {
  beforeAll(setUp);
  afterAll(async () => {
    await emu?.stop();
  });
}

async function setUp(): Promise<void> {
  emu = await startEmulator();
  // Tags are never overwritten: the build job pushes each commit once.
  emu.ecr.createRepository('delivery/backend', 'IMMUTABLE');
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
}
