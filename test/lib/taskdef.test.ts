import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand, type TaskDefinition } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';
import {
  normalizeTaskDefinition,
  parseTaskDefinition,
  readTaskDefinitionFile,
  registerIfChanged,
  taskDefinitionsEqual,
  type TaskDefinitionInput,
} from '../../lib/taskdef.js';

const ARN = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;

function fileDef(): TaskDefinitionInput {
  return {
    family: 'api',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    containerDefinitions: [
      {
        name: 'api',
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc',
        portMappings: [{ containerPort: 8080 }],
        environment: [
          { name: 'B', value: '2' },
          { name: 'A', value: '1' },
          { name: 'EMPTY', value: '' },
        ],
        secrets: [{ name: 'DB', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db' }],
      },
    ],
    tags: [{ key: 'team', value: 'core' }],
  };
}

/** What DescribeTaskDefinition returns for fileDef(): read-only keys, defaults, other order. */
function describedDef(rev = 3): TaskDefinition {
  return {
    taskDefinitionArn: ARN(rev),
    revision: rev,
    status: 'ACTIVE',
    family: 'api',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    volumes: [],
    placementConstraints: [],
    registeredAt: new Date(0),
    registeredBy: 'arn:aws:iam::123456789012:user/ci',
    enableFaultInjection: false,
    containerDefinitions: [
      {
        name: 'api',
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc',
        cpu: 0,
        essential: true,
        portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
        environment: [
          { name: 'A', value: '1' },
          { name: 'EMPTY', value: '' },
          { name: 'B', value: '2' },
        ],
        mountPoints: [],
        volumesFrom: [],
        systemControls: [],
        secrets: [{ name: 'DB', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db' }],
      },
    ],
  };
}

describe('normalize / taskDefinitionsEqual', () => {
  it('treats a describe output as equal to the file that produced it', () => {
    expect(taskDefinitionsEqual(describedDef(), fileDef(), [{ key: 'team', value: 'core' }], fileDef().tags)).toBe(true);
  });

  it.each([
    ['an image', (d: TaskDefinitionInput) => (d.containerDefinitions![0]!.image = 'x:new')],
    ['an env value', (d: TaskDefinitionInput) => (d.containerDefinitions![0]!.environment![0]!.value = '3')],
    ['an empty env value removed', (d: TaskDefinitionInput) => d.containerDefinitions![0]!.environment!.pop()],
    ['memory', (d: TaskDefinitionInput) => (d.memory = '1024')],
    ['a tag', (d: TaskDefinitionInput) => (d.tags = [{ key: 'team', value: 'other' }])],
  ])('notices %s', (_label, change) => {
    const d = fileDef();
    change(d);
    expect(taskDefinitionsEqual(describedDef(), d, [{ key: 'team', value: 'core' }], d.tags)).toBe(false);
  });

  it('keeps empty env values and sorts env/secrets/tags', () => {
    const n = normalizeTaskDefinition(fileDef()) as {
      containerDefinitions: { environment: { name: string; value: string }[] }[];
      tags: unknown[];
    };
    expect(n.containerDefinitions[0]!.environment).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'EMPTY', value: '' },
    ]);
  });
});

describe('diffTaskDefinitions', () => {
  it('lists image, cpu/memory, env and secret names without env values', () => {
    const after = fileDef();
    const c = after.containerDefinitions![0]!;
    c.image = 'repo:def';
    after.memory = '1024';
    c.environment = [
      { name: 'A', value: 'changed-secretish' },
      { name: 'C', value: '3' },
      { name: 'EMPTY', value: '' },
    ];
    c.secrets = [{ name: 'STRIPE', valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe' }];
    const lines = diffTaskDefinitions(describedDef(), after);
    expect(lines).toContain('memory: 512 → 1024');
    expect(lines).toContain('container api image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc → repo:def');
    expect(lines).toContain('container api env added: C');
    expect(lines).toContain('container api env removed: B');
    expect(lines).toContain('container api env changed: A');
    expect(lines).toContain('container api secrets added: STRIPE');
    expect(lines).toContain('container api secrets removed: DB');
    expect(lines.join('\n')).not.toContain('changed-secretish');
  });

  it('says so when there is no previous revision', () => {
    expect(diffTaskDefinitions(undefined, fileDef())).toEqual(['new family (no previous revision)']);
  });
});

describe('parseTaskDefinition / readTaskDefinitionFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskdef-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('strips read-only keys from a describe output and accepts the whole describe response', () => {
    const d = parseTaskDefinition({ taskDefinition: describedDef(), tags: [{ key: 'team', value: 'core' }] });
    expect(d).not.toHaveProperty('revision');
    expect(d).not.toHaveProperty('taskDefinitionArn');
    expect(d.tags).toEqual([{ key: 'team', value: 'core' }]);
  });

  it.each([
    ['unknown key, named', { ...fileDef(), famly: 'x' }, /Unknown top-level key 'famly'.*Did you mean 'family'/],
    ['missing family', { containerDefinitions: fileDef().containerDefinitions }, /family is missing; ECS requires it/],
    ['a family with a space', { ...fileDef(), family: 'my app' }, /'family' must be a name/],
    ['no containers', { family: 'api', containerDefinitions: [] }, /containerDefinitions' must be a non-empty array/],
    ['container without image', { family: 'api', containerDefinitions: [{ name: 'x' }] }, /containerDefinitions\[0\]\.image is missing/],
  ])('rejects %s', (_label, value, message) => {
    let err: unknown;
    try {
      parseTaskDefinition(value, { file: 'td.json', input: 'task-definition' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect(String(err)).toMatch(message);
  });

  it('reports several problems at once', () => {
    expect(() => parseTaskDefinition({ bogus: 1, containerDefinitions: [] })).toThrow(/3 problems/);
  });

  it('reads a file, keeping empty env values', () => {
    const p = write('ok.json', JSON.stringify(fileDef()));
    expect(readTaskDefinitionFile(p).containerDefinitions![0]!.environment).toContainEqual({ name: 'EMPTY', value: '' });
  });

  it('names the input and file when it cannot be read', () => {
    expect(() => readTaskDefinitionFile(join(dir, 'missing.json'))).toThrow(/Cannot read task-definition file .*missing\.json.*ENOENT/);
  });

  it('gives the line of a JSON syntax error', () => {
    const p = write('bad.json', '{\n  "family": "api",\n  "containerDefinitions": [,]\n}');
    try {
      readTaskDefinitionFile(p);
      expect.unreachable();
    } catch (e) {
      expect((e as ActionError).location).toMatchObject({ input: 'task-definition', file: p, line: 3 });
    }
  });
});

describe('registerIfChanged', () => {
  const ecsMock = mockClient(ECSClient);
  const ecs = new ECSClient({ region: 'eu-west-1' });
  beforeEach(() => ecsMock.reset());

  it('registers nothing when the latest ACTIVE revision is equal', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: describedDef(3), tags: [{ key: 'team', value: 'core' }] });
    const res = await registerIfChanged(ecs, fileDef());
    expect(res).toMatchObject({ arn: ARN(3), changed: false, previousArn: ARN(3) });
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input).toEqual({ taskDefinition: 'api', include: ['TAGS'] });
  });

  it('registers a new revision when something differs', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: describedDef(3), tags: [] });
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { ...describedDef(4) } });
    const res = await registerIfChanged(ecs, fileDef());
    expect(res).toMatchObject({ arn: ARN(4), changed: true, previousArn: ARN(3) });
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input.family).toBe('api');
  });

  it('registers the first revision of a new family', async () => {
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .rejects(Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' }));
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: describedDef(1) });
    const res = await registerIfChanged(ecs, fileDef());
    expect(res).toMatchObject({ arn: ARN(1), changed: true, previousArn: undefined });
  });

  it('propagates other describe errors', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(registerIfChanged(ecs, fileDef())).rejects.toThrow('denied');
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });
});
