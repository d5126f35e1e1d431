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

describe('parseTaskDefinition: what it accepts and how it reports', () => {
  const problem = (value: unknown, where = { file: 'td.json', input: 'task-definition' }) => {
    try {
      parseTaskDefinition(value, where);
    } catch (e) {
      return e as ActionError;
    }
    throw new Error('parseTaskDefinition accepted the value');
  };

  it('a describe response with no tags gives no tags; an object with a family is not unwrapped', () => {
    expect(parseTaskDefinition({ taskDefinition: describedDef(), tags: [] })).not.toHaveProperty('tags');
    expect(String(problem({ ...fileDef(), taskDefinition: describedDef() }))).toMatch(/taskDefinition/);
  });

  it('drops null values at every level and turns task cpu/memory numbers into strings', () => {
    const d = parseTaskDefinition({
      family: 'api',
      pidMode: null,
      cpu: 256,
      memory: 512,
      containerDefinitions: [{ name: 'x', image: 'i', command: null, environment: [{ name: 'A', value: '1' }] }],
    });
    expect(d).toEqual({
      family: 'api',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'x', image: 'i', environment: [{ name: 'A', value: '1' }] }],
    });
  });

  it('a family: letters, digits, "-" and "_", 1 to 255 characters', () => {
    const containerDefinitions = [{ name: 'x', image: 'i' }];
    expect(parseTaskDefinition({ family: 'my-app_2', containerDefinitions }).family).toBe('my-app_2');
    expect(parseTaskDefinition({ family: 'a'.repeat(255), containerDefinitions }).family).toHaveLength(255);
    expect(problem({ family: 'a'.repeat(256), containerDefinitions }).location.field).toBe('family');
    expect(problem({ family: 'app!', containerDefinitions }).location.field).toBe('family');
  });

  it('an empty container name or image is missing', () => {
    expect(problem({ family: 'api', containerDefinitions: [{ name: '', image: 'i' }] }).location.field).toBe(
      'containerDefinitions[0].name',
    );
    expect(problem({ family: 'api', containerDefinitions: [{ name: 'x', image: '' }] }).location.field).toBe(
      'containerDefinitions[0].image',
    );
  });

  it('one problem is thrown as it is, with the file, input and field', () => {
    const err = problem({ family: 'my app', containerDefinitions: [{ name: 'x', image: 'i' }] });
    expect(err.location).toMatchObject({ file: 'td.json', input: 'task-definition', field: 'family' });
    expect(err.message).not.toMatch(/problems/);
  });

  it('several problems: one error naming the file, each problem with its field and fix', () => {
    const err = problem({ family: 'my app', containerDefinitions: [{ name: 'x' }] });
    expect(err.message).toContain('td.json has 2 problems:\n');
    expect(err.message).toContain(
      `  - family: 'family' must be a name of letters, digits, '-' and '_', got "my app". Fix: Set "family": "my-app".`,
    );
    expect(err.message).toContain(
      '  - containerDefinitions[0].image: containerDefinitions[0].image is missing. Fix: Give every container an image.',
    );
    expect(err.message.split('\n')).toHaveLength(3);
    expect(err.location).toMatchObject({ file: 'td.json', input: 'task-definition' });
    expect(err.problems).toHaveLength(2);
    expect(problem({ family: 'my app', containerDefinitions: [{ name: 'x' }] }, {} as never).message).toMatch(
      /^task definition has 2 problems/,
    );
  });

  it('a value that is not an object names the file and the fix', () => {
    const err = problem([fileDef()]);
    expect(err.message).toBe('A task definition must be a JSON object.');
    expect(err.location).toMatchObject({ file: 'td.json', input: 'task-definition' });
    expect(err.fix).toMatch(/RegisterTaskDefinition request shape/);
  });
});

