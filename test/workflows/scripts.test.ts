/**
 * The branch -> environment mapping and the image choice, as code: these run the
 * exact scripts the reusable workflows run (.github/scripts/*.sh) with bash, with
 * the workflows' own default mapping read from the workflow files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandFile, repoRoot } from '../helpers/run-bundle.js';
import { loadWorkflow } from './workflow-files.js';

interface ScriptRun {
  code: number | null;
  outputs: Record<string, string>;
  stdout: string;
  summary: string;
}

function runScript(script: string, env: Record<string, string>): ScriptRun {
  const dir = mkdtempSync(join(tmpdir(), 'wf-script-'));
  const output = join(dir, 'output');
  const summary = join(dir, 'summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const run = spawnSync('bash', [join(repoRoot, '.github', 'scripts', script)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
    encoding: 'utf8',
  });
  return {
    code: run.status,
    outputs: parseCommandFile(readFileSync(output, 'utf8')),
    stdout: run.stdout + run.stderr,
    summary: readFileSync(summary, 'utf8'),
  };
}

/** The `branch-environments` default of a reusable workflow, exactly as a caller gets it. */
function defaultMapping(file: string): string {
  const wf = loadWorkflow(join(repoRoot, '.github', 'workflows', file));
  const on = wf.doc.on as { workflow_call: { inputs: Record<string, { default?: string }> } };
  return on.workflow_call.inputs['branch-environments']!.default!;
}

const select = (env: Record<string, string>) => runScript('select-environment.sh', env);

