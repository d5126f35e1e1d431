import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { editJson, exampleWorkspace, IMAGE } from './fixture.js';

// The committed bundle, run with node exactly as the runner runs it.
const combos = ['backend', 'admin-frontend'].flatMap((template) =>
  ['core', 'menu-rewrite'].flatMap((feature) => ['test', 'prod'].map((environment) => ({ template, feature, environment }))),
);

describe('render-taskdef bundle (e2e)', () => {
  it.each(combos)('renders $template × $feature × $environment from examples/delivery-app', async ({ template, feature, environment }) => {
    const image = IMAGE.replace('delivery/backend', `delivery/${template}`);
    const run = await runBundle('render-taskdef', {
      workspace: repoRoot,
      inputs: {
        template: `examples/delivery-app/infra/taskdef/${template}.json`,
        'features-dir': 'examples/delivery-app/infra/env/features',
        feature,
        environment,
        image,
      },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const family = `delivery-${environment}-${template}`;
    expect(run.outputs).toEqual({
      'task-definition': join(run.runnerTemp, 'render-taskdef', `${family}.json`),
      family,
      feature,
      environment,
      containers: template,
    });
    const def = JSON.parse(readFileSync(run.outputs['task-definition']!, 'utf8'));
    expect(def.family).toBe(family);
    expect(def.containerDefinitions[0].image).toBe(image);
    expect(JSON.stringify(def)).not.toContain('${');
    expect(run.summary).toContain(`\`${family}\``);
    expect(run.summary).toContain(image);
    expect(run.summary).toContain('FEATURE_FLAGS');
  });

  describe('an app without features', () => {
    const CORE = 'infra/env/features/core.json';
    const renderCore = async (ws: string) => {
      const run = await runBundle('render-taskdef', {
        workspace: ws,
        inputs: { template: 'infra/taskdef/backend.json', 'feature-config': CORE, environment: 'test', image: IMAGE },
        env: { AWS_REGION: 'eu-west-1' },
      });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      const def = JSON.parse(readFileSync(run.outputs['task-definition']!, 'utf8'));
      const env = (def.containerDefinitions[0].environment as { name: string; value: string }[]).map((e) => e.name);
      return { run, env };
    };
    const withoutFlags = (d: { defaults?: { flags?: string[] }; environments: Record<string, { flags?: string[] }> }) => {
      delete d.defaults?.flags;
      for (const e of Object.values(d.environments)) delete e.flags;
    };

    it('no feature key and no flags in the config: renders, and injects neither FEATURE_KEY nor FEATURE_FLAGS', async () => {
      const ws = exampleWorkspace();
      editJson(ws, CORE, (d) => {
        delete d.feature;
        delete d.featureKey;
        withoutFlags(d);
      });
      const { run, env } = await renderCore(ws);
      expect(env).not.toContain('FEATURE_KEY');
      expect(env).not.toContain('FEATURE_FLAGS');
      expect(env).toContain('DEPLOY_ENV');
      expect(run.outputs.feature).toBe('');
      expect(run.summary).not.toContain('FEATURE_');
    });

    it('a config with a feature key keeps FEATURE_KEY and FEATURE_FLAGS, even empty', async () => {
      const ws = exampleWorkspace();
      editJson(ws, CORE, withoutFlags);
      const { run, env } = await renderCore(ws);
      expect(env).toEqual(expect.arrayContaining(['FEATURE_KEY', 'FEATURE_FLAGS', 'DEPLOY_ENV']));
      expect(run.outputs.feature).toBe('core');
    });
  });

  it('bad input: exit 1, one annotation per problem on file and line, no output file', async () => {
    const ws = exampleWorkspace();
    const path = join(ws, 'infra/taskdef/backend.json');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('"memory": "1024"', '"memory": "${MEMORY}"').replace('"hostPort": 8080', '"hostPort": 80'),
    );
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: {
        template: 'infra/taskdef/backend.json',
        'feature-config': 'infra/env/features/core.json',
        environment: 'test',
        image: IMAGE,
        output: 'out/td.json',
      },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(1);
    expect(
      run.errors.some((e) => e.startsWith('::error') && e.includes('file=infra/taskdef/backend.json,line=8') && e.includes('${MEMORY}')),
    ).toBe(true);
    // Reported together with the placeholder, and the unresolved memory is not also reported as an invalid size.
    expect(run.errors.some((e) => e.includes('file=infra/taskdef/backend.json,line=15') && e.includes('hostPort'))).toBe(true);
    expect(run.errors.filter((e) => e.includes('line=8'))).toHaveLength(1);
    expect(existsSync(join(ws, 'out'))).toBe(false);
    expect(readdirSync(run.runnerTemp)).toEqual([]);
    expect(run.outputs).toEqual({});
  });

  it('bad input: several validation problems are all annotated at once', async () => {
    const ws = exampleWorkspace();
    const path = join(ws, 'infra/taskdef/backend.json');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('"memory": "1024"', '"memory": "333"').replace('"hostPort": 8080', '"hostPort": 80'),
    );
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: {
        template: 'infra/taskdef/backend.json',
        'features-dir': 'infra/env/features',
        feature: 'core',
        environment: 'test',
        image: IMAGE,
      },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(1);
    expect(run.errors.filter((e) => e.includes('file=infra/taskdef/backend.json,line=8'))).toHaveLength(1);
    expect(run.errors.filter((e) => e.includes('file=infra/taskdef/backend.json,line=15'))).toHaveLength(1);
    expect(readdirSync(run.runnerTemp)).toEqual([]);
  });
});

