/**
 * examples/terraform-app end to end, wired as its workflows wire it: `terraform output -json`
 * in a file (tf-outputs/<env>/tf.json, with sensitive outputs), render-taskdef reading it,
 * migrate-db and deploy-ecs on the rendered file, a rollback to `previous`; the SPA deployed
 * with deploy-static and rolled back. Both environments, against the emulator and its S3.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot, runBundle, type BundleRun } from '../helpers/run-bundle.js';

const EXAMPLE = join(repoRoot, 'examples/terraform-app');
const ENVIRONMENTS = ['dev', 'prod'] as const;
type Env = (typeof ENVIRONMENTS)[number];
const TAGS = ['v1', 'v2'] as const;

interface TfOutput {
  sensitive: boolean;
  type: unknown;
  value: unknown;
}
type TfOutputs = Record<string, TfOutput>;

const tfFile = (env: Env) => join(EXAMPLE, 'tf-outputs', env, 'tf.json');
const tf = (env: Env): TfOutputs => JSON.parse(readFileSync(tfFile(env), 'utf8')) as TfOutputs;
const str = (env: Env, name: string) => {
  const value = tf(env)[name]?.value;
  if (typeof value !== 'string') throw new Error(`tf-outputs/${env}/tf.json: output ${name} is not a string`);
  return value;
};

/** Every string leaf of every sensitive output: what must never reach a log line. */
function sensitiveStrings(outputs: TfOutputs): string[] {
  const leaves = (v: unknown): string[] =>
    typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(leaves) : v && typeof v === 'object' ? Object.values(v).flatMap(leaves) : [];
  return Object.values(outputs)
    .filter((o) => o.sensitive)
    .flatMap((o) => leaves(o.value));
}

/** Secrets Manager ARN → name and the 6-character suffix AWS appends. */
function secretName(arn: string): { name: string; suffix: string } {
  const m = /:secret:(.+)-([A-Za-z0-9]{6})$/.exec(arn);
  if (!m) throw new Error(`not a Secrets Manager secret ARN: ${arn}`);
  return { name: m[1]!, suffix: m[2]! };
}

/** The JWT signing key stored in each environment's secret (a value only ECS reads). */
const jwtKey = (env: Env) => `jwt-signing-key-${env}-9fK2mQ7xR4vL8pZ3`;

let emu: Emulator;
let workspace: string;
const image = (tag: string) => `${str('dev', 'ecr_repository_url')}:${tag}`;

beforeAll(async () => {
  emu = await startEmulator();
  workspace = mkdtempSync(join(tmpdir(), 'terraform-app-'));
  cpSync(EXAMPLE, workspace, { recursive: true });
  for (const tag of ['bootstrap', ...TAGS]) emu.ecr.putImage('orders/api', tag);
  // What `terraform apply` created in each environment, named by its outputs.
  for (const env of ENVIRONMENTS) {
    const out = tf(env);
    emu.ecs.createCluster(str(env, 'ecs_cluster_name'));
    emu.logs.createLogGroup(str(env, 'api_log_group'));
    const db = secretName(str(env, 'db_password_secret_arn'));
    emu.secrets.createSecret(db.name, str(env, 'db_master_password'), { suffix: db.suffix });
    const jwt = secretName(str(env, 'jwt_secret_arn'));
    emu.secrets.createSecret(jwt.name, JSON.stringify({ signing_key: jwtKey(env) }), { suffix: jwt.suffix });
    // Terraform's first revision (infra/terraform/ecs.tf): the bootstrap image, nothing else.
    const first = emu.ecs.registerTaskDefinition({
      family: str(env, 'api_family'),
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      executionRoleArn: str(env, 'ecs_execution_role_arn'),
      taskRoleArn: str(env, 'api_task_role_arn'),
      containerDefinitions: [{ name: 'api', image: image('bootstrap'), essential: true }],
    });
    emu.ecs.createService({
      cluster: str(env, 'ecs_cluster_name'),
      serviceName: str(env, 'ecs_service_name'),
      taskDefinition: first,
      desiredCount: env === 'prod' ? 2 : 1,
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: out.private_subnet_ids!.value as string[],
          securityGroups: [str(env, 'api_security_group_id')],
          assignPublicIp: 'DISABLED',
        },
      },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    await emu.s3.createBucket(str(env, 'site_bucket'));
    emu.cloudfront.createDistribution({ id: str(env, 'cloudfront_distribution_id'), invalidationSeconds: 1 });
  }
});
afterAll(async () => {
  await emu?.stop();
});

