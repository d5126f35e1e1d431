/**
 * Adopting an existing app: the delivery team's own files, as they
 * are today (examples/delivery-legacy), render without changing the app.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainerDef, TaskDef } from '../../actions/render-taskdef/taskdef-types.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { IMAGE, render } from './fixture.js';

const LEGACY = join(repoRoot, 'examples/delivery-legacy');
const BACKEND = 'infra/taskdef.template.json';
const FRONTEND = 'infra/admin-frontend-taskdef.template.json';

const env = (c: ContainerDef) => Object.fromEntries((c.environment ?? []).map((e) => [e.name, e.value]));
const secrets = (c: ContainerDef) => Object.fromEntries((c.secrets ?? []).map((e) => [e.name, e.valueFrom]));

/** What `terraform output -json` prints for one environment's state (db_master_password is sensitive). */
const tfOutputs = (environment: string) =>
  JSON.stringify({
    ecs_execution_role_arn: {
      sensitive: false,
      type: 'string',
      value: `arn:aws:iam::123456789012:role/delivery-${environment}-ecs-execution`,
    },
    backend_task_role_arn: {
      sensitive: false,
      type: 'string',
      value: `arn:aws:iam::123456789012:role/delivery-${environment}-backend-task`,
    },
    frontend_task_role_arn: {
      sensitive: false,
      type: 'string',
      value: `arn:aws:iam::123456789012:role/delivery-${environment}-frontend-task`,
    },
    log_group: { sensitive: false, type: 'string', value: `/ecs/delivery-${environment}` },
    db_master_password: { sensitive: true, type: 'string', value: `Zq8vN2xK7pR4tL9mW3cF6hJ1-${environment}` },
  });

/** The file `terraform output -json > tf-outputs.json` writes, as the README's step writes it. */
function tfOutputsFile(environment: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tf-outputs-')), 'tf-outputs.json');
  writeFileSync(path, tfOutputs(environment));
  return path;
}

/** The inputs of the README's "Adopting an existing app" workflow step. */
const inputsFor = (template: string, feature: string, environment: string, service: 'backend' | 'frontend') => ({
  template,
  'features-dir': 'infra/env/features',
  feature,
  environment,
  image: IMAGE.replace('delivery/backend', `delivery/${service}`),
  'terraform-outputs-file': tfOutputsFile(environment),
  vars: [
    `TASKDEF_FAMILY=delivery-${environment}-${service}`,
    'EXEC_ROLE_ARN=${tf:ecs_execution_role_arn}',
    `TASK_ROLE_ARN=\${tf:${service}_task_role_arn}`,
    'LOG_GROUP=${tf:log_group}',
  ].join('\n'),
  'allow-plain-names': 'TOKEN_ISS, TOKEN_AUD_*',
});

function legacyWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'render-legacy-'));
  cpSync(join(LEGACY, 'infra'), join(dir, 'infra'), { recursive: true });
  return dir;
}

const combos = ['core', 'menu-rewrite'].flatMap((feature) => ['test', 'prod'].map((environment) => ({ feature, environment })));
const flags: Record<string, Record<string, string>> = {
  core: { test: 'BASE_CORE', prod: 'BASE_CORE' },
  'menu-rewrite': { test: 'BASE_CORE,MENU_REWRITE,MENU_REWRITE_BETA_UI', prod: 'BASE_CORE,MENU_REWRITE' },
};