describe('select-environment.sh: branch -> environment', () => {
  describe.each(['deploy-ecs-service.yml', 'deploy-static-site.yml'])('with the default mapping of %s', (file) => {
    const mapping = defaultMapping(file);
    it.each([
      ['main', 'prod'],
      ['master', 'prod'],
      ['staging', 'staging'],
    ])('branch %s deploys to %s', (branch, environment) => {
      const run = select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: branch, REF_TYPE: 'branch' });
      expect(run.code).toBe(0);
      expect(run.outputs).toMatchObject({ environment, deploy: 'true' });
      expect(run.summary).toContain(`Deploying to **${environment}**`);
    });

    it.each(['feature/login', 'main-backup', 'stagingx', 'dependabot/npm_and_yarn/x'])('branch %s deploys nothing', (branch) => {
      const run = select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: branch, REF_TYPE: 'branch' });
      expect(run.code).toBe(0);
      expect(run.outputs).toMatchObject({ environment: '', deploy: 'false' });
      expect(run.summary).toMatch(/No deployment: branch '.*' is not in branch-environments/);
    });

    it('a tag named like a branch deploys nothing (only branches are mapped)', () => {
      const run = select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'main', REF_TYPE: 'tag' });
      expect(run.outputs.deploy).toBe('false');
    });
  });

  it('an explicit environment (workflow_dispatch) wins over the branch, on any branch', () => {
    const run = select({ EXPLICIT_ENVIRONMENT: 'staging', BRANCH_ENVIRONMENTS: 'main=prod', REF_NAME: 'main', REF_TYPE: 'branch' });
    expect(run.outputs).toMatchObject({ environment: 'staging', deploy: 'true', reason: 'chosen explicitly' });
    expect(select({ EXPLICIT_ENVIRONMENT: ' prod ', REF_NAME: 'feature/x' }).outputs.environment).toBe('prod');
  });

  it('a custom mapping: globs, comments, first match wins', () => {
    const mapping = [
      '# releases go to staging first',
      'release/*=staging',
      'main=production',
      'main=never',
      '',
      'develop = dev  # spaces are trimmed',
    ].join('\n');
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'release/2.4' }).outputs.environment).toBe('staging');
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'main' }).outputs.environment).toBe('production');
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'develop' }).outputs.environment).toBe('dev');
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'release' }).outputs.deploy).toBe('false');
  });

  it('tag:<glob> lines map tags (and only tags)', () => {
    const mapping = 'main=staging\ntag:v*=prod';
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'v1.4.2', REF_TYPE: 'tag' }).outputs).toMatchObject({
      environment: 'prod',
      reason: "tag 'v1.4.2' matches 'v*'",
    });
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'v1.4.2', REF_TYPE: 'branch' }).outputs.deploy).toBe('false');
    expect(select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'main', REF_TYPE: 'tag' }).outputs.deploy).toBe('false');
  });

  it('an empty mapping deploys nothing without failing', () => {
    expect(select({ BRANCH_ENVIRONMENTS: '', REF_NAME: 'main' }).outputs).toMatchObject({ deploy: 'false', environment: '' });
  });

  it('reports every bad mapping line at once, with its line number, and fails', () => {
    const run = select({ BRANCH_ENVIRONMENTS: 'main=prod\nstaging\n=x\nqa=bad env', REF_NAME: 'main' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("::error title=select-environment::input 'branch-environments' line 2 is 'staging'");
    expect(run.stdout).toContain('line 3');
    expect(run.stdout).toContain('line 4');
    expect(run.outputs).toEqual({});
  });

  it.each(['prod;rm -rf /', 'a b', '$(id)', '-prod', 'prod\nx=y'])('rejects the explicit environment %j', (bad) => {
    const run = select({ EXPLICIT_ENVIRONMENT: bad, REF_NAME: 'main' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/input 'environment' is/);
    expect(run.outputs).toEqual({});
  });

  it('treats a hostile branch name as data, never code', () => {
    const branch = 'x";touch /tmp/pwned-by-branch;"$(id)`id`';
    const run = select({ BRANCH_ENVIRONMENTS: '*=staging', REF_NAME: branch });
    expect(run.code).toBe(0);
    expect(run.outputs.environment).toBe('staging');
    expect(run.stdout).not.toMatch(/uid=/);
  });

  it('builds one concurrency key per set of services, in any order, and names the first service', () => {
    const a = select({ REF_NAME: 'main', BRANCH_ENVIRONMENTS: 'main=prod', DEPLOY_KEY: 'worker\napi\n' });
    const b = select({ REF_NAME: 'main', BRANCH_ENVIRONMENTS: 'main=prod', DEPLOY_KEY: 'api, worker' });
    expect(a.outputs['concurrency-key']).toBe('api+worker');
    expect(b.outputs['concurrency-key']).toBe('api+worker');
    expect(a.outputs.primary).toBe('worker');
    expect(b.outputs.primary).toBe('api');
    expect(select({ REF_NAME: 'main', DEPLOY_KEY: 'my site!' }).outputs['concurrency-key']).toBe('my-site-');
    expect(select({ REF_NAME: 'main' }).outputs['concurrency-key']).toBe('default');
  });

  describe('environment-services: services named per environment', () => {
    const perEnvironment = '# Terraform names them per environment\ndev=orders-dev-api\nprod = orders-prod-api, orders-prod-worker\n';
    const mapping = 'main=prod\ndevelop=dev';

    it.each([
      ['develop', 'dev', 'orders-dev-api', 'orders-dev-api', 'orders-dev-api'],
      ['main', 'prod', 'orders-prod-api\norders-prod-worker', 'orders-prod-api+orders-prod-worker', 'orders-prod-api'],
    ])(
      'a push to %s deploys the services of %s, with their concurrency key and first service',
      (branch, environment, services, key, primary) => {
        const run = select({
          BRANCH_ENVIRONMENTS: mapping,
          REF_NAME: branch,
          ENVIRONMENT_SERVICES: perEnvironment,
          DEPLOY_KEY: 'fallback',
        });
        expect(run.code, run.stdout).toBe(0);
        expect(run.outputs).toMatchObject({ environment, services, 'concurrency-key': key, primary });
      },
    );

    it('without environment-services, services is deployed as given', () => {
      expect(select({ EXPLICIT_ENVIRONMENT: 'dev', DEPLOY_KEY: 'api\nworker' }).outputs.services).toBe('api\nworker');
    });

    it('an environment without a line uses services; with services empty too, it fails naming the line to add', () => {
      expect(select({ EXPLICIT_ENVIRONMENT: 'qa', ENVIRONMENT_SERVICES: perEnvironment, DEPLOY_KEY: 'api' }).outputs.services).toBe('api');
      const run = select({ EXPLICIT_ENVIRONMENT: 'qa', ENVIRONMENT_SERVICES: perEnvironment });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        "::error title=select-environment::input 'environment-services' has no line for environment 'qa' and input 'services' is empty: add 'qa=<service>' to environment-services.",
      );
      expect(run.outputs).toEqual({});
    });

    it('a line without a service fails with its line number', () => {
      const run = select({ EXPLICIT_ENVIRONMENT: 'dev', ENVIRONMENT_SERVICES: 'dev=api\nprod' });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("input 'environment-services' line 2 is 'prod'");
    });

    it('a branch that deploys nothing needs no line', () => {
      const run = select({ BRANCH_ENVIRONMENTS: mapping, REF_NAME: 'feature/x', ENVIRONMENT_SERVICES: perEnvironment });
      expect(run.code).toBe(0);
      expect(run.outputs.deploy).toBe('false');
    });
  });
});

