/**
 * End-to-end, the shared task-definition model (lib/ecs-shapes.ts, lib/taskdef-normalize.ts)
 * inside the deploy-ecs bundle: a definition as teams write it is registered once even
 * though ECS (and the emulator, which models it) returns it with defaults filled in, and a
 * typo inside a container fails before any AWS call instead of being dropped by the SDK.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';

const ACCOUNT = '123456789012';
const IMAGE = (tag: string) => `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:${tag}`;
const awsvpc = { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' } };

/**
 * The delivery backend as its team writes it: units in words, no `essential`, no
 * `protocol`/`hostPort`, a health check with only its command, env in no particular
 * order, a `{name}` without value, a sidecar, a volume.
 */
function realistic(family: string, tag: string) {
  return {
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '1 vCPU',
    memory: '2 GB',
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/delivery-test-ecs-execution`,
    taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/delivery-test-backend`,
    volumes: [{ name: 'tmp' }],
    containerDefinitions: [
      {
        name: 'backend',
        image: IMAGE(tag),
        portMappings: [{ containerPort: 3000, name: 'http' }],
        environment: [{ name: 'PORT', value: '3000' }, { name: 'DEPLOY_ENV', value: 'test' }, { name: 'FEATURE_FLAGS' }],
        secrets: [
          { name: 'JWT_PRIVATE_KEY', valueFrom: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/delivery/test/JWT_PRIVATE_KEY` },
          { name: 'DATABASE_URL', valueFrom: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/delivery/test/DATABASE_URL` },
        ],
        healthCheck: { command: ['CMD-SHELL', 'wget -qO- http://localhost:3000/health || exit 1'], startPeriod: 20 },
        mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp' }],
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': '/ecs/delivery-test', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'backend' },
        },
      },
      {
        name: 'xray',
        image: 'public.ecr.aws/xray/aws-xray-daemon:3.3.12',
        essential: false,
        portMappings: [{ containerPort: 2000, protocol: 'udp' }],
      },
    ],
  };
}

let emu: Emulator;
let n = 0;

function seed() {
  n += 1;
  const cluster = `model-${n}`;
  const family = `delivery-model-${n}`;
  emu.ecs.createCluster(cluster);
  // Revision 1 is an older image, so the first run below registers revision 2.
  const first = emu.ecs.registerTaskDefinition(realistic(family, 'v1'));
  emu.ecs.createService({
    cluster,
    serviceName: 'backend',
    taskDefinition: first,
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: awsvpc,
  });
  return { cluster, family };
}

function workspaceWith(def: unknown): string {
  const ws = mkdtempSync(join(tmpdir(), 'deploy-ecs-model-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(def, null, 2));
  return ws;
}

function run(inputs: Record<string, string>, workspace: string) {
  return runBundle('deploy-ecs', {
    inputs: { 'poll-interval-seconds': '0.2', 'timeout-minutes': '0.5', ...inputs },
    env: emu.env(),
    workspace,
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  emu.ecr.putImage('delivery/backend', 'v1');
  emu.ecr.putImage('delivery/backend', 'v2');
  emu.logs.createLogGroup('/ecs/delivery-test');
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs with the shared task-definition model', () => {
  it('deploys a realistic definition twice: the second run registers no new revision although ECS returned it with defaults', async () => {
    const { cluster, family } = seed();
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const ws = workspaceWith(realistic(family, 'v2'));
    const first = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.changed).toBe('true');
    expect(first.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${family}:2$`));

    // What the next run compares against is not what the file says: the condition that used to re-register.
    const env = emu.env();
    const ecs = new ECSClient({
      region: emu.region,
      endpoint: emu.endpoint,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    const described = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).taskDefinition!;
    expect(described).toMatchObject({ cpu: '1024', memory: '2048', enableFaultInjection: false, placementConstraints: [] });
    expect(described.containerDefinitions![0]).toMatchObject({
      essential: true,
      cpu: 0,
      portMappings: [{ containerPort: 3000, hostPort: 3000, protocol: 'tcp', name: 'http' }],
      healthCheck: { interval: 30, timeout: 5, retries: 3, startPeriod: 20 },
      volumesFrom: [],
      systemControls: [],
    });

    emu.resetCounts();
    const again = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.changed).toBe('false');
    expect(again.outputs['task-definition-arn']).toBe(first.outputs['task-definition-arn']);
    expect(emu.requests().map((q) => q.operation)).not.toContain('RegisterTaskDefinition');
  });

  it('a real change still registers: the same file with another health-check interval', async () => {
    const { cluster, family } = seed();
    const def = realistic(family, 'v1');
    def.containerDefinitions[0]!.healthCheck = {
      ...def.containerDefinitions[0]!.healthCheck,
      interval: 10,
    } as (typeof def.containerDefinitions)[0]['healthCheck'];
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, workspaceWith(def));
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.changed).toBe('true');
  });

  it('typos inside a container fail before any AWS call, each with its path and the key meant', async () => {
    const { cluster, family } = seed();
    const def = realistic(family, 'v2') as { containerDefinitions: Record<string, unknown>[] };
    const c = def.containerDefinitions[0]!;
    c.portMapping = c.portMappings;
    delete c.portMappings;
    c.healthcheck = c.healthCheck;
    delete c.healthCheck;
    c.memoryReservaton = 512;
    c.essential = 'true';
    emu.resetCounts();
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, workspaceWith(def));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('has 4 problems');
    expect(r.stdout).toContain("containerDefinitions[0].portMapping: Unknown key in containerDefinitions[0]: 'portMapping'");
    expect(r.stdout).toContain("Did you mean 'portMappings'?");
    expect(r.stdout).toContain("Did you mean 'healthCheck'?");
    expect(r.stdout).toContain("Did you mean 'memoryReservation'?");
    expect(r.stdout).toMatch(
      /containerDefinitions\[0\]\.essential is the string "true"; expected a boolean \(true or false\)\. Fix: Write true without quotes\./,
    );
    expect(r.errors.join('\n')).toContain('portMapping');
    expect(emu.requests()).toEqual([]);
  });
});
