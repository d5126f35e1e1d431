/**
 * Amazon ECS (awsJson1_1, target prefix `AmazonEC2ContainerServiceV20141113`):
 * clusters, task definitions, services with timed deployments, tasks.
 */
import { AwsError, paginate, type EmuContext, type JsonOperations } from '../core.js';
import type { LogsService } from '../logs.js';
import type { Scenarios, TaskScenario } from '../scenarios.js';
import { Clusters } from './clusters.js';
import { LifecycleHooks } from './lifecycle-hooks.js';
import { serviceDeploymentOperations } from './service-deployments.js';
// DescribeServiceRevisions (deploy-ecs `task-definition: previous`)
import { serviceRevisionOperations } from './service-revisions.js';
import { Services, type CreateServiceInput } from './services.js';
import { TaskDefinitions } from './taskdefs.js';
import { Tasks, type TaskPlan } from './tasks.js';

const BAD = 'InvalidParameterException';

export class EcsService {
  readonly clusters: Clusters;
  readonly taskdefs: TaskDefinitions;
  readonly tasks: Tasks;
  readonly services: Services;
  /** PAUSE hooks, lifecycle stages and ContinueServiceDeployment. */
  readonly hooks: LifecycleHooks;
  /** RunTask client tokens: `<cluster arn>/<token>` → the request (minus the token) and the tasks it started. */
  private readonly runTaskTokens = new Map<string, { params: string; at: number; taskIds: string[] }>();

  constructor(
    private readonly ctx: EmuContext,
    logs: LogsService,
    private readonly scenarios: Scenarios,
  ) {
    this.clusters = new Clusters(ctx);
    this.taskdefs = new TaskDefinitions(ctx);
    this.tasks = new Tasks(ctx, logs);
    this.services = new Services(ctx, this.clusters, this.taskdefs, this.tasks, scenarios);
    this.hooks = new LifecycleHooks(ctx, this.services);
  }

  // Seeding API (see CONTRACT.md).
  createCluster(name: string): string {
    return this.clusters.create(name).arn;
  }

  /** Accepts a RegisterTaskDefinition input (e.g. a rendered task definition file). */
  registerTaskDefinition(def: object): string {
    return this.taskdefs.register(def as Record<string, unknown>).taskDefinitionArn;
  }

  createService(input: CreateServiceInput): string {
    return this.services.create(input).arn;
  }

  /** A scale-out by Application Auto Scaling (an UpdateService of desiredCount): the new tasks run after `pendingSeconds`. */
  scaleService(cluster: string, service: string, desiredCount: number, pendingSeconds: number): void {
    const s = this.services.find(cluster, service);
    if (!s) throw new Error(`no service ${cluster}/${service}`);
    s.desiredCount = desiredCount;
    this.services.deployer.scale(s, desiredCount, this.ctx.now(), pendingSeconds * 1000);
  }

  private plan(s: TaskScenario | undefined): TaskPlan {
    const pendingMs = (s?.pendingSeconds ?? 0.5) * 1000;
    if (s?.failToStart) return { pendingMs, failToStart: s.failToStart };
    return {
      pendingMs,
      runMs: (s?.afterSeconds ?? 1) * 1000,
      exitCode: s?.exitCode ?? 0,
      logLines: s?.logLines ?? [],
      exitingContainer: s?.exitingContainer,
    };
  }

  private clusterView(name: string | undefined, include: string[] = []) {
    const c = this.clusters.find(name);
    if (!c) return undefined;
    const now = this.ctx.now();
    const live = [...this.tasks.all.values()].filter(
      (t) => t.clusterArn === c.arn && t.createdAt <= now && this.tasks.lastStatus(t, now) !== 'STOPPED',
    );
    return {
      clusterArn: c.arn,
      clusterName: c.name,
      status: c.status,
      registeredContainerInstancesCount: 0,
      runningTasksCount: live.filter((t) => this.tasks.lastStatus(t, now) === 'RUNNING').length,
      pendingTasksCount: live.filter((t) => this.tasks.lastStatus(t, now) !== 'RUNNING').length,
      activeServicesCount: this.services.all(c.arn).filter((s) => s.status === 'ACTIVE').length,
      statistics: [],
      settings: [{ name: 'containerInsights', value: 'disabled' }],
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [],
      ...(include.includes('TAGS') ? { tags: c.tags } : {}),
    };
  }