describe("render-taskdef bundle on the delivery team's files as they are (e2e)", () => {
  it.each(combos)(
    "$feature × $environment: backend gets the environment's SSM references and flags, frontend no secret",
    async ({ feature, environment }) => {
      const config = JSON.parse(readFileSync(join(LEGACY, 'infra/env/features', `${feature}.json`), 'utf8'));
      const ssm = config.environments[environment].ssm as Record<string, string>;

      const backend = await runBundle('render-taskdef', {
        workspace: LEGACY,
        inputs: inputsFor(BACKEND, feature, environment, 'backend'),
        env: { AWS_REGION: 'eu-west-1' },
      });
      expect(backend.errors).toEqual([]);
      expect(backend.code).toBe(0);
      expect(backend.stdout).not.toContain('::warning'); // TOKEN_ISS and TOKEN_AUD_TENANT are allowed by name
      const def = JSON.parse(readFileSync(backend.outputs['task-definition']!, 'utf8')) as TaskDef;
      expect(def.family).toBe(`delivery-${environment}-backend`);
      expect(def.executionRoleArn).toBe(`arn:aws:iam::123456789012:role/delivery-${environment}-ecs-execution`);
      expect(def.taskRoleArn).toBe(`arn:aws:iam::123456789012:role/delivery-${environment}-backend-task`);
      const b = def.containerDefinitions[0]!;
      expect(secrets(b)).toEqual(ssm);
      for (const ref of Object.values(ssm)) expect(ref).toContain(`/${environment}/`);
      // Hardcoded values replaced in place, the app's own variables kept, order kept.
      expect(env(b)).toEqual({
        PORT: '3000',
        FEATURE_KEY: feature,
        TOKEN_ISS: 'delivery-app',
        TOKEN_AUD_TENANT: 'tenant-api',
        DEPLOY_ENV: environment,
        FEATURE_FLAGS: flags[feature]![environment],
      });
      expect(b.environment!.map((e) => e.name)).toEqual([
        'PORT',
        'FEATURE_KEY',
        'TOKEN_ISS',
        'TOKEN_AUD_TENANT',
        'DEPLOY_ENV',
        'FEATURE_FLAGS',
      ]);
      expect((b.logConfiguration as { options: Record<string, string> }).options['awslogs-group']).toBe(`/ecs/delivery-${environment}`);

      const frontend = await runBundle('render-taskdef', {
        workspace: LEGACY,
        inputs: inputsFor(FRONTEND, feature, environment, 'frontend'),
        env: { AWS_REGION: 'eu-west-1' },
      });
      expect(frontend.errors).toEqual([]);
      expect(frontend.code).toBe(0);
      const f = (JSON.parse(readFileSync(frontend.outputs['task-definition']!, 'utf8')) as TaskDef).containerDefinitions[0]!;
      expect(f.name).toBe('frontend');
      expect(f.secrets).toBeUndefined();
      expect(JSON.stringify(f)).not.toMatch(/DATABASE_URL|JWT_/);
      // Withheld entries are a warning annotation on the config line and a table in the step summary.
      expect(frontend.stdout).toMatch(
        /^::warning file=infra\/env\/features\/[a-z-]+\.json,line=\d+::.*container 'frontend' does not get DATABASE_URL, JWT_PRIVATE_KEY, JWT_PUBLIC_KEY/m,
      );
      expect(frontend.summary).toMatch(/\*\*Not given\*\*[\s\S]*\| `frontend` \| `DATABASE_URL` \|/);

      // The sensitive Terraform output is masked (the runner hides ::add-mask:: values) and printed nowhere else.
      const secret = `Zq8vN2xK7pR4tL9mW3cF6hJ1-${environment}`;
      for (const run of [backend, frontend]) {
        expect(run.stdout).toContain(`::add-mask::${secret}`);
        expect(
          run.stdout
            .split('\n')
            .filter((l) => !l.startsWith('::add-mask::'))
            .join('\n'),
        ).not.toContain(secret);
        expect(run.summary).not.toContain(secret);
      }
    },
  );
});