describe('readTaskDefinitionFile: errors name the input, file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskdef-read-'));

  it('names the input given by the caller', () => {
    const missing = join(dir, 'missing.json');
    expect(() => readTaskDefinitionFile(missing, { input: 'task-definition-file' })).toThrow(ActionError);
    try {
      readTaskDefinitionFile(missing, { input: 'task-definition-file' });
    } catch (e) {
      expect((e as ActionError).location).toMatchObject({ input: 'task-definition-file', file: missing });
      expect((e as ActionError).fix).toMatch(/Check the path/);
    }
  });

  it('gives the line of a syntax error whose message has a position', () => {
    const p = join(dir, 'position.json');
    writeFileSync(p, '{\n  "family": "api"\n  "cpu": "256"\n}');
    try {
      readTaskDefinitionFile(p);
      expect.unreachable();
    } catch (e) {
      expect((e as ActionError).location).toMatchObject({ input: 'task-definition', file: p, line: 3 });
      expect((e as ActionError).message).toMatch(/is not valid JSON/);
    }
  });

  it('names the line where the file ends too early', () => {
    const p = join(dir, 'short.json');
    writeFileSync(p, '{\n  "family": "api",\n');
    try {
      readTaskDefinitionFile(p);
      expect.unreachable();
    } catch (e) {
      // The text stops on line 3 (after the last newline): that is where the JSON parser gave up.
      expect((e as ActionError).location.line).toBe(3);
    }
  });
});

describe('registerIfChanged: the edges', () => {
  const ecsMock = mockClient(ECSClient);
  const ecs = new ECSClient({ region: 'eu-west-1' });
  beforeEach(() => ecsMock.reset());

  it('a family not found (InvalidParameterException, "does not exist") registers the first revision', async () => {
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .rejects(Object.assign(new Error('The specified task definition does not exist.'), { name: 'InvalidParameterException' }));
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: describedDef(1) });
    expect(await registerIfChanged(ecs, fileDef())).toMatchObject({ arn: ARN(1), changed: true });
  });

  it('a ClientException about something else propagates', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ClientException' }));
    await expect(registerIfChanged(ecs, fileDef())).rejects.toThrow('Rate exceeded');
  });

  it('a revision described without tags equals a file without tags', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: describedDef(3) });
    const { tags: _tags, ...untagged } = fileDef();
    expect(await registerIfChanged(ecs, untagged)).toMatchObject({ arn: ARN(3), changed: false, taskDefinition: { revision: 3 } });
  });

  it('a RegisterTaskDefinition answer without an ARN is an error', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: describedDef(3), tags: [] });
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: {} });
    await expect(registerIfChanged(ecs, fileDef())).rejects.toThrow(/no taskDefinitionArn/);
  });

  it('returns the registered definition and the previous one', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: describedDef(3), tags: [] });
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: describedDef(4) });
    const res = await registerIfChanged(ecs, fileDef());
    expect(res.taskDefinition.revision).toBe(4);
    expect(res.previous?.revision).toBe(3);
  });
});

describe('readTaskDefinitionFile: the line of a syntax error whose message has no position', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskdef-line-'));
  const locate = (text: string) => {
    const p = join(dir, 'td.json');
    writeFileSync(p, text);
    try {
      readTaskDefinitionFile(p);
    } catch (e) {
      return e as ActionError;
    }
    throw new Error('readTaskDefinitionFile accepted the file');
  };

  it('a bare word after a list and a comma: the line of the word', () => {
    // Node 20: "Unexpected token 'B', ... is not valid JSON" (no position); the prefix ending right after
    // "]," stops at a position at its very end, which is still valid so far.
    const err = locate('{\n  "family": "api",\n  "containerDefinitions": [\n    { "name": "app", "image": "x" }\n  ],\n  "cpu": BAD\n}');
    expect(err.location.line).toBe(6);
    expect(err.fix).toBe('Fix the JSON syntax (render-taskdef writes valid JSON).');
  });

  it('a text cut short inside a value: the last line, where the parser ran out of input', () => {
    const err = locate('{\n  "family": "api",\n  "cpu": ');
    expect(err.message).toMatch(/Unexpected end of JSON input/);
    expect(err.location.line).toBe(3);
  });
});

