/**
 * One schedule's world: the emulator's own ECS, ECR and CloudWatch Logs models (test/emulator, the
 * semantics the e2e tests cite), driven in-process on the schedule's fake clock, seeded with the
 * schedule's services; what each service looked like before the run; which deployments our
 * requests created; and the gate's probes, answered like test/helpers/test-listener.ts (by the
 * revision behind the test listener at that moment).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmuContext } from '../../emulator/core.js';
import { EcrService } from '../../emulator/ecr.js';
import type { Deployment } from '../../emulator/ecs/deployments.js';
import { EcsService } from '../../emulator/ecs/index.js';
import type { Service } from '../../emulator/ecs/services.js';
import { LogsService } from '../../emulator/logs.js';
import { Scenarios } from '../../emulator/scenarios.js';
import type { Schedule } from './schedule.js';
import type { Exchange, FakeTime } from './wire.js';

export const CLUSTER = 'oracle';
const ACCOUNT = '123456789012';
const awsvpc = { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' } };

/** A Fargate task definition of delivery/backend:<tag> (as the e2e tests seed it). */
function taskDef(family: string, tag: string, env: Record<string, string> = {}) {
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
        image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:${tag}`,
        essential: true,
        portMappings: [{ containerPort: 8080 }],
        environment: Object.entries(env).map(([name, value]) => ({ name, value })),
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': '/ecs/delivery-test', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'backend' },
        },
      },
    ],
  };
}
const FAMILY = 'oracle-backend';

/** The new revision's file (healthy or not behind the test listener), written once per process. */
const files = (() => {
  let dir: string | undefined;
  return (healthy: boolean) => {
    dir ??= mkdtempSync(join(tmpdir(), 'deploy-ecs-oracle-'));
    const path = join(dir, healthy ? 'taskdef.json' : 'taskdef-unhealthy.json');
    writeFileSync(path, JSON.stringify(taskDef(FAMILY, 'v2', healthy ? {} : { HEALTHY: 'false' })));
    return path;
  };
})();

export interface Probe {
  service: string;
  at: number;
  /** The revision behind the test listener when the probe arrived, and whether it answered healthy. */
  revision?: string;
  healthy: boolean;
}

export class World {
  readonly ecs: EcsService;
  readonly logs: LogsService;
  readonly ecr: EcrService;
  readonly scenarios: Scenarios;
  /** Each service's last SUCCESSFUL revision when the run starts (what a failed run must leave it on). */
  readonly lastSuccessful = new Map<string, string>();
  /** Revisions that FAILED before the run. */
  readonly failedRevisions = new Set<string>();
  /** Deployments (by object) created by our requests, per service. */
  readonly ours = new Map<string, Set<Deployment>>();
  /** Task definitions our RegisterTaskDefinition calls created (a lost answer makes two). */
  readonly registered = new Set<string>();
  readonly probes: Probe[] = [];
  /** Another deployer's revision per service, where the schedule has one. */
  readonly otherRevision = new Map<string, string>();
  readonly taskDefinitionPath: string;

  constructor(
    readonly schedule: Schedule,
    /** The emulator's clock: the oracle's fake clock, or an HTTP emulator's (the bundle runs). */
    readonly time: Pick<FakeTime, 'now' | 'advance'>,
    /** The HTTP emulator's models (the bundle runs); default: new ones on `time`, in-process. */
    parts?: { ecs: EcsService; logs: LogsService; ecr: EcrService; scenarios: Scenarios },
    readonly cluster = CLUSTER,
  ) {
    const ctx: EmuContext = { region: 'eu-west-1', account: ACCOUNT, now: time.now };
    this.scenarios = parts?.scenarios ?? new Scenarios();
    this.logs = parts?.logs ?? new LogsService(ctx);
    this.ecs = parts?.ecs ?? new EcsService(ctx, this.logs, this.scenarios);
    this.ecr = parts?.ecr ?? new EcrService(ctx);
    this.ecs.services.deployer.resolveDigest = (image) => this.ecr.digestOf(image);
    for (const tag of ['v1', 'v2', 'v3', 'v9']) this.ecr.putImage('delivery/backend', tag);
    this.logs.createLogGroup('/ecs/delivery-test');
    this.ecs.createCluster(cluster);
    this.taskDefinitionPath = files(schedule.gate?.healthy ?? true);
    this.seed();
  }

  private seed(): void {
    const first = this.ecs.registerTaskDefinition(taskDef(FAMILY, 'v1'));
    const broken = this.ecs.registerTaskDefinition(taskDef(FAMILY, 'v9'));
    const third = this.ecs.registerTaskDefinition(taskDef(FAMILY, 'v3'));
    const ops = this.ecs.operations();
    for (const s of this.schedule.services) {
      this.ecs.createService({
        cluster: this.cluster,
        serviceName: s.name,
        taskDefinition: first,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: s.circuitBreakerRollback },
          strategy: s.strategy,
          bakeTimeInMinutes: 0,
          ...(s.hook
            ? {
                lifecycleHooks: [
                  {
                    targetType: 'PAUSE',
                    lifecycleStages: s.hook.stages,
                    timeoutConfiguration: { timeoutInMinutes: s.hook.timeoutInMinutes, action: s.hook.action },
                  },
                ],
              }
            : {}),
        },
      });
      this.lastSuccessful.set(s.name, first);
      if (s.failedBefore) {
        // Someone's deploy of a broken revision failed just before this run: ECS is rolling it back (either
        // shape, still in progress when the run starts) or, without circuit-breaker rollback, left it FAILED.
        const shape = s.failedBefore.shape;
        this.time.advance(60_000); // the broken deploy came a minute after the last good one
        this.scenarios.nextRollout(
          { cluster: this.cluster, service: s.name },
          {
            result: 'fail',
            afterSeconds: 3,
            circuitBreakerRollback: shape !== 'left-failed',
            ...(shape !== 'left-failed' ? { rollbackShape: shape } : {}),
            rollbackSeconds: s.failedBefore.rollbackSeconds,
          },
        );
        ops.UpdateService!({ cluster: this.cluster, service: s.name, taskDefinition: broken });
        this.time.advance(4000);
        this.failedRevisions.add(broken);
      }
      if (s.otherDeployer && s.rollout.interruptedBy) {
        if (s.otherDeployer === 'third') s.rollout.interruptedBy.taskDefinition = third;
      }
      this.scenarios.nextRollout({ cluster: this.cluster, service: s.name }, s.rollout);
    }
    // Settle what is due before the run starts (the broken deploy's failure and ECS's rollback so far).
    this.ecs.hooks.testTarget(this.cluster, this.schedule.services[0]!.name);
  }

  service(name: string): Service {
    return this.ecs.services.find(this.cluster, name)!;
  }

  /** Deployments ECS lists now, oldest first, with their rollout state. */
  visible(name: string): { d: Deployment; state: string }[] {
    const s = this.service(name);
    const now = this.time.now();
    return this.ecs.services.deployer
      .visible(s, now)
      .map((d) => ({ d, state: this.ecs.services.deployer.rolloutState(d, now).rolloutState }));
  }

  /** Before one of our writes: settle the hooks' timeline first, so what ECS did on its own is not counted as ours. */
  private snapshot?: Map<string, Set<Deployment>>;
  private latestBefore = 0;
  beforeWrite(e: Exchange): void {
    if (!WRITES.has(e.operation)) return;
    if (e.operation === 'RegisterTaskDefinition') {
      this.latestBefore = this.ecs.taskdefs.find(FAMILY)?.revision ?? 0;
      return;
    }
    this.ecs.hooks.testTarget(this.cluster, this.schedule.services[0]!.name);
    this.snapshot = new Map(this.schedule.services.map((s) => [s.name, new Set(this.service(s.name).deployments)]));
  }

  afterWrite(e: Exchange): void {
    if (e.operation === 'RegisterTaskDefinition' && e.status === 200) {
      const latest = this.ecs.taskdefs.find(FAMILY)?.revision ?? 0;
      for (let r = this.latestBefore + 1; r <= latest; r++)
        this.registered.add(this.ecs.taskdefs.find(`${FAMILY}:${r}`)!.taskDefinitionArn);
      return;
    }
    if (!this.snapshot) return;
    const now = this.time.now();
    for (const s of this.schedule.services) {
      const before = this.snapshot.get(s.name)!;
      const mine = this.ours.get(s.name) ?? new Set();
      for (const d of this.service(s.name).deployments) if (!before.has(d) && d.createdAt <= now) mine.add(d);
      this.ours.set(s.name, mine);
    }
    this.snapshot = undefined;
  }

  /** The gate's fetch: answers like the test listener (503 when the revision behind it has HEALTHY=false). */
  readonly fetch = async (url: string | URL | Request): Promise<Response> => {
    const [, service = ''] = new URL(String(url)).pathname.split('/').filter(Boolean);
    const def = this.ecs.hooks.testTarget(this.cluster, service);
    const container = def?.containerDefinitions[0] as { environment?: { name?: string; value?: string }[] } | undefined;
    const healthy = def !== undefined && !(container?.environment ?? []).some((e) => e.name === 'HEALTHY' && e.value === 'false');
    this.probes.push({ service, at: this.time.now(), revision: def?.taskDefinitionArn, healthy });
    return new Response(healthy ? 'ok' : 'unhealthy', { status: healthy ? 200 : 503 });
  };

  gateUrls(): string {
    return this.schedule.services.map((s) => `${s.name}=http://test-listener.oracle.invalid/${this.cluster}/${s.name}/health`).join('\n');
  }
}

export const WRITES = new Set(['UpdateService', 'StopServiceDeployment', 'ContinueServiceDeployment', 'RegisterTaskDefinition']);
