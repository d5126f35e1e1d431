/** ECS services: CreateService, UpdateService, DescribeServices, ListServices (+ the seeding form of CreateService). */
import { AwsError, epochSeconds, paginate, type EmuContext, type JsonOperations } from '../core.js';
import type { Scenarios } from '../scenarios.js';
import { Deployer, type DeployTarget } from './deployments.js';
import type { Clusters } from './clusters.js';
import type { TaskDefinitions } from './taskdefs.js';
import type { Tasks } from './tasks.js';

export interface CreateServiceInput {
  cluster?: string;
  serviceName: string;
  taskDefinition: string;
  desiredCount?: number;
  launchType?: string;
  capacityProviderStrategy?: unknown[];
  platformVersion?: string;
  networkConfiguration?: Record<string, unknown>;
  deploymentConfiguration?: {
    deploymentCircuitBreaker?: { enable: boolean; rollback: boolean };
    maximumPercent?: number;
    minimumHealthyPercent?: number;
    strategy?: string;
    /** lifecycleHooks, bakeTimeInMinutes, linear/canaryConfiguration: see lifecycle-hooks.ts. */
    [key: string]: unknown;
  };
  tags?: { key: string; value: string }[];
  /** ECS (default) or CODE_DEPLOY. */
  deploymentController?: { type: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL' };
  [key: string]: unknown;
}

export interface Service extends DeployTarget {
  arn: string;
  clusterName: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  createdAt: number;
  input: CreateServiceInput;
  deploymentConfiguration: Record<string, unknown>;
  tags: { key: string; value: string }[];
}

const BAD = 'InvalidParameterException';

export class Services {
  readonly deployer: Deployer;
  /** Keyed by cluster ARN, then service name. */
  private readonly byCluster = new Map<string, Map<string, Service>>();

  constructor(
    private readonly ctx: EmuContext,
    private readonly clusters: Clusters,
    private readonly taskdefs: TaskDefinitions,
    tasks: Tasks,
    private readonly scenarios: Scenarios,
  ) {
    this.deployer = new Deployer(tasks);
  }

  all(clusterArn: string): Service[] {
    return [...(this.byCluster.get(clusterArn)?.values() ?? [])];
  }

  private taskDef(ref: string | undefined) {
    const def = ref ? this.taskdefs.find(ref) : undefined;
    if (!def) throw new AwsError('ClientException', 'TaskDefinition not found.');
    if (def.status !== 'ACTIVE') throw new AwsError(BAD, `TaskDefinition is inactive`);
    return def;
  }