const resolve = (env: Record<string, string>) => runScript('resolve-image.sh', env);
const ACCOUNT = { ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1', GIT_SHA: '0123456789abcdef0123456789abcdef01234567' };

describe('resolve-image.sh: build, promote or redeploy', () => {
  it('builds and tags with the commit SHA when no image or tag is given', () => {
    const run = resolve({ ...ACCOUNT, ECR_REPOSITORY: 'delivery/backend' });
    expect(run.code).toBe(0);
    expect(run.outputs).toEqual({
      uri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:${ACCOUNT.GIT_SHA}`,
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      tag: ACCOUNT.GIT_SHA,
      build: 'true',
    });
  });

  it('redeploys an existing tag without building', () => {
    const run = resolve({ ...ACCOUNT, ECR_REPOSITORY: 'delivery/backend', IMAGE_TAG: 'v1.4.2' });
    expect(run.outputs).toMatchObject({ uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:v1.4.2', build: 'false' });
  });

  it('uses a given registry (another account) instead of the assumed role account', () => {
    const run = resolve({
      ...ACCOUNT,
      ECR_REPOSITORY: 'api',
      ECR_REGISTRY: '999999999999.dkr.ecr.us-east-1.amazonaws.com',
      IMAGE_TAG: 'abc',
    });
    expect(run.outputs.uri).toBe('999999999999.dkr.ecr.us-east-1.amazonaws.com/api:abc');
  });

  it('deploys a full image URI as is (no repository needed)', () => {
    const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:0123abc';
    expect(resolve({ ...ACCOUNT, IMAGE: uri }).outputs).toMatchObject({
      uri,
      build: 'false',
      tag: '0123abc',
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    });
  });

  it.each([
    [{ IMAGE: 'a:1', IMAGE_TAG: 'b' }, /both set/],
    [{}, /input 'ecr-repository' is empty/],
    [{ ECR_REPOSITORY: 'Delivery/Backend' }, /ECR repository names are lower-case/],
    [{ ECR_REPOSITORY: 'api', IMAGE_TAG: '-bad' }, /input 'image-tag' is '-bad'/],
    [{ ECR_REPOSITORY: 'api', IMAGE_TAG: 'x;id' }, /input 'image-tag' is 'x;id'/],
    [{ IMAGE: 'has space:1' }, /without spaces/],
  ])('fails clearly on %j', (env, message) => {
    const run = resolve({ ...ACCOUNT, ...env });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(run.outputs).toEqual({});
  });
});
