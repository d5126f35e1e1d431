import { describe, expect, it } from 'vitest';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';
import { normalizeCpu, normalizeMemory, normalizeTaskDefinition, taskDefinitionsEqual } from '../../lib/taskdef-normalize.js';

/** What a team writes: defaults left out, units in words, `{name}` without value. */
function file(): Record<string, unknown> {
  return {
    family: 'delivery-backend',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '1 vCPU',
    memory: '2 GB',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    volumes: [{ name: 'tmp' }],
    containerDefinitions: [
      {
        name: 'backend',
        image: 'repo/backend:abc',
        portMappings: [{ containerPort: 3000 }, { containerPort: 9090, protocol: 'udp' }],
        environment: [{ name: 'PORT', value: '3000' }, { name: 'EMPTY' }, { name: 'A', value: '1' }],
        secrets: [
          { name: 'Z', valueFrom: '/z' },
          { name: 'DB', valueFrom: '/db' },
        ],
        healthCheck: { command: ['CMD', 'true'], startPeriod: 10 },
        mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp' }],
      },
      { name: 'log-router', image: 'fluent-bit:1', essential: false, firelensConfiguration: { type: 'fluentbit' } },
    ],
  };
}

/** The same definition as DescribeTaskDefinition returns it (each filled value has its source in lib/taskdef-normalize.ts). */
function described(): Record<string, unknown> {
  return {
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/delivery-backend:7',
    revision: 7,
    status: 'ACTIVE',
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'ecs.capability.execution-role-awslogs' }],
    registeredAt: '2026-11-27T10:00:00.000Z',
    registeredBy: 'arn:aws:iam::123456789012:user/ci',
    family: 'delivery-backend',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '1024',
    memory: '2048',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    volumes: [{ name: 'tmp', host: {}, configuredAtLaunch: false }],
    placementConstraints: [],
    enableFaultInjection: false,
    containerDefinitions: [
      {
        name: 'backend',
        image: 'repo/backend:abc',
        cpu: 0,
        essential: true,
        portMappings: [
          { containerPort: 3000, hostPort: 3000, protocol: 'tcp' },
          { containerPort: 9090, hostPort: 9090, protocol: 'udp' },
        ],
        environment: [
          { name: 'A', value: '1' },
          { name: 'EMPTY', value: '' },
          { name: 'PORT', value: '3000' },
        ],
        secrets: [
          { name: 'DB', valueFrom: '/db' },
          { name: 'Z', valueFrom: '/z' },
        ],
        healthCheck: { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3, startPeriod: 10 },
        mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp' }],
        volumesFrom: [],
        systemControls: [],
      },
      {
        name: 'log-router',
        image: 'fluent-bit:1',
        cpu: 0,
        essential: false,
        portMappings: [],
        environment: [],
        mountPoints: [],
        volumesFrom: [],
        systemControls: [],
        firelensConfiguration: { type: 'fluentbit', options: {} },
      },
    ],
  };
}