  /** Finds the tagged resource of TagResource/ListTagsForResource by ARN. */
  private tagsOf(arn: string): { key: string; value: string }[] {
    const kind = /^arn:[^:]+:ecs:[^:]*:\d*:([a-z-]+)\//.exec(arn)?.[1];
    const name = arn.split('/').pop()!;
    const found =
      kind === 'cluster'
        ? this.clusters.find(name)?.tags
        : kind === 'service'
          ? this.services.find(arn.split('/').at(-2), name)?.tags
          : kind === 'task'
            ? this.tasks.find(arn)?.tags
            : kind === 'task-definition'
              ? this.taskdefs.find(arn)?.tags
              : undefined;
    if (!found) throw new AwsError(BAD, 'The specified resource is not valid.');
    return found;
  }

  operations(): JsonOperations {
    // lifecycle hooks: wraps the operations below
    return this.hooks.wrap({
      ...this.taskdefs.operations(),
      ...this.services.operations(),
      ...serviceDeploymentOperations(this.ctx, this.clusters, this.services),
      ...serviceRevisionOperations(this.ctx, this.clusters, this.services),
      CreateCluster: (input: { clusterName?: string; tags?: { key: string; value: string }[] }) => ({
        cluster: (this.clusters.create(input.clusterName ?? 'default', input.tags), this.clusterView(input.clusterName ?? 'default')),
      }),
      DescribeClusters: (input: { clusters?: string[]; include?: string[] }) => {
        const refs = input.clusters?.length ? input.clusters : ['default'];
        if (refs.length > 100) throw new AwsError(BAD, 'clusters can have at most 100 items.');
        const clusters: unknown[] = [];
        const failures: unknown[] = [];
        for (const ref of refs) {
          const view = this.clusterView(ref, input.include);
          if (view) clusters.push(view);
          else
            failures.push({
              arn: ref.startsWith('arn:') ? ref : `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:cluster/${ref}`,
              reason: 'MISSING',
            });
        }
        return { clusters, failures };
      },
      RunTask: (input: {
        cluster?: string;
        taskDefinition: string;
        count?: number;
        launchType?: string;
        networkConfiguration?: Record<string, unknown>;
        overrides?: Record<string, unknown>;
        startedBy?: string;
        group?: string;
        tags?: { key: string; value: string }[];
        capacityProviderStrategy?: unknown[];
        clientToken?: string;
      }) => {
        const cluster = this.clusters.resolve(input.cluster);
        // Idempotency (per cluster, 24 h): the same token with the same parameters returns the
        // original tasks; with different parameters it is a ConflictException.
        const { clientToken, ...params } = input;
        const tokenKey = clientToken === undefined ? undefined : `${cluster.arn}/${clientToken}`;
        if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x21-\x7e]+$/.test(clientToken))) {
          throw new AwsError(BAD, 'clientToken must be 1-64 ASCII characters in the range 33-126.');
        }
        const earlier = tokenKey ? this.runTaskTokens.get(tokenKey) : undefined;
        if (earlier && this.ctx.now() - earlier.at < 24 * 3600_000) {
          if (earlier.params !== JSON.stringify(params))
            throw new AwsError('ConflictException', 'The client token was already used with different parameters.');
          const again = earlier.taskIds.map((id) => this.tasks.all.get(id)).filter((t) => t !== undefined);
          return { tasks: again.map((t) => this.tasks.view(t, true)), failures: [] };
        }
        const count = input.count ?? 1;
        if (!Number.isInteger(count) || count < 1 || count > 10) throw new AwsError(BAD, 'count must be between 1 and 10.');
        if (input.launchType && input.capacityProviderStrategy)
          throw new AwsError(BAD, 'Specifying both a launch type and capacity provider strategy is not supported.');
        const def = this.taskdefs.find(input.taskDefinition ?? '');
        if (!def) throw new AwsError(BAD, 'TaskDefinition not found.');
        if (def.status !== 'ACTIVE') throw new AwsError(BAD, 'TaskDefinition is inactive');
        if (def.body.networkMode === 'awsvpc' && !input.networkConfiguration) {
          throw new AwsError(BAD, "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
        }
        if (input.startedBy && input.startedBy.length > 128) throw new AwsError(BAD, 'startedBy must be at most 128 characters.');
        const now = this.ctx.now();
        const tasks = Array.from({ length: count }, () =>
          this.tasks.launch({
            clusterArn: cluster.arn,
            def,
            plan: this.plan(this.scenarios.takeTask(def.family, input.startedBy)),
            at: now,
            startedBy: input.startedBy,
            group: input.group,
            tags: input.tags,
            overrides: input.overrides,
            launchType: input.launchType ?? (input.capacityProviderStrategy ? undefined : 'FARGATE'),
            networkConfiguration: input.networkConfiguration,
          }),
        );
        if (tokenKey) this.runTaskTokens.set(tokenKey, { params: JSON.stringify(params), at: now, taskIds: tasks.map((t) => t.id) });
        return { tasks: tasks.map((t) => this.tasks.view(t, true)), failures: [] };
      },
      DescribeTasks: (input: { cluster?: string; tasks: string[]; include?: string[] }) => {
        const cluster = this.clusters.resolve(input.cluster);
        if (!Array.isArray(input.tasks) || input.tasks.length === 0) throw new AwsError(BAD, 'Tasks cannot be empty.');
        if (input.tasks.length > 100) throw new AwsError(BAD, 'tasks can have at most 100 items.');
        const tasks: unknown[] = [];
        const failures: unknown[] = [];
        for (const ref of input.tasks) {
          const t = this.tasks.find(ref);
          if (t && t.clusterArn === cluster.arn) tasks.push(this.tasks.view(t, input.include?.includes('TAGS')));
          else
            failures.push({
              arn: ref.startsWith('arn:') ? ref : `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:task/${cluster.name}/${ref}`,
              reason: 'MISSING',
            });
        }
        return { tasks, failures };
      },
      StopTask: (input: { cluster?: string; task: string; reason?: string }) => {
        const cluster = this.clusters.resolve(input.cluster);
        const t = input.task ? this.tasks.find(input.task) : undefined;
        if (!t || t.clusterArn !== cluster.arn) throw new AwsError(BAD, 'The referenced task was not found.');
        const now = this.ctx.now();
        if (this.tasks.lastStatus(t, now) !== 'STOPPED') this.tasks.stop(t, now, 'UserInitiated', input.reason ?? 'Task stopped by user');
        return { task: this.tasks.view(t, true) };
      },
      ListTasks: (input: {
        cluster?: string;
        family?: string;
        serviceName?: string;
        startedBy?: string;
        desiredStatus?: string;
        launchType?: string;
        maxResults?: number;
        nextToken?: string;
      }) => {
        const cluster = this.clusters.resolve(input.cluster);
        if (input.family && input.serviceName) throw new AwsError(BAD, 'family and serviceName cannot both be specified.');
        if (input.serviceName && !this.services.find(cluster.arn, input.serviceName))
          throw new AwsError('ServiceNotFoundException', 'Service not found.');
        const desired = input.desiredStatus ?? 'RUNNING';
        const now = this.ctx.now();
        const arns = [...this.tasks.all.values()]
          .filter((t) => t.clusterArn === cluster.arn && t.createdAt <= now && !this.tasks.gone(t, now))
          .filter((t) =>
            desired === 'PENDING'
              ? ['PROVISIONING', 'PENDING'].includes(this.tasks.lastStatus(t, now))
              : this.tasks.desiredStatus(t, now) === desired,
          )
          .filter((t) => (!input.family || t.def.family === input.family) && (!input.startedBy || t.startedBy === input.startedBy))
          .filter((t) => !input.serviceName || t.group === `service:${input.serviceName.split('/').pop()}`)
          .filter((t) => !input.launchType || t.launchType === input.launchType)
          .map((t) => t.arn);
        const { page, nextToken } = paginate(`ListTasks:${cluster.arn}`, arns, {
          nextToken: input.nextToken,
          maxResults: input.maxResults,
          defaultMax: 100,
          limit: 100,
          errorCode: BAD,
        });
        return { taskArns: page, ...(nextToken ? { nextToken } : {}) };
      },
      TagResource: (input: { resourceArn: string; tags: { key: string; value: string }[] }) => {
        const tags = this.tagsOf(input.resourceArn);
        for (const tag of input.tags ?? []) {
          const i = tags.findIndex((t) => t.key === tag.key);
          if (i >= 0) tags[i] = tag;
          else tags.push(tag);
        }
        return {};
      },
      ListTagsForResource: (input: { resourceArn: string }) => ({ tags: this.tagsOf(input.resourceArn) }),
    });
  }
}