describe('render-taskdef bundle: a secret-like name is a warning annotation, a secret value an error annotation', () => {
  it('TOKEN_ISS without allow-plain-names: exit 0, ::warning on its line; an AKIA value: exit 1, ::error on its line, value not echoed', async () => {
    const warned = await runBundle('render-taskdef', {
      workspace: LEGACY,
      inputs: { ...inputsFor(BACKEND, 'core', 'test', 'backend'), 'allow-plain-names': '' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/^::warning file=infra\/taskdef\.template\.json,line=18::.*TOKEN_ISS is named like a secret/m);
    expect(warned.stdout).toMatch(/^::warning file=infra\/taskdef\.template\.json,line=19::.*TOKEN_AUD_TENANT/m);

    const root = legacyWorkspace();
    const path = join(root, BACKEND);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"value": "tenant-api"', '"value": "AKIAIOSFODNN7EXAMPLE"'));
    const failed = await runBundle('render-taskdef', {
      workspace: root,
      inputs: inputsFor(BACKEND, 'core', 'test', 'backend'),
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(failed.code).toBe(1);
    expect(
      failed.errors.some(
        (e) => e.includes('file=infra/taskdef.template.json,line=19') && e.includes('TOKEN_AUD_TENANT holds an AWS access key ID'),
      ),
    ).toBe(true);
    expect(failed.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(failed.outputs).toEqual({});
  });
});

describe("adopting the team's files: what render tells them", () => {
  const inProcess = async (root: string, inputs: Record<string, string>) => render(root, inputs);

  it("the issue's exact config (no JWT_PUBLIC_KEY for prod) renders test, and fails prod on the template's test path, with the fix", async () => {
    const root = legacyWorkspace();
    writeFileSync(
      join(root, 'infra/env/features/core.json'),
      `{ "featureKey": "core",
  "environments": {
    "test": { "ssm": { "DATABASE_URL": "/delivery/test/DATABASE_URL", "JWT_PRIVATE_KEY": "/delivery/test/JWT_PRIVATE_KEY" },
              "flags": ["BASE_CORE"] },
    "prod": { "ssm": { "DATABASE_URL": "/delivery/prod/DATABASE_URL", "JWT_PRIVATE_KEY": "/delivery/prod/JWT_PRIVATE_KEY" },
              "flags": ["BASE_CORE"] } } }
`,
    );
    const test = await inProcess(root, inputsFor(BACKEND, 'core', 'test', 'backend'));
    expect(test.text).toBe('');
    const prod = await inProcess(root, inputsFor(BACKEND, 'core', 'prod', 'backend'));
    expect(prod.result).toBeUndefined();
    expect(prod.text).toMatch(
      /^infra\/taskdef\.template\.json:26 containerDefinitions\[0\]\.secrets\[2\]: container 'backend': secret JWT_PUBLIC_KEY is \/delivery\/test\/JWT_PUBLIC_KEY, a 'test' resource, in a 'prod' render\. Fix: Set it for prod in infra\/env\/features\/core\.json/,
    );
    expect(prod.text.split('\n')).toHaveLength(1); // DATABASE_URL and JWT_PRIVATE_KEY were replaced
  });

  it('without allow-plain-names, TOKEN_ISS and TOKEN_AUD_TENANT still render, with a warning on their lines', async () => {
    const root = legacyWorkspace();
    const r = await inProcess(root, { ...inputsFor(BACKEND, 'core', 'test', 'backend'), 'allow-plain-names': '' });
    expect(r.text).toBe('');
    const warnings = r.reporter.lines.filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /taskdef\.template\.json:18 .*TOKEN_ISS is named like a secret .*add TOKEN_ISS to the allow-plain-names input/,
    );
    expect(warnings[1]).toMatch(/taskdef\.template\.json:19 .*TOKEN_AUD_TENANT/);
    expect(env(r.result!.rendered.taskDef.containerDefinitions[0]!).TOKEN_ISS).toBe('delivery-app');
  });

  it('a secret reaches the frontend only when byContainer names it (least privilege, not all-or-nothing)', async () => {
    const root = legacyWorkspace();
    const path = join(root, 'infra/env/features/core.json');
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.environments.test.byContainer = {
      frontend: { secretsManager: { SESSION_KEY: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/session-Ab12Cd' } },
    };
    writeFileSync(path, JSON.stringify(config));
    const r = await inProcess(root, inputsFor(FRONTEND, 'core', 'test', 'frontend'));
    expect(r.text).toBe('');
    expect(secrets(r.result!.rendered.taskDef.containerDefinitions[0]!)).toEqual({
      SESSION_KEY: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/session-Ab12Cd',
    });
  });
});