describe('normalizeTaskDefinition: ECS-filled defaults compare equal', () => {
  it('a describe output equals the file that registered it', () => {
    expect(normalizeTaskDefinition(described())).toEqual(normalizeTaskDefinition(file()));
    expect(taskDefinitionsEqual(described(), file())).toBe(true);
  });

  const c0 = (d: Record<string, unknown>) => (d.containerDefinitions as Record<string, unknown>[])[0]!;
  it.each<[string, (d: Record<string, unknown>) => void]>([
    ['an image', (d) => (c0(d).image = 'repo/backend:def')],
    ['essential: false on the main container', (d) => (c0(d).essential = false)],
    ['a container cpu', (d) => (c0(d).cpu = 256)],
    [
      'a health-check interval other than the default',
      (d) => (c0(d).healthCheck = { command: ['CMD', 'true'], interval: 10, startPeriod: 10 }),
    ],
    ['a startPeriod (no default)', (d) => (c0(d).healthCheck = { command: ['CMD', 'true'] })],
    [
      'a hostPort other than the containerPort',
      (d) =>
        (c0(d).portMappings = [
          { containerPort: 3000, hostPort: 80 },
          { containerPort: 9090, protocol: 'udp' },
        ]),
    ],
    ['the protocol udp → tcp', (d) => (c0(d).portMappings = [{ containerPort: 3000 }, { containerPort: 9090 }])],
    [
      'an empty env value removed',
      (d) =>
        (c0(d).environment = [
          { name: 'PORT', value: '3000' },
          { name: 'A', value: '1' },
        ]),
    ],
    [
      'a secret source',
      (d) =>
        (c0(d).secrets = [
          { name: 'Z', valueFrom: '/z2' },
          { name: 'DB', valueFrom: '/db' },
        ]),
    ],
    ['task memory', (d) => (d.memory = '3 GB')],
    ['task cpu', (d) => (d.cpu = '0.5 vCPU')],
    ['enableFaultInjection: true', (d) => (d.enableFaultInjection = true)],
  ])('still notices %s', (_label, change) => {
    const d = file();
    change(d);
    expect(taskDefinitionsEqual(described(), d)).toBe(false);
  });

  it('the readable diff (dry-run, summary) shows no change for ECS defaults, and the real one when there is', () => {
    expect(diffTaskDefinitions(described() as never, file() as never)).toEqual([]);
    const changed = file();
    (changed.containerDefinitions as Record<string, unknown>[])[0]!.image = 'repo/backend:def';
    expect(diffTaskDefinitions(described() as never, changed as never)).toEqual([
      'container backend image: repo/backend:abc → repo/backend:def',
    ]);
  });

  it('keeps the order of lists the evidence does not call unordered (command, entryPoint, dependsOn)', () => {
    const a = {
      family: 'f',
      containerDefinitions: [
        {
          name: 'x',
          image: 'i',
          command: ['a', 'b'],
          dependsOn: [
            { containerName: 'p', condition: 'START' },
            { containerName: 'q', condition: 'START' },
          ],
        },
      ],
    };
    const b = {
      family: 'f',
      containerDefinitions: [
        {
          name: 'x',
          image: 'i',
          command: ['b', 'a'],
          dependsOn: [
            { containerName: 'p', condition: 'START' },
            { containerName: 'q', condition: 'START' },
          ],
        },
      ],
    };
    const c = {
      family: 'f',
      containerDefinitions: [
        {
          name: 'x',
          image: 'i',
          command: ['a', 'b'],
          dependsOn: [
            { containerName: 'q', condition: 'START' },
            { containerName: 'p', condition: 'START' },
          ],
        },
      ],
    };
    expect(taskDefinitionsEqual(a, b)).toBe(false);
    expect(taskDefinitionsEqual(a, c)).toBe(false);
  });

  it('hostPort equal to containerPort is a default only in awsvpc mode; hostPort 0 means dynamic', () => {
    const bridge = (pm: Record<string, unknown>) => ({
      family: 'f',
      networkMode: 'bridge',
      containerDefinitions: [{ name: 'x', image: 'i', portMappings: [pm] }],
    });
    expect(taskDefinitionsEqual(bridge({ containerPort: 80, hostPort: 80 }), bridge({ containerPort: 80 }))).toBe(false);
    expect(taskDefinitionsEqual(bridge({ containerPort: 80, hostPort: 0 }), bridge({ containerPort: 80 }))).toBe(true);
  });
});

describe('normalizeCpu / normalizeMemory', () => {
  it.each([
    ['1 vCPU', '1024'],
    ['0.25 vcpu', '256'],
    ['2vCPU', '2048'],
    [512, '512'],
    ['256', '256'],
  ])('cpu %s → %s', (given, want) => expect(normalizeCpu(given)).toBe(want));

  it.each([
    ['2 GB', '2048'],
    ['0.5GB', '512'],
    [1024, '1024'],
    ['1024', '1024'],
  ])('memory %s → %s', (given, want) => expect(normalizeMemory(given)).toBe(want));
});

describe('normalizeCpu / normalizeMemory: only a whole "<number> vCPU" / "<number> GB" converts', () => {
  it.each([
    ['16 vCPU', '16384'],
    ['1 vCPU ', '1024'],
  ])('cpu %j → %s', (given, want) => expect(normalizeCpu(given)).toBe(want));

  it.each([
    ['30 GB', '30720'],
    ['0.25GB', '256'],
    ['2 GB ', '2048'],
  ])('memory %j → %s', (given, want) => expect(normalizeMemory(given)).toBe(want));

  it.each(['about 1 vCPU', '1 vCPU each'])('cpu %j is kept as written', (given) => expect(normalizeCpu(given)).toBe(given));
  it.each(['about 2 GB', '2 GB each'])('memory %j is kept as written', (given) => expect(normalizeMemory(given)).toBe(given));

  it('a value that is neither a number nor a string is kept as written', () => {
    const cpu = ['1 vCPU'];
    const memory = ['2 GB'];
    expect(normalizeCpu(cpu)).toBe(cpu);
    expect(normalizeMemory(memory)).toBe(memory);
  });
});

