/**
 * The checks of the rendered task definition, in-process and one rule at a time: consistency (family,
 * Fargate, names, essential, awsvpc ports, awslogs, environment and secrets entries), container
 * resources against the task's, image tags, the API shapes, and where each problem is located.
 */
import { describe, expect, it } from 'vitest';
import type { CheckOptions, PathProblem } from '../../actions/render-taskdef/check-types.js';
import type { JsonPath } from '../../actions/render-taskdef/json-source.js';
import { originKey, type RenderResult } from '../../actions/render-taskdef/render-types.js';
import type { ContainerDef, TaskDef } from '../../actions/render-taskdef/taskdef-types.js';
import { locateProblems, validateTaskDefinition } from '../../actions/render-taskdef/validate.js';
import type { Location } from '../../lib/errors.js';

const opts: CheckOptions = { allowPlainName: () => false, sensitiveValues: new Map() };
const locate = (path: JsonPath): Location => ({ file: 'tpl.json', field: path.join('.') });
const result = (taskDef: TaskDef, origins = new Map<string, Location>()) =>
  ({ taskDef, origins, locate, sensitive: [] }) as unknown as RenderResult;

const web = (c: Partial<ContainerDef> = {}): ContainerDef => ({ name: 'web', image: 'repo/web:1', essential: true, ...c });
const fargate = (over: Partial<TaskDef> = {}): TaskDef => ({
  family: 'app',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  containerDefinitions: [web()],
  ...over,
});

/** Each error as `field: message | fix`, warnings apart. */
function check(def: TaskDef, origins?: Map<string, Location>) {
  const { errors, warnings } = validateTaskDefinition(result(def, origins), opts);
  const show = (e: (typeof errors)[number]) => `${e.location.field}: ${e.message} | ${e.fix}`;
  return { errors: errors.map(show), warnings: warnings.map(show) };
}
const errorsOf = (def: TaskDef) => check(def).errors;
/** Without the API-shape type errors (a number written as a string), to see the other checks on such values. */
const beyondShape = (def: TaskDef) => errorsOf(def).filter((e) => !/; expected a number\./.test(e));

describe('validateTaskDefinition: a valid definition', () => {
  it('has no problems', () => {
    expect(check(fargate())).toEqual({ errors: [], warnings: [] });
    expect(errorsOf({ family: 'ec2_app-1', containerDefinitions: [web({ memory: 128 })] })).toEqual([]);
  });
});

describe('family', () => {
  it.each([
    ['missing', undefined, 'undefined'],
    ['empty', '', '""'],
    ['with a dot', 'app.v1', '"app.v1"'],
    ['too long', 'a'.repeat(256), JSON.stringify('a'.repeat(256))],
  ])('%s is an error on family (the shape check does not repeat it)', (_label, family, shown) => {
    expect(errorsOf(fargate({ family }))).toEqual([
      `family: family ${shown} is missing or invalid. | Use up to 255 letters, digits, hyphens and underscores, e.g. delivery-test-backend.`,
    ]);
  });

  it('255 characters are fine', () => {
    expect(errorsOf(fargate({ family: 'a'.repeat(255) }))).toEqual([]);
  });
});

describe('Fargate', () => {
  it('a size that does not fit is an error on its field', () => {
    expect(errorsOf(fargate({ memory: '4096' }))).toEqual([
      'memory: memory "4096" does not go with cpu 256 on Fargate; with cpu 256 use memory 512, 1024, 2048 (MiB). | See "Task CPU and memory" in the ECS task definition reference.',
    ]);
  });

  it('needs awsvpc', () => {
    expect(errorsOf(fargate({ networkMode: 'bridge' }))).toEqual([
      'networkMode: Fargate requires networkMode "awsvpc", not "bridge". | Set "networkMode": "awsvpc".',
    ]);
  });

  it('without FARGATE in requiresCompatibilities neither rule applies', () => {
    expect(errorsOf(fargate({ requiresCompatibilities: ['EC2'], networkMode: 'bridge', cpu: '3', memory: '7' }))).toEqual([]);
    expect(errorsOf(fargate({ requiresCompatibilities: undefined, networkMode: 'bridge', memory: '4096' }))).toEqual([]);
  });
});