/** The workflow's "Render the task definition" step (.github/workflows/api.yml). */
function render(env: Env, tag: string) {
  return runBundle('render-taskdef', {
    inputs: {
      template: 'infra/taskdef/api.json',
      'feature-config': 'infra/features/api.json',
      environment: env,
      image: image(tag),
      'terraform-outputs-file': tfFile(env),
      output: join(workspace, 'rendered', `${env}-${tag}.json`),
    },
    env: emu.env(),
    workspace,
  });
}

/** The workflow's "Deploy" step, or the rollback workflow's "Roll back" step. */
function deploy(env: Env, taskDefinition: string, extra: Record<string, string> = {}) {
  emu.scenarios.nextRollout(
    { cluster: str(env, 'ecs_cluster_name'), service: str(env, 'ecs_service_name') },
    { result: 'success', afterSeconds: 0.5 },
  );
  return runBundle('deploy-ecs', {
    inputs: {
      'task-definition': taskDefinition,
      cluster: str(env, 'ecs_cluster_name'),
      services: str(env, 'ecs_service_name'),
      'poll-interval-seconds': '0.2',
      'timeout-minutes': '0.5',
      ...extra,
    },
    env: emu.env(),
    workspace,
  });
}

/** Nothing a run printed, wrote as an output or put in its summary holds a sensitive value. */
function expectNoSecrets(run: BundleRun, env: Env) {
  const shown = [run.stdout, run.stderr, JSON.stringify(run.outputs), run.summary].join('\n');
  const secrets = [...sensitiveStrings(tf(env)), jwtKey(env)];
  expect(secrets.length).toBeGreaterThan(2);
  for (const secret of secrets) {
    // `::add-mask::X` is consumed by the runner; anything else naming X is a leak.
    const leaked = shown.split('\n').filter((line) => line.includes(secret) && line !== `::add-mask::${secret}`);
    expect(leaked, `a sensitive value of ${env} reached the log`).toEqual([]);
  }
}