describe('normalizeTaskDefinition: the canonical form', () => {
  const def = (extra: Record<string, unknown>) => ({ family: 'f', containerDefinitions: [{ name: 'x', image: 'i' }], ...extra });

  it('object keys in another order compare equal', () => {
    const a = { family: 'f', cpu: '256', containerDefinitions: [{ name: 'x', image: 'i', command: ['a'] }] };
    const b = { containerDefinitions: [{ command: ['a'], image: 'i', name: 'x' }], cpu: '256', family: 'f' };
    expect(taskDefinitionsEqual(a, b)).toBe(true);
  });

  it('null values, objects holding only nulls, and lists holding only empty entries compare equal to leaving them out', () => {
    expect(taskDefinitionsEqual(def({ pidMode: null }), def({}))).toBe(true);
    expect(taskDefinitionsEqual(def({ runtimePlatform: { cpuArchitecture: null } }), def({}))).toBe(true);
    expect(taskDefinitionsEqual(def({ placementConstraints: [{}, null] }), def({}))).toBe(true);
    expect(normalizeTaskDefinition(def({ pidMode: null, placementConstraints: [{}] }))).toEqual(normalizeTaskDefinition(def({})));
  });

  it('sorts containers by name, not by their other keys', () => {
    const n = normalizeTaskDefinition({
      family: 'f',
      containerDefinitions: [
        { name: 'b', image: 'a' },
        { name: 'a', image: 'z' },
      ],
    });
    expect((n.containerDefinitions as { name: string }[]).map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('lists sorted by their whole entry (mount points, port mappings, volumes) compare equal in any order', () => {
    const mounts = [
      { sourceVolume: 'b', containerPath: '/b' },
      { sourceVolume: 'a', containerPath: '/a' },
      { sourceVolume: 'c', containerPath: '/c' },
    ];
    const withMounts = (m: unknown[]) => ({
      family: 'f',
      volumes: [{ name: 'c' }, { name: 'a' }, { name: 'b' }],
      containerDefinitions: [{ name: 'x', image: 'i', mountPoints: m }],
    });
    expect(taskDefinitionsEqual(withMounts(mounts), withMounts([mounts[1], mounts[2], mounts[0]]))).toBe(true);
    expect(taskDefinitionsEqual(withMounts(mounts), withMounts([mounts[2], mounts[1], mounts[0]]))).toBe(true);
    expect(taskDefinitionsEqual(withMounts(mounts), withMounts([mounts[0], mounts[2], mounts[1]]))).toBe(true);
    const n = normalizeTaskDefinition(withMounts(mounts)) as { volumes: unknown[]; containerDefinitions: { mountPoints: unknown[] }[] };
    expect(n.containerDefinitions[0]!.mountPoints).toEqual([mounts[1], mounts[0], mounts[2]]);
    expect(n.volumes).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  });

  it('keeps the definition’s own tags when no tags are passed', () => {
    expect(taskDefinitionsEqual(def({ tags: [{ key: 'team', value: 'a' }] }), def({ tags: [{ key: 'team', value: 'b' }] }))).toBe(false);
    expect(normalizeTaskDefinition(def({ tags: [{ key: 'team', value: 'a' }] })).tags).toEqual([{ key: 'team', value: 'a' }]);
  });

  it('a definition without containers or units normalizes to what it has', () => {
    expect(normalizeTaskDefinition({ family: 'f' })).toEqual({ family: 'f' });
  });

  it('volumes: only configuredAtLaunch false is the default; a changed or added volume is noticed', () => {
    const vol = (v: Record<string, unknown>) => def({ volumes: [v] });
    expect(taskDefinitionsEqual(vol({ name: 'data', configuredAtLaunch: false }), vol({ name: 'data' }))).toBe(true);
    expect(taskDefinitionsEqual(vol({ name: 'data', configuredAtLaunch: true }), vol({ name: 'data' }))).toBe(false);
    expect(taskDefinitionsEqual(vol({ name: 'data' }), vol({ name: 'other' }))).toBe(false);
    expect(taskDefinitionsEqual(vol({ name: 'data' }), def({}))).toBe(false);
  });
});