  create(input: CreateServiceInput): Service {
    const cluster = this.clusters.resolve(input.cluster);
    if (!input.serviceName) throw new AwsError(BAD, 'serviceName is required.');
    const def = this.taskDef(input.taskDefinition);
    const services = this.byCluster.get(cluster.arn) ?? new Map<string, Service>();
    const existing = services.get(input.serviceName);
    if (existing && existing.status !== 'INACTIVE') throw new AwsError(BAD, 'Creation of service was not idempotent.');
    if (def.body.networkMode === 'awsvpc' && !input.networkConfiguration) {
      throw new AwsError(BAD, "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    }
    const cb = input.deploymentConfiguration?.deploymentCircuitBreaker ?? { enable: false, rollback: false };
    const now = this.ctx.now();
    const service: Service = {
      name: input.serviceName,
      arn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:service/${cluster.name}/${input.serviceName}`,
      clusterArn: cluster.arn,
      clusterName: cluster.name,
      status: 'ACTIVE',
      desiredCount: input.desiredCount ?? 1,
      createdAt: now,
      input,
      launchType: input.capacityProviderStrategy ? '' : (input.launchType ?? 'FARGATE'),
      networkConfiguration: input.networkConfiguration,
      circuitBreakerRollback: cb.enable && cb.rollback,
      deploymentConfiguration: {
        deploymentCircuitBreaker: cb,
        maximumPercent: input.deploymentConfiguration?.maximumPercent ?? 200,
        minimumHealthyPercent: input.deploymentConfiguration?.minimumHealthyPercent ?? 100,
        strategy: input.deploymentConfiguration?.strategy ?? 'ROLLING',
      },
      deployments: [],
      events: [],
      revisions: 0,
      tags: input.tags ?? [],
    };
    services.set(service.name, service);
    this.byCluster.set(cluster.arn, services);
    this.deployer.initial(service, def, service.desiredCount, now);
    return service;
  }

  find(clusterRef: string | undefined, ref: string): Service | undefined {
    const cluster = this.clusters.resolve(clusterRef);
    const name = ref.startsWith('arn:') ? ref.split('/').pop()! : ref;
    return this.byCluster.get(cluster.arn)?.get(name);
  }

  view(s: Service, includeTags = false): Record<string, unknown> {
    const now = this.ctx.now();
    const visible = this.deployer.visible(s, now);
    const deployments = visible.map((d, i) => this.deployer.view(s, d, i === visible.length - 1, now)).reverse();
    const primary = visible.at(-1);
    const counts = visible.map((d) => this.deployer.counts(d, now));
    const { input } = s;
    return {
      serviceArn: s.arn,
      serviceName: s.name,
      clusterArn: s.clusterArn,
      loadBalancers: input.loadBalancers ?? [],
      serviceRegistries: input.serviceRegistries ?? [],
      status: s.status,
      desiredCount: s.desiredCount,
      runningCount: counts.reduce((n, c) => n + c.running, 0),
      pendingCount: counts.reduce((n, c) => n + c.pending, 0),
      ...(s.launchType ? { launchType: s.launchType } : { capacityProviderStrategy: input.capacityProviderStrategy }),
      platformVersion: input.platformVersion ?? 'LATEST',
      platformFamily: 'Linux',
      taskDefinition: primary?.def.taskDefinitionArn,
      deploymentConfiguration: s.deploymentConfiguration,
      deployments,
      // Newest first; among events of the same millisecond, the later-written first.
      events: [...s.events]
        .reverse()
        .filter((e) => e.createdAt <= now)
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, 100)
        .map((e) => ({ id: e.id, createdAt: epochSeconds(e.createdAt), message: e.message })),
      createdAt: epochSeconds(s.createdAt),
      placementConstraints: [],
      placementStrategy: [],
      ...(s.networkConfiguration ? { networkConfiguration: s.networkConfiguration } : {}),
      schedulingStrategy: 'REPLICA',
      // CODE_DEPLOY services are deployed by CodeDeploy (test/emulator/codedeploy.ts), API_DeploymentController.html.
      deploymentController: input.deploymentController ?? { type: 'ECS' },
      createdBy: `arn:aws:iam::${this.ctx.account}:user/emulator`,
      enableECSManagedTags: false,
      propagateTags: 'NONE',
      enableExecuteCommand: false,
      availabilityZoneRebalancing: 'ENABLED',
      ...(includeTags ? { tags: s.tags } : {}),
    };
  }

  operations(): JsonOperations {
    return {
      CreateService: (input: CreateServiceInput) => ({ service: this.view(this.create(input)) }),
      DescribeServices: (input: { cluster?: string; services: string[]; include?: string[] }) => {
        const cluster = this.clusters.resolve(input.cluster);
        if (!Array.isArray(input.services) || input.services.length === 0) throw new AwsError(BAD, 'Services cannot be empty.');
        if (input.services.length > 10) throw new AwsError(BAD, 'service names can have at most 10 items.');
        const services: unknown[] = [];
        const failures: unknown[] = [];
        for (const ref of input.services) {
          const s = this.find(cluster.arn, ref);
          if (s) services.push(this.view(s, input.include?.includes('TAGS')));
          else
            failures.push({
              arn: ref.startsWith('arn:') ? ref : `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:service/${cluster.name}/${ref}`,
              reason: 'MISSING',
            });
        }
        return { services, failures };
      },
      ListServices: (input: { cluster?: string; maxResults?: number; nextToken?: string; launchType?: string }) => {
        const cluster = this.clusters.resolve(input.cluster);
        const arns = this.all(cluster.arn)
          .filter((s) => s.status === 'ACTIVE' && (!input.launchType || s.launchType === input.launchType))
          .map((s) => s.arn);
        const { page, nextToken } = paginate(`ListServices:${cluster.arn}`, arns, {
          nextToken: input.nextToken,
          maxResults: input.maxResults,
          defaultMax: 10,
          limit: 100,
          errorCode: BAD,
        });
        return { serviceArns: page, ...(nextToken ? { nextToken } : {}) };
      },
      UpdateService: (input: {
        cluster?: string;
        service: string;
        desiredCount?: number;
        taskDefinition?: string;
        forceNewDeployment?: boolean;
        deploymentConfiguration?: CreateServiceInput['deploymentConfiguration'];
        networkConfiguration?: Record<string, unknown>;
      }) => {
        const cluster = this.clusters.resolve(input.cluster);
        const s = input.service ? this.find(cluster.arn, input.service) : undefined;
        if (!s) throw new AwsError('ServiceNotFoundException', 'Service not found.');
        if (s.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
        if (input.desiredCount !== undefined && (!Number.isInteger(input.desiredCount) || input.desiredCount < 0)) {
          throw new AwsError(BAD, 'desiredCount must be a non-negative integer.');
        }
        // "If your service uses the CODE_DEPLOY deployment controller, only the desired count, deployment
        // configuration, health check grace period, task placement constraints and strategies, enable ECS
        // managed tags option, and propagate tags can be updated" (API_UpdateService.html).
        if (
          (s.input.deploymentController as { type?: string } | undefined)?.type === 'CODE_DEPLOY' &&
          (input.taskDefinition || input.networkConfiguration || input.forceNewDeployment)
        ) {
          throw new AwsError(
            BAD,
            'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
          );
        }
        const def = input.taskDefinition ? this.taskDef(input.taskDefinition) : undefined;
        const now = this.ctx.now();
        if (input.deploymentConfiguration) {
          Object.assign(s.deploymentConfiguration, input.deploymentConfiguration);
          const cb = input.deploymentConfiguration.deploymentCircuitBreaker;
          if (cb) s.circuitBreakerRollback = cb.enable && cb.rollback;
        }
        if (input.networkConfiguration) s.networkConfiguration = input.networkConfiguration;
        if (input.desiredCount !== undefined) s.desiredCount = input.desiredCount;
        const primary = this.deployer.visible(s, now).at(-1);
        const newDef = def && def.taskDefinitionArn !== primary?.def.taskDefinitionArn;
        if (newDef || input.forceNewDeployment || input.networkConfiguration) {
          const scenario = this.scenarios.takeRollout(s.clusterName, s.name);
          const d = this.deployer.update(s, def ?? primary!.def, s.desiredCount, now, scenario);
          d.rollbackSeconds = scenario?.rollbackSeconds;
          const other = scenario?.interruptedBy;
          if (other) {
            // Another deployer's UpdateService, planned now for later: "If you update a service while
            // a deployment is in progress, Amazon ECS starts a new deployment and stops the one in
            // progress" (service deployment statusReason "stopped because service deployment … started",
            // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html).
            const theirs = other.taskDefinition ? this.taskDef(other.taskDefinition) : d.def;
            this.deployer.update(s, theirs, s.desiredCount, now + other.afterSeconds * 1000, {
              result: 'success',
              afterSeconds: other.rolloutSeconds ?? 1,
            });
          }
        } else if (input.desiredCount !== undefined) {
          this.deployer.scale(s, input.desiredCount, now);
        }
        return { service: this.view(s) };
      },
    };
  }
}