describe('containers', () => {
  it.each([
    ['no name', { name: undefined }, 'undefined'],
    ['an empty name', { name: '' }, '""'],
    ['a name with a space', { name: 'my web' }, '"my web"'],
  ])('%s is an error', (_label, c, shown) => {
    expect(errorsOf(fargate({ containerDefinitions: [web(c)] }))).toEqual([
      `containerDefinitions.0.name: container 1 has no valid name (${shown}). | Give every container a name of letters, digits, hyphens and underscores.`,
    ]);
  });

  it('a name twice is an error on the second, naming the first', () => {
    expect(errorsOf(fargate({ containerDefinitions: [web(), web({ name: 'log' }), web()] }))).toEqual([
      "containerDefinitions.2.name: duplicate container name 'web' (also container 1). | Container names must be unique within a task definition.",
    ]);
  });

  it('at least one container is essential (missing essential counts as essential)', () => {
    expect(errorsOf(fargate({ containerDefinitions: [web({ essential: false }), web({ name: 'b', essential: false })] }))).toEqual([
      'containerDefinitions: no container is essential: ECS needs at least one essential container. | Set "essential": true on the main container.',
    ]);
    expect(errorsOf(fargate({ containerDefinitions: [web({ essential: false }), web({ name: 'b', essential: undefined })] }))).toEqual([]);
  });

  it('with awsvpc, a hostPort must equal the containerPort (numbers or numeric strings)', () => {
    const portMappings = [{ containerPort: 80 }, { containerPort: 80, hostPort: 80 }, { containerPort: 81, hostPort: 8081 }];
    expect(errorsOf(fargate({ containerDefinitions: [web({ portMappings })] }))).toEqual([
      "containerDefinitions.0.portMappings.2.hostPort: container 'web': with awsvpc, hostPort (8081) must equal containerPort (81). | Remove hostPort or set it to the containerPort.",
    ]);
    expect(errorsOf({ family: 'a', networkMode: 'bridge', containerDefinitions: [web({ memory: 64, portMappings })] })).toEqual([]);
  });

  it('awslogs needs a group and a region', () => {
    const logs = (options: Record<string, unknown> | undefined) =>
      errorsOf(fargate({ containerDefinitions: [web({ logConfiguration: { logDriver: 'awslogs', ...(options ? { options } : {}) } })] }));
    const fix = 'Set them in logConfiguration.options (e.g. "${LOG_GROUP}" and "${AWS_REGION}").';
    expect(logs(undefined)).toEqual([
      `containerDefinitions.0.logConfiguration.options: container 'web': awslogs needs awslogs-group and awslogs-region. | ${fix}`,
    ]);
    expect(logs({ 'awslogs-group': '/ecs/app', 'awslogs-region': '' })).toEqual([
      `containerDefinitions.0.logConfiguration.options: container 'web': awslogs needs awslogs-region. | ${fix}`,
    ]);
    expect(logs({ 'awslogs-group': '/ecs/app', 'awslogs-region': 'eu-west-1' })).toEqual([]);
    expect(errorsOf(fargate({ containerDefinitions: [web({ logConfiguration: { logDriver: 'json-file' } })] }))).toEqual([]);
  });

  it('environment entries need a name and a string value (empty is fine)', () => {
    const environment = [{ name: 'OK', value: '' }, { value: 'x' }, { name: '', value: 'x' }, { name: 'N', value: 5 }] as never;
    const found = errorsOf(fargate({ containerDefinitions: [web({ environment })] })).filter((e) => !e.includes('not a field'));
    expect(found.filter((e) => e.startsWith('containerDefinitions.0.environment.') && e.includes("container 'web'"))).toEqual([
      'containerDefinitions.0.environment.1: container \'web\': environment entry 2 has no name. | Write each entry as {"name": "...", "value": "..."}.',
      'containerDefinitions.0.environment.2: container \'web\': environment entry 3 has no name. | Write each entry as {"name": "...", "value": "..."}.',
      "containerDefinitions.0.environment.3: container 'web': environment N must have a string value (got 5). | Quote the value; ECS only accepts strings (an empty string is fine).",
    ]);
  });

  it('secrets entries need name and valueFrom strings, and a valid reference', () => {
    const secrets = [
      { name: 'OK', valueFrom: '/app/ok' },
      { name: 'NOFROM' },
      { valueFrom: '/app/x' },
      { name: 'BAD', valueFrom: 'arn:aws:s3:::bucket' },
    ] as never;
    const found = errorsOf(fargate({ containerDefinitions: [web({ secrets })] })).filter((e) => e.includes("container 'web'"));
    expect(found.slice(0, 2)).toEqual([
      'containerDefinitions.0.secrets.1: container \'web\': secrets entry 2 needs name and valueFrom strings. | Write each entry as {"name": "...", "valueFrom": "<SSM name or ARN>"}.',
      'containerDefinitions.0.secrets.2: container \'web\': secrets entry 3 needs name and valueFrom strings. | Write each entry as {"name": "...", "valueFrom": "<SSM name or ARN>"}.',
    ]);
    expect(found[2]).toMatch(/^containerDefinitions\.0\.secrets\.3: container 'web': secret BAD: /);
    expect(found).toHaveLength(3);
  });
});

