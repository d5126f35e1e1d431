import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainerDef, TaskDef } from '../../actions/render-taskdef/taskdef-types.js';
import { READ_ONLY_KEYS } from '../../lib/taskdef.js';
import { baseInputs, editJson, exampleWorkspace, IMAGE, render } from './fixture.js';

const env = (c: ContainerDef) => Object.fromEntries((c.environment ?? []).map((e) => [e.name, e.value]));
const secrets = (c: ContainerDef) => Object.fromEntries((c.secrets ?? []).map((e) => [e.name, e.valueFrom]));
const container = (def: TaskDef, name: string) => def.containerDefinitions.find((c) => c.name === name)!;

async function renderOk(inputs: Record<string, string>, setup?: (root: string) => void) {
  const root = exampleWorkspace();
  setup?.(root);
  const r = await render(root, { ...baseInputs, ...inputs });
  if (!r.result) throw new Error(r.text);
  const file = JSON.parse(readFileSync(r.result.path, 'utf8')) as TaskDef;
  return { ...r.result, file, root, reporter: r.reporter };
}

describe('render-taskdef rendering of the delivery-app example', () => {
  const combos = ['backend', 'admin-frontend'].flatMap((t) =>
    ['core', 'menu-rewrite'].flatMap((f) => ['test', 'prod'].map((e) => ({ t, f, e }))),
  );

  it.each(combos)('$t × $f × $e renders a complete, placeholder-free task definition', async ({ t, f, e }) => {
    const image = IMAGE.replace('delivery/backend', `delivery/${t}`);
    const r = await renderOk({ template: `infra/taskdef/${t}.json`, feature: f, environment: e, image });
    expect(r.family).toBe(`delivery-${e}-${t}`);
    expect(r.path).toMatch(new RegExp(`render-taskdef/delivery-${e}-${t}\\.json$`));
    expect(r.containers).toEqual([t]);
    expect(JSON.stringify(r.file)).not.toContain('${');
    const main = container(r.file, t);
    expect(main.image).toBe(image);
    expect(env(main)).toMatchObject({ FEATURE_KEY: f, DEPLOY_ENV: e, APP_NAME: 'delivery', SENTRY_ENVIRONMENT: e });
    expect(r.file.executionRoleArn).toBe(`arn:aws:iam::123456789012:role/delivery-${e}-ecs-execution`);
    expect((main.logConfiguration as { options: Record<string, string> }).options).toMatchObject({
      'awslogs-group': `/ecs/delivery-${e}`,
      'awslogs-region': 'eu-west-1',
    });
    // Each name once, in environment or secrets, never both.
    const names = [...(main.environment ?? []), ...(main.secrets ?? [])].map((x) => x.name);
    expect(new Set(names).size).toBe(names.length);
    if (t === 'backend') expect(secrets(main).DATABASE_URL).toBe(`/delivery/${e}/DATABASE_URL`);
    else expect(main.secrets).toBeUndefined();
  });

  it('leaves the sidecar exactly as the template has it (placeholders aside)', async () => {
    const r = await renderOk({});
    const template = JSON.parse(readFileSync(join(r.root, 'infra/taskdef/backend.json'), 'utf8')) as TaskDef;
    const expected = JSON.parse(
      JSON.stringify(container(template, 'otel-collector'))
        .replaceAll('${AWS_REGION}', 'eu-west-1')
        .replaceAll('${LOG_GROUP}', '/ecs/delivery-test'),
    );
    expect(container(r.file, 'otel-collector')).toEqual(expected);
  });

  it('config values override template entries in place, keep empty values, and append new names', async () => {
    const r = await renderOk({});
    const backend = container(r.file, 'backend');
    const names = backend.environment!.map((e) => e.name);
    expect(names.slice(0, 3)).toEqual(['PORT', 'LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
    expect(env(backend).LOG_LEVEL).toBe('debug'); // template says warn, defaults info, test debug
    expect(env(backend).MAINTENANCE_BANNER).toBe('');
    expect(names.filter((n) => n === 'LOG_LEVEL')).toHaveLength(1);
  });

  it('environments override defaults: flags with !removal, null removes a variable, byContainer precedence', async () => {
    const prod = await renderOk({ feature: 'menu-rewrite', environment: 'prod' });
    const b = container(prod.file, 'backend');
    expect(env(b).FEATURE_FLAGS).toBe('order-tracking,menu-rewrite');
    expect(env(b)).not.toHaveProperty('MENU_SOURCE');
    expect(env(b).MENU_CACHE_TTL_SECONDS).toBe('300');
    const core = await renderOk({ environment: 'prod' });
    expect(env(container(core.file, 'backend')).FEATURE_FLAGS).toBe('order-tracking');
    expect(env(container(core.file, 'backend')).DB_POOL_SIZE).toBe('40');
    const test = await renderOk({});
    expect(env(container(test.file, 'backend')).FEATURE_FLAGS).toBe('order-tracking,courier-chat,new-checkout');
  });

  it('an environment-level value beats a defaults.byContainer value, and null removes it', async () => {
    const r = await renderOk({}, (root) =>
      editJson(root, 'infra/env/features/core.json', (d) => {
        d.environments.test.environment.DB_POOL_SIZE = '3';
        d.environments.test.secrets = { DATABASE_URL: null };
      }),
    );
    const b = container(r.file, 'backend');
    expect(env(b).DB_POOL_SIZE).toBe('3');
    expect(secrets(b)).not.toHaveProperty('DATABASE_URL');
  });

  it('a config secret replaces a template plain variable of the same name (and vice versa)', async () => {
    const r = await renderOk({}, (root) =>
      editJson(root, 'infra/taskdef/backend.json', (d) => {
        d.containerDefinitions[0].environment = d.containerDefinitions[0].environment.filter(
          (e: { name: string }) => e.name !== 'APP_NAME',
        );
        d.containerDefinitions[0].environment.push({ name: 'DATABASE_URL', value: 'postgres://localhost/dev' });
        d.containerDefinitions[0].secrets = [{ name: 'APP_NAME', valueFrom: '/delivery/test/APP_NAME' }];
      }),
    );
    const b = container(r.file, 'backend');
    expect(env(b)).not.toHaveProperty('DATABASE_URL');
    expect(secrets(b).DATABASE_URL).toBe('/delivery/test/DATABASE_URL');
    expect(secrets(b)).not.toHaveProperty('APP_NAME');
    expect(env(b).APP_NAME).toBe('delivery');
  });

  it('container=uri lines set several containers; a sidecar named in byContainer is touched only as named', async () => {
    const otel = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.44.0';
    const r = await renderOk({ image: `backend=${IMAGE}\notel-collector=${otel}` });
    expect(r.containers).toEqual(['backend', 'otel-collector']);
    expect(container(r.file, 'otel-collector').image).toBe(otel);
    expect(env(container(r.file, 'otel-collector')).FEATURE_KEY).toBe('core');

    const named = await renderOk({}, (root) =>
      editJson(
        root,
        'infra/env/features/core.json',
        (d) => (d.defaults.byContainer['otel-collector'] = { environment: { OTEL_LOG_LEVEL: 'warn' } }),
      ),
    );
    const sidecar = container(named.file, 'otel-collector');
    expect(env(sidecar)).toEqual({ AWS_REGION: 'eu-west-1', OTEL_LOG_LEVEL: 'warn' });
    expect(named.containers).toEqual(['backend']);
  });

  it('vars win over config placeholders and keep everything after the first =', async () => {
    const r = await renderOk({ vars: 'LOG_GROUP=/ecs/a=b\nUNUSED=' });
    expect((container(r.file, 'backend').logConfiguration as { options: Record<string, string> }).options['awslogs-group']).toBe(
      '/ecs/a=b',
    );
  });

  it('accepts aws ecs describe-task-definition output as a template and strips read-only keys', async () => {
    const r = await renderOk({ template: 'infra/described.json' }, (root) => {
      const def = JSON.parse(readFileSync(join(root, 'infra/taskdef/backend.json'), 'utf8'));
      Object.assign(def, {
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/delivery-test-backend:7',
        revision: 7,
        status: 'ACTIVE',
        requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' }],
        compatibilities: ['EC2', 'FARGATE'],
        registeredAt: '2026-11-01T10:00:00Z',
        registeredBy: 'arn:aws:iam::123456789012:role/deployer',
        deregisteredAt: '2026-11-02T10:00:00Z',
      });
      writeFileSync(join(root, 'infra/described.json'), JSON.stringify({ taskDefinition: def, tags: [] }, null, 2));
    });
    for (const k of READ_ONLY_KEYS) expect(r.file).not.toHaveProperty(k);
    expect(r.file.family).toBe('delivery-test-described');
  });

  it('$${NAME} escapes a literal ${NAME} (e.g. in a healthCheck shell command)', async () => {
    const r = await renderOk({}, (root) =>
      editJson(
        root,
        'infra/taskdef/backend.json',
        (d) => (d.containerDefinitions[0].healthCheck.command = ['CMD-SHELL', 'wget -qO- http://localhost:$${PORT}/healthz || exit 1']),
      ),
    );
    expect((container(r.file, 'backend').healthCheck as { command: string[] }).command[1]).toBe(
      'wget -qO- http://localhost:${PORT}/healthz || exit 1',
    );
  });

  it('the config "containers" list picks the target even when several containers are essential', async () => {
    const r = await renderOk({}, (root) => {
      editJson(root, 'infra/taskdef/backend.json', (d) => (d.containerDefinitions[1].essential = true));
      editJson(root, 'infra/env/features/core.json', (d) => (d.containers = ['backend', 'admin-frontend']));
    });
    expect(r.containers).toEqual(['backend']);
    expect(env(container(r.file, 'otel-collector'))).toEqual({ AWS_REGION: 'eu-west-1' });
  });

  it('least privilege: a whole-environment name the template does not declare is withheld (and logged) unless byContainer or "containers" names the container', async () => {
    const addQueueUrl = (d: { defaults: { environment: Record<string, string>; secrets?: Record<string, string> } }) => {
      d.defaults.environment.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders';
      d.defaults.secrets = { SIGNING_KEY: '/delivery/${DEPLOY_ENV}/SIGNING_KEY' };
    };
    const withheld = await renderOk({ template: 'infra/taskdef/admin-frontend.json' }, (root) =>
      editJson(root, 'infra/env/features/core.json', addQueueUrl),
    );
    const frontend = container(withheld.file, 'admin-frontend');
    expect(env(frontend)).not.toHaveProperty('QUEUE_URL');
    expect(frontend.secrets).toBeUndefined();
    expect(withheld.reporter.lines).toContainEqual(
      expect.stringMatching(
        /^warning: container 'admin-frontend' does not get (.*, )?QUEUE_URL, SIGNING_KEY(, .*)? \(set for the whole environment.*Name them under byContainer\.admin-frontend, declare them in the template, or list "admin-frontend" in the config's "containers"/,
      ),
    );

    const listed = await renderOk({ template: 'infra/taskdef/admin-frontend.json' }, (root) =>
      editJson(root, 'infra/env/features/core.json', (d) => {
        addQueueUrl(d);
        d.containers = ['admin-frontend'];
      }),
    );
    expect(env(container(listed.file, 'admin-frontend')).QUEUE_URL).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/orders');
    expect(secrets(container(listed.file, 'admin-frontend'))).toEqual({ SIGNING_KEY: '/delivery/test/SIGNING_KEY' });
  });

  it('an explicit output path is resolved against the workspace', async () => {
    const r = await renderOk({ output: 'build/td.json' });
    expect(r.path).toBe(join(r.root, 'build/td.json'));
  });

  it('"1 vCPU" / "2 GB" forms are accepted for Fargate', async () => {
    const r = await renderOk({}, (root) =>
      editJson(root, 'infra/taskdef/backend.json', (d) => Object.assign(d, { cpu: '1 vCPU', memory: '2 GB' })),
    );
    expect(r.file.cpu).toBe('1 vCPU');
  });

  it('the step summary shows family, images, cpu/memory, names and secret sources but no value', async () => {
    const r = await renderOk({});
    expect(r.summary).toContain('`delivery-test-backend`');
    expect(r.summary).toContain(IMAGE);
    expect(r.summary).toContain('512 / 1024');
    expect(r.summary).toMatch(/`STRIPE_API_KEY` \| secret: Secrets Manager delivery\/test\/stripe \(json key api_key\)/);
    expect(r.summary).toMatch(/`DATABASE_URL` \| secret: SSM \/delivery\/test\/DATABASE_URL \| infra\/env\/features\/core\.json:\d+/);
    expect(r.summary).toContain('`LOG_LEVEL`');
    expect(r.summary).not.toContain('debug');
    expect(r.summary).not.toContain('https://api.test');
    expect(r.summary).toMatch(/`otel-collector` \| .* \| untouched/);
  });
});
