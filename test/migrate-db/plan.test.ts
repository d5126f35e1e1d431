import { describe, expect, it } from 'vitest';
import { clientToken, defaultStartedBy, isSecretOverride, maskedEnvironment } from '../../actions/migrate-db/identity.js';
import { parseCommand } from '../../actions/migrate-db/inputs.js';
import { consoleUrl, logStreamName, pickContainer, planRun } from '../../actions/migrate-db/plan.js';
import { ActionError, formatProblem } from '../../lib/errors.js';
import { CLUSTER, backendService, backendTaskDef, identity, inputsFrom } from './fixtures.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ActionError);
    const e = err as ActionError;
    return (e.problems.length > 0 ? e.problems : [e]).map(formatProblem);
  }
  throw new Error('expected an ActionError');
}

describe('command input', () => {
  it.each([
    ['["npx","prisma","migrate","deploy"]', ['npx', 'prisma', 'migrate', 'deploy']],
    ['bin/rails db:migrate', ['sh', '-c', 'bin/rails db:migrate']],
    ['echo "a b" && exit 3', ['sh', '-c', 'echo "a b" && exit 3']],
  ])('%s runs as %j', (raw, argv) => {
    expect(parseCommand(raw)).toEqual(argv);
  });

  it.each([
    ['["npx", "prisma"', /not valid JSON/],
    ['[]', /non-empty JSON array of strings/],
    ['["rails", 1]', /non-empty JSON array of strings/],
  ])('rejects %s naming the command input', (raw, message) => {
    const [problem] = problemsOf(() => parseCommand(raw));
    expect(problem).toMatch(/^input 'command': /);
    expect(problem).toMatch(message);
  });
});

describe('getInputs', () => {
  it('reports every bad input at once, each by name', () => {
    const problems = problemsOf(() =>
      inputsFrom({
        command: '["a",',
        environment: 'NOT A LINE',
        subnets: 'subnet-0abc, net-1',
        'security-groups': 'default',
        'timeout-minutes': '0',
        'if-running': 'queue',
        'started-by': 'migrate db for the backend service please',
      }),
    );
    const named = problems.map((p) => /input '([a-z-]+)'/.exec(p)?.[1]);
    expect(named).toEqual([
      'cluster',
      'command',
      'environment',
      'subnets',
      'security-groups',
      'timeout-minutes',
      'started-by',
      'if-running',
    ]);
  });

  it('reads defaults: 30 minutes, fail when running, no dry run', () => {
    const inputs = inputsFrom({ cluster: CLUSTER, service: 'backend' });
    expect(inputs).toMatchObject({ timeoutMinutes: 30, pollIntervalSeconds: 2, ifRunning: 'fail', dryRun: false, command: undefined });
  });

  it('allows fractional minutes and seconds (fast tests, short jobs)', () => {
    expect(inputsFrom({ cluster: CLUSTER, 'timeout-minutes': '0.05', 'poll-interval-seconds': '0.2' })).toMatchObject({
      timeoutMinutes: 0.05,
      pollIntervalSeconds: 0.2,
    });
  });
});