describe('containers: edges', () => {
  it('a secret reference error without a fix of its own gets the list of accepted shapes', () => {
    const secrets = [{ name: 'BAD', valueFrom: '/aws/x' }];
    const found = errorsOf(fargate({ containerDefinitions: [web({ secrets })] }));
    expect(found).toEqual([
      "containerDefinitions.0.secrets.0: container 'web': secret BAD: '/aws/x' is not a valid SSM parameter name: names may not begin with 'aws' or 'ssm'. | " +
        'Use /path/NAME (SSM), arn:aws:ssm:<region>:<account>:parameter/path/NAME, or arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 ' +
        'chars>[:json-key::].',
    ]);
  });

  it('a container without a valid name is named as empty in its other messages', () => {
    const found = errorsOf(fargate({ containerDefinitions: [web({ name: 5, logConfiguration: { logDriver: 'awslogs' } })] }));
    expect(found).toContain(
      "containerDefinitions.0.logConfiguration.options: container '': awslogs needs awslogs-group and awslogs-region. | " +
        'Set them in logConfiguration.options (e.g. "${LOG_GROUP}" and "${AWS_REGION}").',
    );
  });

  it('a null port mapping does not stop the checks', () => {
    const found = errorsOf(fargate({ containerDefinitions: [web({ portMappings: [null, { containerPort: 1, hostPort: 2 }] })] }));
    expect(found.some((e) => e.startsWith('containerDefinitions.0.portMappings.1.hostPort: '))).toBe(true);
  });

  it('no containers at all: no "no container is essential" error', () => {
    expect(errorsOf(fargate({ containerDefinitions: [] })).filter((e) => e.includes('essential'))).toEqual([]);
  });
});

describe('container resources against the task', () => {
  it('one container above the task memory or cpu: an error on that container only', () => {
    const def = fargate({
      cpu: '512',
      memory: '1024',
      containerDefinitions: [web({ memory: 2048, cpu: 1024 }), web({ name: 'b', memory: 512 })],
    });
    expect(errorsOf(def)).toEqual([
      "containerDefinitions.0.memory: container 'web': memory 2048 MiB is above the task's memory 1024 MiB. | Lower the container's memory to at most 1024, or raise the task's memory.",
      "containerDefinitions.0.cpu: container 'web': cpu 1024 cpu units is above the task's cpu 512 cpu units. | Lower the container's cpu to at most 512, or raise the task's cpu.",
    ]);
  });

  it('equal to the task is fine; together above the task is an error on the task field', () => {
    const def = fargate({
      cpu: '512',
      memory: '1024',
      containerDefinitions: [web({ memory: 1024, cpu: 512 }), web({ name: 'b', memoryReservation: '1', cpu: '1' })],
    });
    expect(beyondShape(def)).toEqual([
      "memory: the containers together reserve 1025 MiB, more than the task's memory 1024 MiB. | Raise the task's memory or lower the containers' memory/memoryReservation.",
      "cpu: the containers together reserve 513 cpu units, more than the task's cpu 512 cpu units. | Raise the task's cpu or lower the containers' cpu.",
    ]);
  });

  it('containers that together reserve exactly the task are fine', () => {
    expect(
      errorsOf(fargate({ memory: '1024', cpu: '512', containerDefinitions: [web({ memory: 512 }), web({ name: 'b', memory: 512 })] })),
    ).toEqual([]);
  });

  it.each(['1a', 'a1'])('a container memory of %s is not a number: its memoryReservation counts instead', (memory) => {
    const def = fargate({
      memory: '1024',
      cpu: '512',
      containerDefinitions: [web({ memory, memoryReservation: 600 }), web({ name: 'b', memory: 600 })],
    });
    expect(beyondShape(def)).toEqual([
      "memory: the containers together reserve 1200 MiB, more than the task's memory 1024 MiB. | Raise the task's memory or lower the containers' memory/memoryReservation.",
    ]);
  });

  it('memory counts before memoryReservation; a reservation above the task is an error too', () => {
    const def = fargate({
      memory: '1024',
      cpu: '512',
      containerDefinitions: [web({ memory: 600, memoryReservation: 100 }), web({ name: 'b', memoryReservation: 500 })],
    });
    expect(errorsOf(def)).toEqual([
      "memory: the containers together reserve 1100 MiB, more than the task's memory 1024 MiB. | Raise the task's memory or lower the containers' memory/memoryReservation.",
    ]);
    const over = fargate({ memory: '1024', cpu: '512', containerDefinitions: [web({ memoryReservation: 2000 })] });
    expect(errorsOf(over)).toEqual([
      "containerDefinitions.0.memoryReservation: container 'web': memoryReservation 2000 MiB is above the task's memory 1024 MiB. | Lower the container's memoryReservation to at most 1024, or raise the task's memory.",
    ]);
  });

  it('task sizes in GB and vCPU; no task size, or a value that is not a number, is not compared', () => {
    expect(errorsOf(fargate({ cpu: '0.5 vCPU', memory: '1 GB', containerDefinitions: [web({ memory: 1025 })] }))[0]).toContain(
      "memory 1025 MiB is above the task's memory 1024 MiB",
    );
    expect(errorsOf({ family: 'a', containerDefinitions: [web({ memory: 99999, cpu: 99999 })] })).toEqual([]);
    expect(
      errorsOf(fargate({ requiresCompatibilities: ['EC2'], cpu: 'lots', memory: 'lots', containerDefinitions: [web({ memory: 99999 })] })),
    ).toEqual([]);
    expect(beyondShape(fargate({ memory: '1024', cpu: '512', containerDefinitions: [web({ memoryReservation: ' 2000 ' })] }))[0]).toContain(
      'memoryReservation 2000 MiB',
    );
  });
});