describe('examples/terraform-app (bundles, emulator)', () => {
  it.each(ENVIRONMENTS)('%s: renders from its own Terraform outputs only, masks every sensitive string first', async (env) => {
    const other: Env = env === 'dev' ? 'prod' : 'dev';
    const run = await render(env, 'v1');
    expect(run.code, run.stdout).toBe(0);
    expectNoSecrets(run, env);
    // Every string of a sensitive output (the object's too) is masked before the first other line.
    const masks = sensitiveStrings(tf(env)).map((s) => `::add-mask::${s}`);
    expect(run.stdout.split('\n').slice(0, masks.length).sort()).toEqual([...masks].sort());
    expect(run.stdout).not.toContain('::add-mask::5432');

    const text = readFileSync(run.outputs['task-definition']!, 'utf8');
    const def = JSON.parse(text) as {
      family: string;
      taskRoleArn: string;
      executionRoleArn: string;
      containerDefinitions: Array<{
        environment: Array<{ name: string; value: string }>;
        secrets: Array<{ name: string; valueFrom: string }>;
        logConfiguration: { options: Record<string, string> };
      }>;
    };
    expect(def).toMatchObject({
      family: str(env, 'api_family'),
      taskRoleArn: str(env, 'api_task_role_arn'),
      executionRoleArn: str(env, 'ecs_execution_role_arn'),
    });
    const api = def.containerDefinitions[0]!;
    expect(Object.fromEntries(api.secrets.map((s) => [s.name, s.valueFrom]))).toEqual({
      DB_PASSWORD: str(env, 'db_password_secret_arn'),
      JWT_SIGNING_KEY: `${str(env, 'jwt_secret_arn')}:signing_key::`,
    });
    expect(Object.fromEntries(api.environment.map((e) => [e.name, e.value]))).toMatchObject({
      DB_HOST: str(env, 'db_host'),
      LOG_LEVEL: env === 'dev' ? 'debug' : 'info',
      DEPLOY_ENV: env,
    });
    // An app without features gets none of the feature variables.
    expect(api.environment.map((e) => e.name)).not.toContain('FEATURE_KEY');
    expect(api.environment.map((e) => e.name)).not.toContain('FEATURE_FLAGS');
    expect(api.logConfiguration.options['awslogs-group']).toBe(str(env, 'api_log_group'));
    // Not one identifier of the other environment: its name as a token, or any of its outputs' values.
    expect(text).not.toMatch(new RegExp(`[/:._"-]${other}[/:._"-]`));
    const own = Object.values(tf(env)).map((o) => JSON.stringify(o.value));
    for (const [name, output] of Object.entries(tf(other))) {
      // Shared values (the ECR repository) and parts of this environment's own (orders.example.com in dev.orders.example.com) are not the other's.
      if (typeof output.value !== 'string' || own.some((v) => v.includes(output.value as string))) continue;
      expect(text, `${other}'s ${name}`).not.toContain(output.value);
    }
    // Never a password in the file ECS registers.
    for (const secret of sensitiveStrings(tf(env))) expect(text).not.toContain(secret);
  });

  it('refuses a render with the other environment’s Terraform outputs (dev render, prod file)', async () => {
    const run = await runBundle('render-taskdef', {
      inputs: {
        template: 'infra/taskdef/api.json',
        'feature-config': 'infra/features/api.json',
        environment: 'dev',
        image: image('v1'),
        'terraform-outputs-file': tfFile('prod'),
      },
      env: emu.env(),
      workspace,
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/prod/);
    expectNoSecrets(run, 'prod');
  });

  it.each(ENVIRONMENTS)('%s: migrates, deploys v1 then v2, and a rollback to previous returns to v1', async (env) => {
    const cluster = str(env, 'ecs_cluster_name');
    const service = str(env, 'ecs_service_name');
    const revisions: string[] = [];
    for (const tag of TAGS) {
      const rendered = await render(env, tag);
      expect(rendered.code, rendered.stdout).toBe(0);
      const file = rendered.outputs['task-definition']!;

      emu.scenarios.nextTask(
        { family: str(env, 'api_family') },
        { exitCode: 0, afterSeconds: 0.5, logLines: [`migrated ${env} to ${tag}`] },
      );
      const migrate = await runBundle('migrate-db', {
        inputs: { cluster, service, 'task-definition': file, command: '["node", "dist/migrate.js"]', 'poll-interval-seconds': '0.2' },
        env: { ...emu.env(), GITHUB_JOB: 'deploy', GITHUB_ACTION: `migrate_${env}_${tag}` },
        workspace,
      });
      expect(migrate.code, migrate.stdout).toBe(0);
      expect(migrate.stdout).toContain(`migrated ${env} to ${tag}`);
      expectNoSecrets(migrate, env);

      const deployed = await deploy(env, file);
      expect(deployed.code, deployed.stdout).toBe(0);
      // migrate-db registered the rendered file already; deploy-ecs moves the service onto that revision.
      expect(deployed.outputs).toMatchObject({ status: 'succeeded', image: image(tag) });
      expectNoSecrets(deployed, env);
      revisions.push(deployed.outputs['task-definition-arn']!);
    }
    expect(revisions[0]).toMatch(new RegExp(`task-definition/${str(env, 'api_family')}:\\d+$`));
    expect(revisions[1]).not.toBe(revisions[0]);

    // .github/workflows/rollback.yml: task-definition previous, no rollback of the rollback.
    const back = await deploy(env, 'previous', { 'rollback-on-failure': 'false' });
    expect(back.code, back.stdout).toBe(0);
    expect(back.outputs['task-definition-arn']).toBe(revisions[0]);
    expect(back.outputs.image).toBe(image('v1'));
    expectNoSecrets(back, env);
  });

  it.each(ENVIRONMENTS)('%s: the SPA goes to its bucket and distribution, and rolls back to the previous release', async (env) => {
    const bucket = str(env, 'site_bucket');
    const distribution = str(env, 'cloudfront_distribution_id');
    const site = mkdtempSync(join(tmpdir(), `terraform-app-web-${env}-`));
    cpSync(join(EXAMPLE, 'web', 'dist'), site, { recursive: true });
    const s3 = new S3Client({
      region: emu.region,
      endpoint: emu.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: emu.env().AWS_ACCESS_KEY_ID!, secretAccessKey: emu.env().AWS_SECRET_ACCESS_KEY! },
    });
    const index = async () => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'index.html' }))).Body!.transformToString();
    const deployStatic = (inputs: Record<string, string>) =>
      runBundle('deploy-static', {
        inputs: { bucket, 'distribution-id': distribution, preset: 'spa', ...inputs },
        env: emu.env(),
        workspace,
      });

    const first = await deployStatic({ source: site });
    expect(first.code, first.stdout).toBe(0);
    const v1 = await index();
    // A second build of the SPA.
    const v2 = v1.replace('<title>Orders</title>', '<title>Orders v2</title>');
    cpSync(join(EXAMPLE, 'web', 'dist'), site, { recursive: true });
    writeFileSync(join(site, 'index.html'), v2);
    const second = await deployStatic({ source: site });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs['invalidation-id']).not.toBe('');
    expect(await index()).toBe(v2);

    const back = await deployStatic({ 'rollback-to': 'previous' });
    expect(back.code, back.stdout).toBe(0);
    expect(await index()).toBe(v1);
    for (const run of [first, second, back]) expectNoSecrets(run, env);
  });
});