describe('planRun', () => {
  const plan = (values: Record<string, string>, opts: { service?: boolean; def?: ReturnType<typeof backendTaskDef> } = {}) =>
    planRun({
      inputs: inputsFrom({ cluster: CLUSTER, ...values }),
      service: opts.service === false ? undefined : backendService(),
      taskDefinition: opts.def ?? backendTaskDef(),
      taskDefinitionRef: (opts.def ?? backendTaskDef()).taskDefinitionArn!,
      identity,
    });

  it("copies the service's network, launch type and platform version and targets the essential container", () => {
    const p = plan({ service: 'backend', command: 'bin/rails db:migrate', environment: 'RAILS_LOG_LEVEL=info' });
    expect(p.container).toBe('backend');
    expect(p.request).toMatchObject({
      cluster: CLUSTER,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      startedBy: 'migrate/backend',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
          securityGroups: ['sg-0a1b2c3d'],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          { name: 'backend', command: ['sh', '-c', 'bin/rails db:migrate'], environment: [{ name: 'RAILS_LOG_LEVEL', value: 'info' }] },
        ],
      },
    });
    expect(p.logs).toEqual({ group: '/ecs/delivery-test', prefix: 'backend', region: 'eu-west-1', container: 'backend' });
  });

  it('input overrides replace only what they name', () => {
    const p = plan({ service: 'backend', 'security-groups': 'sg-0ffff', 'assign-public-ip': 'true' });
    expect(p.request.networkConfiguration?.awsvpcConfiguration).toEqual({
      subnets: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
      securityGroups: ['sg-0ffff'],
      assignPublicIp: 'ENABLED',
    });
  });

  it('uses a capacity provider strategy instead of a launch type when the service has one', () => {
    const p = planRun({
      inputs: inputsFrom({ cluster: CLUSTER, service: 'backend' }),
      service: backendService({ launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }),
      taskDefinition: backendTaskDef(),
      taskDefinitionRef: 'x',
      identity,
    });
    expect(p.request.launchType).toBeUndefined();
    expect(p.request.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
  });

  it.each([
    [
      'an unknown container',
      { container: 'web' },
      true,
      /input 'container': Container 'web' is not in task definition .*backend, otel-collector/,
    ],
    ['no network configuration and no service', {}, false, /input 'subnets': .*no service was given/],
  ])('fails on %s before any AWS call, naming the input', (_name, values, withService, message) => {
    const problems = problemsOf(() => plan(values as Record<string, string>, { service: withService }));
    expect(problems.join('\n')).toMatch(message);
  });

  it('asks which container when several are essential', () => {
    const def = backendTaskDef();
    def.containerDefinitions![1]!.essential = undefined; // ECS treats a missing `essential` as true
    expect(() => pickContainer(def, undefined)).toThrow(/2 essential containers \(backend, otel-collector\)/);
    expect(pickContainer(def, 'otel-collector').name).toBe('otel-collector');
  });

  it('warns when the container has no awslogs configuration', () => {
    const def = backendTaskDef();
    def.containerDefinitions![0]!.logConfiguration = undefined;
    expect(plan({}, { def }).warnings.join()).toMatch(/no awslogs log configuration/);
  });

  it('names the log stream <prefix>/<container>/<task-id> and links the console', () => {
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:task/delivery-test/0123abcd';
    expect(logStreamName({ group: 'g', prefix: 'backend', container: 'backend' }, arn)).toBe('backend/backend/0123abcd');
    expect(consoleUrl('eu-west-1', CLUSTER, arn)).toBe(
      'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/delivery-test/tasks/0123abcd/configuration?region=eu-west-1',
    );
  });
});

describe('identity', () => {
  const what = { cluster: CLUSTER, service: 'backend', container: 'backend', command: ['sh', '-c', 'bin/rails db:migrate'] };

  it('gives a retried step the same client token, and a new attempt, job step or command a new one', () => {
    const token = clientToken(identity, what);
    expect(token).toMatch(/^[\x21-\x7e]{1,64}$/);
    expect(clientToken({ ...identity }, { ...what })).toBe(token);
    expect(clientToken({ ...identity, runAttempt: '2' }, what)).not.toBe(token);
    expect(clientToken({ ...identity, step: 'migrate-again' }, what)).not.toBe(token);
    expect(clientToken(identity, { ...what, command: ['true'] })).not.toBe(token);
  });

  it('keeps startedBy within ECS limits (≤ 36 of letters, digits, - _ /)', () => {
    expect(defaultStartedBy('backend')).toBe('migrate/backend');
    const long = defaultStartedBy('delivery-production-backend-api-with-a-very-long-name');
    expect(long).toMatch(/^[A-Za-z0-9_/-]{1,36}$/);
    expect(long).not.toBe(defaultStartedBy('delivery-production-backend-api-with-a-very-long-other'));
  });

  it.each([
    ['DATABASE_URL', 'postgres://app:s3cret@db:5432/app', true],
    ['STRIPE_API_KEY', 'sk_live_123456', true],
    ['ADMIN_PASSWORD', 'hunter22', true],
    ['CONN', 'mysql://root:pw@db/app', true],
    ['RAILS_LOG_LEVEL', 'info', false],
    ['SEED', 'true', false],
  ])('%s=%s is a secret override: %s', (name, value, secret) => {
    expect(isSecretOverride(name, value)).toBe(secret);
  });

  it('masks secret-looking override values in what it prints', () => {
    expect(
      maskedEnvironment(
        new Map([
          ['DATABASE_URL', 'postgres://a:b@c/d'],
          ['LEVEL', 'info'],
        ]),
      ),
    ).toEqual([
      { name: 'DATABASE_URL', value: '***' },
      { name: 'LEVEL', value: 'info' },
    ]);
  });
});