describe('images', () => {
  const image = (img: unknown) => errorsOf(fargate({ containerDefinitions: [web({ image: img })] }));
  it('missing or blank is an error', () => {
    expect(image('  ')).toEqual([
      "containerDefinitions.0.image: container 'web' has no image. | Set its image in the template or pass it in the image input.",
    ]);
    expect(image(undefined).filter((e) => e.includes('has no image'))).toHaveLength(1);
  });

  it('no tag, or an empty tag, is an error; a tag, a digest or a placeholder is not', () => {
    expect(image('repo/web')).toEqual([
      "containerDefinitions.0.image: container 'web': image repo/web has no tag, so every task start pulls whatever :latest is then. | Pin a tag or a digest (e.g. repo/web:v1.4.2 or repo/web@sha256:…); for the app container pass the image input.",
    ]);
    expect(image('repo/web:')).toEqual([
      "containerDefinitions.0.image: container 'web': image repo/web: has an empty tag (nothing after ':'). | Put the tag after the colon (e.g. :v1.4.2 or the git SHA), or pin a digest with @sha256:….",
    ]);
    expect(image(`repo/web@sha256:${'a'.repeat(64)}`)).toEqual([]);
    expect(image('repo/${IMAGE}')).toEqual([]);
    expect(image('localhost:5000/web:2')).toEqual([]);
  });
});