describe('render-taskdef bundle with verify: true against the emulator', () => {
  let emu: Emulator;
  let ws: string;
  beforeAll(async () => {
    emu = await startEmulator();
    emu.ssm.putParameter('/delivery/test/DATABASE_URL', 'postgres://secret', 'SecureString');
    emu.ssm.putParameter('/delivery/test/REDIS_URL', 'redis://secret', 'SecureString');
    const stripe = emu.secrets.createSecret('delivery/test/stripe', '{"api_key":"sk_test_secret"}');
    emu.ecr.putImage('delivery/backend', 'abc123');
    emu.logs.createLogGroup('/ecs/delivery-test');
    ws = exampleWorkspace();
    // The emulator gives the secret its own random suffix, as AWS does: use the real ARN.
    const core = join(ws, 'infra/env/features/core.json');
    writeFileSync(
      core,
      readFileSync(core, 'utf8').replace('arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd', stripe),
    );
  });
  afterAll(async () => {
    await emu?.stop();
  });

  const inputs = {
    template: 'infra/taskdef/backend.json',
    'features-dir': 'infra/env/features',
    feature: 'core',
    environment: 'test',
    image: IMAGE,
    verify: 'true',
  };

  it('passes when everything exists, with Describe calls only', async () => {
    emu.resetCounts();
    const run = await runBundle('render-taskdef', { workspace: ws, inputs, env: emu.env() });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/verified 2 SSM parameter\(s\), 1 secret\(s\), 1 image\(s\), 1 log group\(s\): all exist/);
    expect(Object.keys(emu.counts()).sort()).toEqual(
      [
        'CloudWatchLogs.DescribeLogGroups',
        'ECR.DescribeImages',
        'SSM.DescribeParameters',
        'STS.GetCallerIdentity',
        'SecretsManager.DescribeSecret',
      ].sort(),
    );
    expect(run.stdout + run.summary).not.toMatch(/sk_test_secret|postgres:\/\/secret/);
  });

  it('never checks an SSM parameter of another account by name in ours: "not checked: account", a warning', async () => {
    const other = exampleWorkspace();
    const core = join(other, 'infra/env/features/core.json');
    // Same name as a parameter that exists in the emulator's account: looked up by name it would "exist".
    writeFileSync(
      core,
      readFileSync(join(ws, 'infra/env/features/core.json'), 'utf8').replace(
        '"/delivery/${DEPLOY_ENV}/DATABASE_URL"',
        '"arn:aws:ssm:eu-west-1:210987654321:parameter/delivery/${DEPLOY_ENV}/DATABASE_URL"',
      ),
    );
    emu.resetCounts();
    const run = await runBundle('render-taskdef', { workspace: other, inputs, env: emu.env() });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const warning = run.stdout.split('\n').find((l) => l.startsWith('::warning') && l.includes('not checked: account 210987654321'));
    expect(warning).toMatch(
      /file=infra\/env\/features\/core\.json,line=\d+.*secret DATABASE_URL: not checked: account 210987654321 .*this job runs as account 123456789012/,
    );
    expect(run.stdout).toMatch(
      /verified 1 SSM parameter\(s\), 1 secret\(s\), 1 image\(s\), 1 log group\(s\), 1 not checked \(another account\): all exist/,
    );
    expect(run.summary).toMatch(/yes, except 1 in another account/);
    expect(run.summary).toMatch(/\*\*Not checked\*\*[\s\S]*not checked: account 210987654321/);
    // Only our own parameter was looked up.
    expect(emu.counts()['STS.GetCallerIdentity']).toBe(1);
  });

  it('reports every missing resource at once and writes nothing', async () => {
    emu.resetCounts();
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...inputs, feature: 'menu-rewrite', image: IMAGE.replace('abc123', 'not-pushed') },
      env: emu.env(),
    });
    expect(run.code).toBe(1);
    const text = run.errors.join('\n');
    expect(text).toMatch(/file=infra\/env\/features\/menu-rewrite\.json,line=\d+.*menu-cms.* does not exist/);
    expect(text).toMatch(/file=infra\/taskdef\/backend\.json,line=13.*not-pushed is not in ECR/);
    expect(run.errors.filter((e) => e.includes('file=')).length).toBe(2);
    expect(readdirSync(run.runnerTemp)).toEqual([]);
    expect(Object.keys(emu.counts()).some((k) => /Get(Parameter|SecretValue)/.test(k))).toBe(false);
  });
});
