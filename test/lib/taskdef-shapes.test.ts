import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ECS_SHAPES_SDK, suggest, validateTaskDefinitionShape, type ShapeProblem } from '../../lib/ecs-shapes.js';
import { ActionError } from '../../lib/errors.js';
import { parseTaskDefinition } from '../../lib/taskdef.js';

const repoRoot = join(import.meta.dirname, '..', '..');

/** A realistic Fargate definition, as the delivery app's backend template renders. */
function valid() {
  return {
    family: 'delivery-backend',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '1024',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
    runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
    containerDefinitions: [
      {
        name: 'backend',
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc',
        essential: true,
        portMappings: [{ containerPort: 3000, protocol: 'tcp', name: 'http', appProtocol: 'http' }],
        environment: [{ name: 'PORT', value: '3000' }],
        secrets: [{ name: 'DATABASE_URL', valueFrom: '/delivery/test/DATABASE_URL' }],
        healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:3000/health || exit 1'], interval: 15 },
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/delivery', 'awslogs-region': 'eu-west-1' } },
        dockerLabels: { team: 'core' },
        ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
        linuxParameters: { initProcessEnabled: true },
        dependsOn: [{ containerName: 'log-router', condition: 'START' }],
      },
    ],
    tags: [{ key: 'team', value: 'core' }],
  };
}

function withContainer(patch: Record<string, unknown>) {
  const d = valid();
  Object.assign(d.containerDefinitions[0]!, patch);
  return d;
}

const only = (problems: ShapeProblem[]) => {
  expect(problems).toHaveLength(1);
  return problems[0]!;
};

describe('generated ECS shapes', () => {
  it('equal what the generator produces from the installed SDK (run npm run gen:ecs-shapes)', () => {
    const generated = execFileSync(process.execPath, [join(repoRoot, 'scripts/gen-ecs-shapes.mjs'), '--stdout'], { encoding: 'utf8' });
    const committed = readFileSync(join(repoRoot, 'lib/generated/ecs-register-task-definition.json'), 'utf8');
    expect(committed).toBe(generated);
  });

  it('record the SDK version they came from, which is the installed one', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'node_modules/@aws-sdk/client-ecs/package.json'), 'utf8'));
    expect(ECS_SHAPES_SDK).toEqual({ package: '@aws-sdk/client-ecs', version: pkg.version });
  });
});