describe('API shapes', () => {
  it('an unknown key, with a near guess, on its path', () => {
    const found = errorsOf(fargate({ containerDefinitions: [web({ esential: true } as never)] }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^containerDefinitions\.0\.esential: containerDefinitions\[0\]\.esential: not a field of the ECS task definition \(did you mean 'essential'\?\); the AWS SDK would drop it without a word\. \| /,
    );
  });

  it('an unknown key without a guess', () => {
    const found = errorsOf(fargate({ zzzzzzzzzzz: 1 } as never));
    expect(found[0]).toMatch(/^zzzzzzzzzzz: zzzzzzzzzzz: not a field of the ECS task definition; the AWS SDK/);
  });

  it('a missing required member points at the object that lacks it', () => {
    const found = errorsOf(
      fargate({ containerDefinitions: [web({ portMappings: [{ containerPort: 80 }], secrets: [{ valueFrom: '/a/b' }] } as never)] }),
    );
    expect(found.some((e) => e.startsWith('containerDefinitions.0.secrets.0: '))).toBe(true);
    expect(found.every((e) => !e.startsWith('containerDefinitions.0.secrets.0.name'))).toBe(true);
  });

  it('a missing required member deeper down points at its object; a family of the wrong type is a shape error too', () => {
    const found = errorsOf(fargate({ containerDefinitions: [web({ healthCheck: {} })] }));
    expect(found.map((e) => e.split(': ')[0])).toEqual(['containerDefinitions.0.healthCheck']);
    const family = errorsOf(fargate({ family: 5 }));
    expect(family).toHaveLength(2);
    expect(family[1]).toBe(
      'family: family 5 is missing or invalid. | Use up to 255 letters, digits, hyphens and underscores, e.g. delivery-test-backend.',
    );
  });

  it('a wrong JSON type is an error on its own path', () => {
    const found = errorsOf(fargate({ containerDefinitions: [web({ essential: 'true' })] }));
    expect(found.map((e) => e.split(':')[0])).toEqual(['containerDefinitions.0.essential']);
  });
});

describe('where a problem is located', () => {
  it('an environment or secrets entry points where its value was set; anything else at the template line', () => {
    const at: Location = { file: 'features/core.json', line: 9 };
    const r = result(
      fargate({
        containerDefinitions: [
          web({
            environment: [
              { name: 'A', value: 'x' },
              { name: 'B', value: 'y' },
            ],
            secrets: [{ name: 'S', valueFrom: '/a' }],
          }),
          web({ name: 'log' }),
        ],
      }),
      new Map([
        [originKey('web', 'environment', 'A'), at],
        [originKey('web', 'secrets', 'S'), { file: 'features/core.json', line: 12 }],
      ]),
    );
    const problems: PathProblem[] = [
      { path: ['containerDefinitions', 0, 'environment', 0], message: 'a', fix: 'fa' },
      { path: ['containerDefinitions', 0, 'environment', 1], message: 'b', fix: 'fb', severity: 'warning' },
      { path: ['containerDefinitions', 0, 'secrets', 0, 'valueFrom'], message: 's', fix: 'fs' },
      { path: ['containerDefinitions', 0, 'environment', 5], message: 'gone', fix: 'f' },
      { path: ['containerDefinitions', 3, 'secrets', 0], message: 'no container', fix: 'f' },
      { path: ['containerDefinitions', 1, 'secrets', 0], message: 'no secrets', fix: 'f' },
      { path: ['containerDefinitions', 0, 'portMappings', 0], message: 'p', fix: 'fp', severity: 'error' },
      { path: ['containerDefinitions', '0', 'environment', 0], message: 'q', fix: 'f' },
      { path: ['containerDefinitions', 0, 'environment', '0'], message: 'r', fix: 'f' },
      { path: ['taskDefinition', 0, 'environment', 0], message: 't', fix: 'f' },
    ];
    const { errors, warnings } = locateProblems(r, problems);
    expect(errors.map((e) => [e.message, e.location, e.fix])).toEqual([
      ['a', at, 'fa'],
      ['s', { file: 'features/core.json', line: 12 }, 'fs'],
      ['gone', locate(['containerDefinitions', 0, 'environment', 5]), 'f'],
      ['no container', locate(['containerDefinitions', 3, 'secrets', 0]), 'f'],
      ['no secrets', locate(['containerDefinitions', 1, 'secrets', 0]), 'f'],
      ['p', locate(['containerDefinitions', 0, 'portMappings', 0]), 'fp'],
      ['q', locate(['containerDefinitions', '0', 'environment', 0]), 'f'],
      ['r', locate(['containerDefinitions', 0, 'environment', '0']), 'f'],
      ['t', locate(['taskDefinition', 0, 'environment', 0]), 'f'],
    ]);
    expect(warnings.map((e) => [e.message, e.location])).toEqual([['b', locate(['containerDefinitions', 0, 'environment', 1])]]);
  });

  it('given checkers replace the default ones; every problem of every checker is returned', () => {
    const one = () => [{ path: ['family'], message: 'one', fix: 'f' }];
    const two = () => [
      { path: ['cpu'], message: 'two', fix: 'f' },
      { path: ['memory'], message: 'three', fix: 'f', severity: 'warning' as const },
    ];
    const { errors, warnings } = validateTaskDefinition(result(fargate({ family: '' })), opts, [one, two]);
    expect(errors.map((e) => e.message)).toEqual(['one', 'two']);
    expect(warnings.map((e) => e.message)).toEqual(['three']);
  });
});