describe('parseTaskDefinition and readTaskDefinitionFile: one problem per mistake, each named', () => {
  const problem = (value: unknown) => {
    try {
      parseTaskDefinition(value, { file: 'td.json', input: 'task-definition' });
    } catch (e) {
      return e as ActionError;
    }
    throw new Error('parseTaskDefinition accepted the value');
  };

  it('null is not a task definition', () => {
    expect(problem(null).message).toBe('A task definition must be a JSON object.');
  });

  it('a family of the wrong type is one problem (its type), not also a bad name', () => {
    const err = problem({ family: {}, containerDefinitions: [{ name: 'x', image: 'i' }] });
    expect(err.message).toBe('family is an object; expected a string.');
    expect(err.problems).toEqual([]);
  });

  it('containerDefinitions that is not a list, or holds a string, is one shape problem', () => {
    expect(problem({ family: 'api', containerDefinitions: {} }).location.field).toBe('containerDefinitions');
    const inList = problem({ family: 'api', containerDefinitions: ['web'] });
    expect(inList.location.field).toBe('containerDefinitions[0]');
    expect(inList.problems).toEqual([]);
  });

  it('an empty container list: the field and the fix', () => {
    const err = problem({ family: 'api', containerDefinitions: [] });
    expect(err.location.field).toBe('containerDefinitions');
    expect(err.fix).toBe('Add at least one container with a name and an image.');
  });

  it('a container without a name: the message, the field and the fix', () => {
    const err = problem({ family: 'api', containerDefinitions: [{ image: 'i' }] });
    expect(err.message).toBe('containerDefinitions[0].name is missing.');
    expect(err.location.field).toBe('containerDefinitions[0].name');
    expect(err.fix).toBe('Give every container a name.');
  });

  it('no task cpu or memory: none is added', () => {
    expect(parseTaskDefinition({ family: 'api', containerDefinitions: [{ name: 'x', image: 'i' }] })).toEqual({
      family: 'api',
      containerDefinitions: [{ name: 'x', image: 'i' }],
    });
  });

  it('a file that cannot be read: the error code only, not the whole system message', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'taskdef-missing-')), 'none.json');
    expect(() => readTaskDefinitionFile(missing)).toThrow(`Cannot read task-definition file '${missing}' (ENOENT).`);
  });

  it("a file's shape problem names the file and the input", () => {
    const p = join(mkdtempSync(join(tmpdir(), 'taskdef-shape-')), 'td.json');
    writeFileSync(p, JSON.stringify({ family: 'my app', containerDefinitions: [{ name: 'x', image: 'i' }] }));
    try {
      readTaskDefinitionFile(p, { input: 'task-definition-file' });
      expect.unreachable();
    } catch (e) {
      expect((e as ActionError).location).toMatchObject({ file: p, input: 'task-definition-file', field: 'family' });
    }
  });
});

describe('registerIfChanged: what counts as a new family', () => {
  const ecsMock = mockClient(ECSClient);
  const ecs = new ECSClient({ region: 'eu-west-1' });
  beforeEach(() => ecsMock.reset());

  it('an error other than ClientException / InvalidParameterException propagates, whatever its text says', async () => {
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .rejects(Object.assign(new Error('Task definition cache not found, retry'), { name: 'ServerException' }));
    await expect(registerIfChanged(ecs, fileDef())).rejects.toThrow('Task definition cache not found, retry');
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toEqual([]);
  });

  it('a RegisterTaskDefinition answer without a task definition is an error naming what is missing', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: describedDef(3), tags: [] });
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({});
    await expect(registerIfChanged(ecs, fileDef())).rejects.toThrow('RegisterTaskDefinition returned no taskDefinitionArn.');
  });
});
