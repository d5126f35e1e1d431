/** Shared seeding for the deploy-ecs e2e files (each file has its own emulator, so files run in parallel). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServicesCommand, ECSClient, type Service } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle, type RunOptions } from '../helpers/run-bundle.js';

export const ACCOUNT = '123456789012';
export const IMAGE = (tag: string) => `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:${tag}`;
export const awsvpc = {
  awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' },
};

export function taskDef(family: string, tag: string, env: Record<string, string> = {}, extra: object[] = []) {
  return {
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/delivery-test-ecs-execution`,
    containerDefinitions: [
      {
        name: 'backend',
        image: IMAGE(tag),
        essential: true,
        portMappings: [{ containerPort: 8080 }],
        environment: Object.entries(env).map(([name, value]) => ({ name, value })),
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': '/ecs/delivery-test', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'backend' },
        },
      },
      ...extra,
    ],
  };
}

/** An emulator (no S3) with images v1–v3 of delivery/backend in ECR and the task definitions' log group. */
export async function startDeployEmulator(): Promise<Emulator> {
  const emu = await startEmulator({ s3: false });
  for (const tag of ['v1', 'v2', 'v3']) emu.ecr.putImage('delivery/backend', tag);
  emu.logs.createLogGroup('/ecs/delivery-test');
  return emu;
}

export type Strategy = 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY';

export class Seeder {
  private n = 0;
  constructor(
    private readonly emu: () => Emulator,
    private readonly prefix: string,
  ) {}

  /** A fresh cluster + services, all steady on revision 1 of their own family; `deployment` adds to each service's deploymentConfiguration. */
  seed(services: string[], opts: { circuitBreakerRollback?: boolean; strategy?: Strategy; deployment?: object } = {}) {
    this.n += 1;
    const emu = this.emu();
    const cluster = `${this.prefix}-${this.n}`;
    const family = `${this.prefix}-backend-${this.n}`;
    emu.ecs.createCluster(cluster);
    const first = emu.ecs.registerTaskDefinition(taskDef(family, 'v1'));
    for (const serviceName of services) {
      emu.ecs.createService({
        cluster,
        serviceName,
        taskDefinition: first,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: opts.circuitBreakerRollback ?? false },
          strategy: opts.strategy ?? 'ROLLING',
          ...opts.deployment,
        },
      });
    }
    return { cluster, family, first, n: this.n };
  }
}

export function workspaceWith(def: unknown): string {
  const ws = mkdtempSync(join(tmpdir(), 'deploy-ecs-ws-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(def, null, 2));
  return ws;
}

const fast = { 'poll-interval-seconds': '0.2', 'timeout-minutes': '0.5' };

export function runDeploy(emu: Emulator, inputs: Record<string, string>, workspace?: string, extra: Partial<RunOptions> = {}) {
  return runBundle('deploy-ecs', { inputs: { ...fast, ...inputs }, env: emu.env(), workspace, timeoutMs: 60_000, ...extra });
}

export async function describe(emu: Emulator, cluster: string, names: string[]): Promise<Service[]> {
  const env = emu.env();
  const ecs = new ECSClient({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: names }));
  return names.map((name) => out.services!.find((s) => s.serviceName === name)!);
}

/**
 * Resolves once the emulator has answered `count` calls of `operation` (e.g. our UpdateService).
 * The bound only turns a call that never comes into a readable error before the test's own 60 s
 * timeout; a busy machine's slow bundle start-up must not trip it.
 */
export async function whenCalled(emu: Emulator, operation: string, count = 1, timeoutMs = 50_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((emu.counts()[operation] ?? 0) < count) {
    if (Date.now() > until) throw new Error(`${operation} was not called ${count} time(s)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The operations (ECS.X) the emulator saw, in order. */
export const ops = (emu: Emulator) => emu.requests().map((q) => `${q.service}.${q.operation}`);
