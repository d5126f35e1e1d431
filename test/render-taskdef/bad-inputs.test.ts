import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseInputs, editJson, exampleWorkspace, render } from './fixture.js';

const BACKEND = 'infra/taskdef/backend.json';
const CORE = 'infra/env/features/core.json';

interface BadCase {
  name: string;
  setup?: (root: string) => void;
  inputs?: Record<string, string | undefined>;
  env?: NodeJS.ProcessEnv;
  /** Every pattern must appear in the reported problems (file/line/field and the point of the message). */
  expect: RegExp[];
  /** At least this many problems reported at once. */
  problems?: number;
}

const replaceText = (root: string, file: string, from: string | RegExp, to: string) => {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`fixture edit found nothing to replace in ${file}`);
  writeFileSync(path, next);
};

const cases: BadCase[] = [
  {
    name: 'template file missing',
    inputs: { template: 'infra/taskdef/nope.json' },
    expect: [/input 'template'/, /infra\/taskdef\/nope\.json' does not exist/],
  },
  {
    name: 'template JSON syntax error (trailing comma) with line and column',
    setup: (r) => replaceText(r, BACKEND, '"memory": "1024",', '"memory": "1024",,'),
    expect: [/infra\/taskdef\/backend\.json:8:20: Invalid JSON/, /line 8, column 20/],
  },
  {
    name: 'feature config JSON syntax error is reported with the template error at once',
    setup: (r) => {
      replaceText(r, CORE, '"feature": "core",', '"feature": "core"');
      replaceText(r, BACKEND, '"cpu": "512",', '"cpu": 512 512,');
    },
    expect: [
      /infra\/env\/features\/core\.json:4:3: Invalid JSON: expected ',' or '}' after the value of "feature"/,
      /backend\.json:7:14: Invalid JSON: expected ',' or '}' after the value of "cpu"/,
    ],
    problems: 2,
  },
  {
    name: 'unknown environment lists the known ones',
    inputs: { environment: 'staging' },
    expect: [/infra\/env\/features\/core\.json:\d+ environments: Unknown environment 'staging'/, /prod, test/],
  },
  {
    name: 'unknown feature lists the known ones',
    inputs: { feature: 'checkout' },
    expect: [/input 'feature'/, /Unknown feature 'checkout'/, /core, menu-rewrite/],
  },
  {
    name: 'every unresolved placeholder at once with file:line',
    setup: (r) => {
      replaceText(r, BACKEND, '"value": "http://localhost:4317"', '"value": "${OTEL_ENDPOINT}"');
      replaceText(r, BACKEND, 'aws-otel-collector:v0.43.1', 'aws-otel-collector:${OTEL_VERSION}');
    },
    expect: [
      /backend\.json:19 containerDefinitions\[0\]\.environment\[2\]\.value: unresolved placeholder \$\{OTEL_ENDPOINT\}/,
      /backend\.json:43 containerDefinitions\[1\]\.image: unresolved placeholder \$\{OTEL_VERSION\}/,
    ],
    problems: 2,
  },
  {
    name: 'missing image input leaves ${IMAGE_URI} unresolved',
    inputs: { image: '' },
    expect: [/backend\.json:13 containerDefinitions\[0\]\.image: unresolved placeholder \$\{IMAGE_URI\}\. Fix: Set the image input/],
  },
  {
    name: 'no region anywhere leaves ${AWS_REGION} unresolved',
    inputs: {},
    env: { AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    expect: [/backend\.json:36 .*unresolved placeholder \$\{AWS_REGION\}\. Fix: Set the aws-region input/, /backend\.json:51 /],
    problems: 3,
  },
  {
    name: 'invalid Fargate cpu/memory pair',
    setup: (r) => replaceText(r, BACKEND, '"memory": "1024"', '"memory": "512"'),
    expect: [/backend\.json:8 memory: memory "512" does not go with cpu 512 on Fargate/, /1024, 2048, 3072, 4096/],
  },
  {
    name: 'Fargate without awsvpc',
    setup: (r) => replaceText(r, BACKEND, '"networkMode": "awsvpc"', '"networkMode": "bridge"'),
    expect: [/backend\.json:5 networkMode: Fargate requires networkMode "awsvpc"/],
  },
  {
    name: 'duplicate container names',
    setup: (r) => replaceText(r, BACKEND, '"name": "otel-collector"', '"name": "backend"'),
    expect: [/backend\.json:42 containerDefinitions\[1\]\.name: duplicate container name 'backend'/],
  },
  {
    name: 'no essential container',
    setup: (r) => editJson(r, BACKEND, (d) => (d.containerDefinitions[0].essential = false)),
    inputs: { image: `backend=${baseInputs.image}` },
    expect: [/backend\.json:\d+ containerDefinitions: no container is essential/],
  },
  {
    name: 'awsvpc hostPort differs from containerPort',
    setup: (r) => replaceText(r, BACKEND, '"hostPort": 8080', '"hostPort": 80'),
    expect: [
      /backend\.json:15 containerDefinitions\[0\]\.portMappings\[0\]\.hostPort: .*hostPort \(80\) must equal containerPort \(8080\)/,
    ],
  },
  {
    name: 'awslogs without group',
    setup: (r) => editJson(r, BACKEND, (d) => delete d.containerDefinitions[1].logConfiguration.options['awslogs-group']),
    expect: [
      /backend\.json:\d+ containerDefinitions\[1\]\.logConfiguration\.options: container 'otel-collector': awslogs needs awslogs-group/,
    ],
  },
  {
    name: 'malformed Secrets Manager ARN in the config',
    setup: (r) =>
      replaceText(
        r,
        CORE,
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd:api_key::',
        'arn:aws:secretsmanager:eu-west-1:1234:secret:delivery/test/stripe',
      ),
    expect: [
      /core\.json:\d+ environments\.test\.byContainer\.backend\.secrets\.STRIPE_API_KEY: container 'backend': secret STRIPE_API_KEY: .*not an SSM parameter ARN .* or a Secrets Manager ARN/,
    ],
  },
  {
    name: 'Secrets Manager json-key suffix with the wrong number of fields',
    setup: (r) => replaceText(r, CORE, 'stripe-Ab12Cd:api_key::', 'stripe-Ab12Cd:api_key'),
    expect: [
      /core\.json:\d+ environments\.test\.byContainer\.backend\.secrets\.STRIPE_API_KEY: .*exactly three \(json-key:version-stage:version-id/,
    ],
  },
  {
    name: 'SSM parameter name with a space',
    setup: (r) => replaceText(r, CORE, '"/delivery/${DEPLOY_ENV}/DATABASE_URL"', '"/delivery/${DEPLOY_ENV}/DATABASE URL"'),
    expect: [/core\.json:\d+ defaults\.byContainer\.backend\.secrets\.DATABASE_URL/],
  },
  {
    name: 'AWS access key ID as a plain variable in the config (by value, whatever the name)',
    setup: (r) => editJson(r, CORE, (d) => (d.environments.test.byContainer.backend.environment = { S3_UPLOADER: 'AKIAIOSFODNN7EXAMPLE' })),
    expect: [
      /core\.json:\d+ environments\.test\.byContainer\.backend\.environment\.S3_UPLOADER: container 'backend': S3_UPLOADER holds an AWS access key ID/,
      /SSM Parameter Store/,
    ],
  },
  {
    name: 'URL with a password as a plain variable in the template (even an untouched sidecar)',
    setup: (r) =>
      editJson(r, BACKEND, (d) =>
        d.containerDefinitions[1].environment.push({ name: 'EXPORT_DSN', value: 'postgres://otel:hunter2@db.internal:5432/metrics' }),
      ),
    expect: [
      /backend\.json:\d+ containerDefinitions\[1\]\.environment\[1\]: container 'otel-collector': EXPORT_DSN holds a URL with a password/,
    ],
  },
  {
    name: 'private key block as a plain variable',
    setup: (r) =>
      editJson(r, BACKEND, (d) =>
        d.containerDefinitions[0].environment.push({
          name: 'SIGNING',
          value: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n-----END RSA PRIVATE KEY-----',
        }),
      ),
    expect: [/backend\.json:\d+ containerDefinitions\[0\]\.environment\[6\]: container 'backend': SIGNING holds a private key block/],
  },
  {
    name: 'long random string (API key) as a plain variable',
    setup: (r) =>
      editJson(r, CORE, (d) => (d.defaults.byContainer.backend.environment.PAYMENTS = 'sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123')),
    expect: [/core\.json:\d+ defaults\.byContainer\.backend\.environment\.PAYMENTS: .*PAYMENTS holds a long random string/],
  },
  {
    name: 'a secret value is never echoed in the error',
    setup: (r) => editJson(r, CORE, (d) => (d.environments.test.environment.LOG_LEVEL = 'AKIAIOSFODNN7EXAMPLE')),
    expect: [/LOG_LEVEL holds an AWS access key ID/, /^(?![\s\S]*AKIAIOSFODNN7EXAMPLE)/],
  },
  {
    name: 'container memory above the task memory, on the container memory line',
    setup: (r) => replaceText(r, BACKEND, '"essential": true,', '"essential": true,\n      "memory": 2048,'),
    expect: [
      /backend\.json:15 containerDefinitions\[0\]\.memory: container 'backend': memory 2048 MiB is above the task's memory 1024 MiB/,
    ],
  },
  {
    name: 'containers together reserve more memory than the task',
    setup: (r) =>
      editJson(r, BACKEND, (d) => {
        d.containerDefinitions[0].memoryReservation = 768;
        d.containerDefinitions[1].memoryReservation = 512;
      }),
    expect: [/backend\.json:\d+ memory: the containers together reserve 1280 MiB, more than the task's memory 1024 MiB/],
  },
  {
    name: 'container cpu above the task cpu',
    setup: (r) => editJson(r, BACKEND, (d) => (d.containerDefinitions[1].cpu = 1024)),
    expect: [
      /backend\.json:\d+ containerDefinitions\[1\]\.cpu: container 'otel-collector': cpu 1024 cpu units is above the task's cpu 512/,
    ],
  },
  {
    name: 'duplicate variable name in the template (ECS keeps one silently)',
    setup: (r) =>
      replaceText(
        r,
        BACKEND,
        '{ "name": "LOG_LEVEL", "value": "warn" },',
        '{ "name": "LOG_LEVEL", "value": "warn" },\n        { "name": "PORT", "value": "9090" },',
      ),
    expect: [
      /backend\.json:19 containerDefinitions\[0\]\.environment\[2\]: container 'backend': PORT is declared twice \(also environment\[0\]\)/,
    ],
  },
  {
    name: 'same name as template variable and template secret',
    setup: (r) =>
      editJson(r, BACKEND, (d) => (d.containerDefinitions[1].secrets = [{ name: 'AWS_REGION', valueFrom: '/delivery/test/AWS_REGION' }])),
    expect: [
      /backend\.json:\d+ containerDefinitions\[1\]\.secrets\[0\]: container 'otel-collector': AWS_REGION is declared twice \(also environment\[0\]\)/,
      /in environment or in secrets/,
    ],
  },
  {
    name: 'image without a tag',
    setup: (r) => replaceText(r, BACKEND, 'aws-otel-collector:v0.43.1', 'aws-otel-collector'),
    expect: [
      /backend\.json:43 containerDefinitions\[1\]\.image: container 'otel-collector': image public\.ecr\.aws\/aws-observability\/aws-otel-collector has no tag/,
      /Pin a tag or a digest/,
    ],
  },
  {
    name: 'image with an empty tag',
    inputs: { image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:' },
    expect: [/backend\.json:13 containerDefinitions\[0\]\.image: container 'backend': image .*delivery\/backend: has an empty tag/],
  },
  {
    name: 'Latin-1 template: not UTF-8, with line and column',
    setup: (r) =>
      writeFileSync(
        join(r, BACKEND),
        Buffer.from(readFileSync(join(r, BACKEND), 'utf8').replace('"value": "warn"', '"value": "caf\u00e9"'), 'latin1'),
      ),
    expect: [
      /backend\.json:18:\d+: infra\/taskdef\/backend\.json is not UTF-8: byte 0xE9 at line 18/,
      /Latin-1/,
      /iconv -f LATIN1 -t UTF-8/,
    ],
  },
  {
    name: 'UTF-16 feature config with a byte-order mark',
    setup: (r) =>
      writeFileSync(join(r, CORE), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readFileSync(join(r, CORE), 'utf8'), 'utf16le')])),
    expect: [
      /core\.json:1: infra\/env\/features\/core\.json is UTF-16 LE \(it starts with a UTF-16 byte-order mark\), not UTF-8/,
      /Out-File -Encoding utf8/,
    ],
  },
  {
    name: 'UTF-16 template without a byte-order mark',
    setup: (r) => writeFileSync(join(r, BACKEND), Buffer.from(readFileSync(join(r, BACKEND), 'utf8'), 'utf16le')),
    expect: [/backend\.json:1: .*UTF-16 LE without a byte-order mark/],
  },
  {
    name: 'invalid Fargate cpu is annotated on the cpu line, not the memory line',
    setup: (r) => replaceText(r, BACKEND, '"cpu": "512"', '"cpu": "384"'),
    expect: [/backend\.json:7 cpu: cpu "384" is not a Fargate size/],
  },
  {
    name: "typo'd placeholder gets a did-you-mean",
    setup: (r) =>
      replaceText(
        r,
        BACKEND,
        '"awslogs-group": "${LOG_GROUP}",\n          "awslogs-region": "${AWS_REGION}",\n          "awslogs-stream-prefix": "backend"',
        '"awslogs-group": "${LOG_GRUOP}",\n          "awslogs-region": "${AWS_REGION}",\n          "awslogs-stream-prefix": "backend"',
      ),
    expect: [/backend\.json:35 .*unresolved placeholder \$\{LOG_GRUOP\}\. Fix: Did you mean \$\{LOG_GROUP\}\?/],
  },
  {
    name: 'ssm map holding a Secrets Manager ARN',
    setup: (r) =>
      editJson(
        r,
        CORE,
        (d) => (d.environments.test.ssm = { DATABASE_URL: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/db-Ab12Cd' }),
      ),
    expect: [
      /core\.json:\d+ environments\.test\.ssm\.DATABASE_URL: DATABASE_URL is under ssm but .* is not an SSM parameter .*Move DATABASE_URL to secretsManager/,
    ],
  },
  {
    name: 'secretsManager map holding an SSM parameter name',
    setup: (r) => editJson(r, CORE, (d) => (d.environments.test.secretsManager = { DATABASE_URL: '/delivery/test/DATABASE_URL' })),
    expect: [
      /core\.json:\d+ environments\.test\.secretsManager\.DATABASE_URL: DATABASE_URL is under secretsManager but .* is not a Secrets Manager ARN/,
      /full ARN/,
    ],
  },
  {
    name: 'same name in ssm and secrets of one layer',
    setup: (r) => editJson(r, CORE, (d) => (d.defaults.byContainer.backend.ssm = { DATABASE_URL: '/delivery/x' })),
    expect: [/core\.json:\d+ defaults\.byContainer\.backend\.ssm\.DATABASE_URL: 'DATABASE_URL' is set in both secrets and ssm/],
  },
  {
    name: 'feature and featureKey disagree',
    setup: (r) => editJson(r, CORE, (d) => (d.featureKey = 'kore')),
    expect: [/core\.json:\d+ featureKey: feature is 'core' but featureKey is 'kore'/],
  },
  {
    name: 'a shell default ${NAME:-value}: the fix names the valid placeholder first',
    setup: (r) =>
      replaceText(
        r,
        BACKEND,
        '"executionRoleArn": "${EXEC_ROLE_ARN}"',
        '"executionRoleArn": "${EXEC_ROLE_ARN:-arn:aws:iam::123456789012:role/x}"',
      ),
    expect: [
      /backend\.json:4 executionRoleArn: unresolved placeholder \$\{EXEC_ROLE_ARN:-arn:aws:iam::123456789012:role\/x\}\. Fix: Placeholders take no shell default: write \$\{EXEC_ROLE_ARN\} and give EXEC_ROLE_ARN a value \(vars input EXEC_ROLE_ARN=arn:aws:iam::123456789012:role\/x/,
    ],
  },
  {
    name: '${tf:NAME} with no terraform-outputs, with a did-you-mean on a typo',
    setup: (r) => replaceText(r, BACKEND, '"executionRoleArn": "${EXEC_ROLE_ARN}"', '"executionRoleArn": "${tf:exec_role_arn}"'),
    expect: [/backend\.json:4 executionRoleArn: unresolved placeholder \$\{tf:exec_role_arn\}\. Fix: Pass terraform-outputs/],
  },
  {
    name: '${tf:NAME} of a list output, and an unknown one listing the known outputs',
    setup: (r) => {
      replaceText(r, BACKEND, '"executionRoleArn": "${EXEC_ROLE_ARN}"', '"executionRoleArn": "${tf:subnets}"');
      replaceText(r, BACKEND, '"taskRoleArn": "${TASK_ROLE_ARN}"', '"taskRoleArn": "${tf:task_rol_arn}"');
    },
    inputs: {
      'terraform-outputs': JSON.stringify({
        subnets: { sensitive: false, type: ['list', 'string'], value: ['subnet-1'] },
        task_role_arn: { sensitive: false, type: 'string', value: 'arn:aws:iam::123456789012:role/x' },
      }),
    },
    expect: [
      /backend\.json:4 executionRoleArn: .*Terraform output subnets is a list/,
      /backend\.json:3 taskRoleArn: .*Did you mean \$\{tf:task_role_arn\}\?/,
    ],
    problems: 2,
  },
  {
    name: 'a sensitive Terraform output in a plain variable',
    setup: (r) => editJson(r, BACKEND, (d) => d.containerDefinitions[0].environment.push({ name: 'DB_PASS', value: '${tf:db_password}' })),
    inputs: {
      'terraform-outputs': JSON.stringify({ db_password: { sensitive: true, type: 'string', value: 'correct horse battery staple' } }),
    },
    expect: [
      /backend\.json:\d+ containerDefinitions\[0\]\.environment\[6\]: container 'backend': DB_PASS holds a sensitive Terraform output/,
      /^(?![\s\S]*correct horse)/,
    ],
  },
  {
    name: 'terraform-outputs that is not terraform output -json',
    inputs: { 'terraform-outputs': '{"log_group": "/ecs/x"}' },
    expect: [/input 'terraform-outputs'/, /terraform output 'log_group' has no "value"/],
  },
  {
    name: 'terraform-outputs file missing',
    inputs: { 'terraform-outputs': 'tf.json' },
    expect: [/input 'terraform-outputs'/, /'tf\.json' does not exist/],
  },
  {
    name: 'allow-plain-names with something that is not a name',
    inputs: { 'allow-plain-names': 'TOKEN_ISS, TOKEN AUD' },
    expect: [/input 'allow-plain-names'/, /'TOKEN AUD'/],
  },
  {
    name: 'unresolved ${...} inside a vars value',
    inputs: { vars: 'LOG_GROUP=${tf:log_group}' },
    expect: [/input 'vars'/, /unresolved \$\{tf:log_group\} in LOG_GROUP of input 'vars'/],
  },
  {
    name: 'unknown field (typo) in the feature config',
    setup: (r) => editJson(r, CORE, (d) => (d.environments.prod.enviroment = { A: '1' })),
    expect: [
      /core\.json:\d+ environments\.prod\.enviroment: unknown field\(s\) 'enviroment'\. Fix: Did you mean 'environment' for 'enviroment'\?/,
    ],
  },
  {
    name: 'team-shape typo (secretManager) gets a did-you-mean',
    setup: (r) =>
      editJson(
        r,
        CORE,
        (d) => (d.environments.test.secretManager = { A: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-Ab12Cd' }),
      ),
    expect: [
      /core\.json:\d+ environments\.test\.secretManager: unknown field\(s\) 'secretManager'\. Fix: Did you mean 'secretsManager'/,
      /Adopting an existing app/,
    ],
  },
  {
    name: 'flags is not a list',
    setup: (r) => editJson(r, CORE, (d) => (d.defaults.flags = 'order-tracking')),
    expect: [/core\.json:\d+ defaults\.flags: .*expected array/i],
  },
  {
    name: 'invalid variable name',
    setup: (r) => editJson(r, CORE, (d) => (d.defaults.environment['bad-name'] = 'x')),
    expect: [/core\.json:\d+ defaults\.environment\.bad-name/],
  },
  {
    name: 'feature key differs from the file name',
    setup: (r) => editJson(r, CORE, (d) => (d.feature = 'kore')),
    expect: [/core\.json:3 feature: The config's feature key is 'kore', not 'core'/],
  },
  {
    name: 'same name as variable and secret in one layer',
    setup: (r) => editJson(r, CORE, (d) => (d.environments.test.byContainer.backend.environment = { REDIS_URL: 'redis://localhost' })),
    expect: [
      /core\.json:\d+ environments\.test\.byContainer\.backend\.secrets\.REDIS_URL: 'REDIS_URL' is set both as a plain variable and as a secret/,
    ],
  },
  {
    name: 'unresolved placeholder inside a config value',
    setup: (r) => editJson(r, CORE, (d) => (d.defaults.placeholders.LOG_GROUP = '/ecs/${TEAM}-${DEPLOY_ENV}')),
    expect: [/core\.json:\d+ defaults\.placeholders\.LOG_GROUP: unresolved \$\{TEAM\} in placeholder LOG_GROUP/],
  },
  {
    name: 'image names a container the template lacks',
    inputs: { image: `api=${baseInputs.image}` },
    expect: [/input 'image'|image names container 'api'/, /backend, otel-collector/],
  },
  {
    name: 'single image but two essential containers',
    setup: (r) => editJson(r, BACKEND, (d) => (d.containerDefinitions[1].essential = true)),
    expect: [/input 'image'|image is a single URI but 2 containers/, /container=uri/],
  },
  {
    name: 'vars line without =',
    inputs: { vars: 'RELEASE=1\nNOEQUALS' },
    expect: [/input 'vars'/, /line 2 of input 'vars' is 'NOEQUALS'/],
  },
  { name: 'feature-config and features-dir both set', inputs: { 'feature-config': CORE }, expect: [/input 'feature-config'/, /both set/] },
  { name: 'features-dir without feature', inputs: { feature: undefined }, expect: [/input 'feature'/] },
  { name: 'no environment', inputs: { environment: undefined }, expect: [/input 'environment'/] },
  { name: 'invalid aws-region', inputs: { 'aws-region': 'Europe' }, expect: [/input 'aws-region'/, /'Europe' is not an AWS region/] },
  {
    name: 'template secrets entry without valueFrom',
    setup: (r) => editJson(r, BACKEND, (d) => (d.containerDefinitions[1].secrets = [{ name: 'DD_API_KEY' }])),
    expect: [
      /backend\.json:\d+ containerDefinitions\[1\]\.secrets\[0\]: container 'otel-collector': secrets entry 1 needs name and valueFrom/,
    ],
  },
  {
    name: 'template is not an object',
    setup: (r) => writeFileSync(join(r, BACKEND), '[1, 2]\n'),
    expect: [/backend\.json:1: The template must be a JSON object/],
  },
  {
    name: 'empty feature config file',
    setup: (r) => writeFileSync(join(r, CORE), '\n'),
    expect: [/core\.json:1:1: Invalid JSON: the file is empty/],
  },
];

/** Point 4's pure API-shape cases: checkShape (lib/ecs-shapes.ts, shared with deploy-ecs and migrate-db). */
const shapeCases: BadCase[] = [
  {
    name: 'essential as a string',
    setup: (r) => replaceText(r, BACKEND, '"essential": true', '"essential": "true"'),
    expect: [/backend\.json:14 containerDefinitions\[0\]\.essential/],
  },
  {
    name: 'containerPort as a string',
    setup: (r) => replaceText(r, BACKEND, '"containerPort": 8080, "hostPort": 8080', '"containerPort": "8080"'),
    expect: [/backend\.json:15 containerDefinitions\[0\]\.portMappings\[0\]\.containerPort/],
  },
  {
    name: 'typo inside a container (portMapping)',
    setup: (r) => replaceText(r, BACKEND, '"portMappings"', '"portMapping"'),
    expect: [/backend\.json:15 containerDefinitions\[0\]\.portMapping: .*portMappings/],
  },
];

function runCase(c: BadCase) {
  return async () => {
    const root = exampleWorkspace();
    c.setup?.(root);
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...baseInputs, output: 'out/taskdef.json', ...c.inputs })) if (v !== undefined) inputs[k] = v;
    const r = await render(root, inputs, { env: c.env });
    expect(r.result, 'should have failed').toBeUndefined();
    for (const pattern of c.expect) expect(r.text).toMatch(pattern);
    if (c.problems) expect(r.text.split('\n').length).toBeGreaterThanOrEqual(c.problems);
    // No output file, neither the explicit one nor the default under RUNNER_TEMP.
    expect(existsSync(join(root, 'out'))).toBe(false);
    expect(readdirSync(r.runnerTemp)).toEqual([]);
  };
}

describe("render-taskdef rejects API-shape mistakes with the key's file:line", () => {
  it.each(shapeCases)('$name', (c) => runCase(c)());
});

describe('render-taskdef rejects bad input with a clear, located error and writes nothing', () => {
  it('has at least 50 distinct cases', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases)('$name', (c) => runCase(c)());
});