describe('validateTaskDefinitionShape', () => {
  it('accepts a realistic definition, and a describe output with its read-only keys', () => {
    expect(validateTaskDefinitionShape(valid())).toEqual([]);
    expect(
      validateTaskDefinitionShape({
        ...valid(),
        revision: 3,
        status: 'ACTIVE',
        compatibilities: ['EC2', 'FARGATE'],
        registeredAt: '2026-01-01T00:00:00Z',
      }),
    ).toEqual([]);
  });

  it('accepts task cpu/memory as numbers (converted by the suite) and null as absent', () => {
    expect(validateTaskDefinitionShape({ ...valid(), cpu: 256, memory: 1024, taskRoleArn: null })).toEqual([]);
  });

  it.each([
    ['portMapping', 'portMappings'],
    ['memoryReservaton', 'memoryReservation'],
    ['healthcheck', 'healthCheck'],
    ['Environment', 'environment'],
    ['logconfiguration', 'logConfiguration'],
  ])('names the path of an unknown container key %s and suggests %s', (typo, meant) => {
    const p = only(validateTaskDefinitionShape(withContainer({ [typo]: 1 })));
    expect(p).toMatchObject({
      kind: 'unknown-key',
      path: ['containerDefinitions', 0, typo],
      displayPath: `containerDefinitions[0].${typo}`,
      didYouMean: meant,
    });
    expect(p.fix).toBe(`Did you mean '${meant}'?`);
    expect(p.message).toContain('ContainerDefinition has no such field');
  });

  it('finds typos at any depth, all at once, in document order', () => {
    const d = valid() as Record<string, unknown>;
    const c = (d.containerDefinitions as Record<string, unknown>[])[0]!;
    c.portMappings = [{ containerPort: 3000 }, { containerPort: 3001, hostport: 3001 }];
    c.logConfiguration = { logDriver: 'awslogs', option: { a: 'b' } };
    c.healthCheck = { command: ['CMD', 'true'], intervall: 10 };
    d.runtimePlatform = { cpuArchitecture: 'ARM64', operatingSystem: 'LINUX' };
    const problems = validateTaskDefinitionShape(d);
    expect(problems.map((p) => [p.displayPath, p.didYouMean])).toEqual([
      ['runtimePlatform.operatingSystem', 'operatingSystemFamily'],
      ['containerDefinitions[0].portMappings[1].hostport', 'hostPort'],
      ['containerDefinitions[0].healthCheck.intervall', 'interval'],
      ['containerDefinitions[0].logConfiguration.option', 'options'],
    ]);
  });

  it('says where a key belongs when it is on the wrong level', () => {
    const p = only(validateTaskDefinitionShape(withContainer({ containerPort: 3000 })));
    expect(p.fix).toBe("'containerPort' belongs inside 'portMappings[]'.");
  });

  it('has no suggestion for a key unlike any field, and points at the API reference', () => {
    const p = only(validateTaskDefinitionShape(withContainer({ replicas: 3 })));
    expect(p.didYouMean).toBeUndefined();
    expect(p.fix).toContain('https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html');
  });

  it.each([
    [
      'essential: "true"',
      { essential: 'true' },
      'containerDefinitions[0].essential',
      /is the string "true"; expected a boolean \(true or false\)/,
      'Write true without quotes.',
    ],
    [
      'containerPort: "8080"',
      { portMappings: [{ containerPort: '8080' }] },
      'containerDefinitions[0].portMappings[0].containerPort',
      /is the string "8080"; expected a number/,
      'Write 8080 without quotes.',
    ],
    [
      'an env value as a number',
      { environment: [{ name: 'PORT', value: 3000 }] },
      'containerDefinitions[0].environment[0].value',
      /is the number 3000; expected a string/,
      'Quote it: "3000".',
    ],
    [
      'portMappings as one object',
      { portMappings: { containerPort: 80 } },
      'containerDefinitions[0].portMappings',
      /is an object; expected a list/,
      'Wrap the object in a list: "portMappings": [ {...} ].',
    ],
    [
      'healthCheck as a list',
      { healthCheck: [{ command: ['CMD', 'true'] }] },
      'containerDefinitions[0].healthCheck',
      /is a list; expected an object/,
      'Remove the surrounding [ ]: this field takes one object.',
    ],
    [
      'dockerLabels values as numbers',
      { dockerLabels: { version: 2 } },
      'containerDefinitions[0].dockerLabels.version',
      /expected a string/,
      'Quote it: "2".',
    ],
  ])('reports a type error: %s', (_label, patch, displayPath, message, fix) => {
    const p = only(validateTaskDefinitionShape(withContainer(patch)));
    expect(p).toMatchObject({ kind: 'type', displayPath, fix });
    expect(p.message).toMatch(message);
  });

  it('lists the allowed values of an enum and suggests the right case', () => {
    const p = only(validateTaskDefinitionShape(withContainer({ portMappings: [{ containerPort: 80, protocol: 'TCP' }] })));
    expect(p).toMatchObject({
      kind: 'enum',
      displayPath: 'containerDefinitions[0].portMappings[0].protocol',
      didYouMean: 'tcp',
      fix: 'Use "tcp".',
    });
    expect(p.message).toContain('allowed values: tcp, udp');
    const nm = only(validateTaskDefinitionShape({ ...valid(), networkMode: 'vpc' }));
    expect(nm.message).toContain('allowed values: awsvpc, bridge, host, none');
    const rc = only(validateTaskDefinitionShape({ ...valid(), requiresCompatibilities: ['FARGATE', 'LAMBDA'] }));
    expect(rc.displayPath).toBe('requiresCompatibilities[1]');
  });

  it('reports members the API model requires', () => {
    const p = only(validateTaskDefinitionShape(withContainer({ healthCheck: { interval: 10 } })));
    expect(p).toMatchObject({ kind: 'required', displayPath: 'containerDefinitions[0].healthCheck.command' });
    expect(validateTaskDefinitionShape({ containerDefinitions: [] }).map((x) => x.displayPath)).toEqual(['family']);
  });

  it('quotes map keys that are not identifiers in the display path', () => {
    const p = only(
      validateTaskDefinitionShape(withContainer({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 5 } } })),
    );
    expect(p.displayPath).toBe('containerDefinitions[0].logConfiguration.options.awslogs-group');
    expect(p.path).toEqual(['containerDefinitions', 0, 'logConfiguration', 'options', 'awslogs-group']);
  });
});

describe('suggest', () => {
  it('prefers a case-insensitive match, then a close spelling, and stays quiet otherwise', () => {
    expect(suggest('HEALTHCHECK', ['healthCheck', 'hostname'])).toBe('healthCheck');
    expect(suggest('imgae', ['image', 'name'])).toBe('image');
    expect(suggest('operatingSystem', ['operatingSystemFamily', 'cpuArchitecture'])).toBe('operatingSystemFamily');
    expect(suggest('cmd', ['command', 'cpu'])).toBeUndefined();
    expect(suggest('zzzzzzzz', ['command', 'cpu'])).toBeUndefined();
  });
});

describe('parseTaskDefinition uses the model', () => {
  it('rejects a typo inside a container with its path and the fix, all problems in one error', () => {
    let err: ActionError | undefined;
    try {
      parseTaskDefinition(withContainer({ portMapping: [{ containerPort: 3000 }], essential: 'true' }), {
        file: 'td.json',
        input: 'task-definition',
      });
    } catch (e) {
      err = e as ActionError;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect(err!.problems.map((p) => p.location.field)).toEqual([
      'containerDefinitions[0].essential',
      'containerDefinitions[0].portMapping',
    ]);
    expect(err!.message).toContain('td.json has 2 problems');
    expect(err!.message).toContain("Fix: Did you mean 'portMappings'?");
    expect(err!.problems[0]!.location).toMatchObject({ file: 'td.json', input: 'task-definition' });
  });

  it('drops nulls and converts task cpu/memory numbers, keeping the rest as written', () => {
    const d = parseTaskDefinition({ ...valid(), cpu: 512, memory: 2048, taskRoleArn: null });
    expect(d).toMatchObject({ cpu: '512', memory: '2048' });
    expect(d).not.toHaveProperty('taskRoleArn');
  });
});
