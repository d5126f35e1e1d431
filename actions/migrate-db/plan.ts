import type { ContainerDefinition, RunTaskCommandInput, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { ActionError, aggregate } from '../../lib/errors.js';
import { clientToken, defaultStartedBy, runTags, type RunIdentity } from './identity.js';
import type { MigrateInputs } from './inputs.js';

/**
 * Pure planning: from the inputs, the service (if any) and the task
 * definition, decide the exact RunTask request. Every problem a user can fix
 * is found here, before any write call.
 */

export interface AwsLogsTarget {
  group: string;
  region?: string;
  prefix: string;
  container: string;
}

export interface RunPlan {
  request: RunTaskCommandInput & { cluster: string; taskDefinition: string; clientToken: string; startedBy: string };
  container: string;
  family: string;
  /** Where the container's awslogs driver writes; undefined when it has no awslogs configuration. */
  logs?: AwsLogsTarget;
  warnings: string[];
}

export interface PlanContext {
  inputs: MigrateInputs;
  service?: Service;
  taskDefinition: TaskDefinition;
  /** The ARN (or, for a dry run of a file that would be registered, a placeholder). */
  taskDefinitionRef: string;
  identity: RunIdentity;
}

/** The container to judge: the named one, or the only essential one (ECS defaults `essential` to true). */
export function pickContainer(def: TaskDefinition, wanted: string | undefined): ContainerDefinition {
  const all = def.containerDefinitions ?? [];
  const names = all.map((c) => c.name ?? '?');
  if (wanted !== undefined) {
    const found = all.find((c) => c.name === wanted);
    if (!found) {
      throw new ActionError(
        `Container '${wanted}' is not in task definition ${def.family ?? ''} (containers: ${names.join(', ') || 'none'}).`,
        {
          input: 'container',
          fix: `Set container: to one of ${names.join(', ')}.`,
        },
      );
    }
    // A non-essential container's exit does not end the task (ContainerDefinition `essential`): the
    // task would keep running on its other containers and the run would wait until timeout-minutes.
    if (found.essential === false) {
      const where = def.taskDefinitionArn ?? def.family ?? 'the task definition';
      throw new ActionError(
        `Container '${wanted}' is not essential in task definition ${where} ("essential": false): its exit does not end the task, so ` +
          `the run would wait until timeout-minutes.`,
        {
          input: 'container',
          fix: `Set "essential": true on container '${wanted}' in the task definition, or set container: to an essential container.`,
        },
      );
    }
    return found;
  }
  if (all.length === 1) return all[0]!;
  const essential = all.filter((c) => c.essential !== false);
  if (essential.length === 1) return essential[0]!;
  throw new ActionError(
    `Task definition ${def.family ?? ''} has ${essential.length} essential containers (${essential.map((c) => c.name).join(', ')}); ` +
      `which one runs the migration?`,
    { input: 'container', fix: `Set container: to one of ${names.join(', ')}.` },
  );
}

function awslogsTarget(container: ContainerDefinition): AwsLogsTarget | undefined {
  const cfg = container.logConfiguration;
  if (cfg?.logDriver !== 'awslogs') return undefined;
  const group = cfg.options?.['awslogs-group'];
  const prefix = cfg.options?.['awslogs-stream-prefix'];
  // Without a prefix the stream is named after the Docker container id, which the API never returns.
  if (!group || !prefix) return undefined;
  return { group, prefix, region: cfg.options?.['awslogs-region'], container: container.name ?? '' };
}

/** `<awslogs-stream-prefix>/<container>/<task-id>`, the name the awslogs driver gives the stream on ECS. */
export function logStreamName(target: AwsLogsTarget, taskArn: string): string {
  return `${target.prefix}/${target.container}/${taskArn.split('/').pop()}`;
}

export function planRun(ctx: PlanContext): RunPlan {
  const { inputs, service, taskDefinition: def } = ctx;
  const problems: ActionError[] = [];
  const warnings: string[] = [];

  let container: ContainerDefinition | undefined;
  try {
    container = pickContainer(def, inputs.container);
  } catch (err) {
    problems.push(err as ActionError);
  }

  const base = service?.networkConfiguration?.awsvpcConfiguration;
  const subnets = inputs.subnets.length > 0 ? inputs.subnets : (base?.subnets ?? []);
  const securityGroups = inputs.securityGroups.length > 0 ? inputs.securityGroups : (base?.securityGroups ?? []);
  const assignPublicIp = inputs.assignPublicIp ?? base?.assignPublicIp;
  const awsvpc = def.networkMode === 'awsvpc' || (def.networkMode === undefined && (def.requiresCompatibilities ?? []).includes('FARGATE'));
  if (awsvpc && subnets.length === 0) {
    problems.push(
      new ActionError(
        service
          ? `Service '${service.serviceName}' has no awsvpc network configuration to copy, and no subnets were given.`
          : `Task definition ${def.family} uses awsvpc networking, but no service was given to copy the network configuration from and no subnets were given.`,
        { input: 'subnets', fix: 'Set service: to copy its network configuration, or set subnets: (and security-groups:).' },
      ),
    );
  }
  if (problems.length > 0) throw aggregate('migrate-db cannot plan the task', problems);
  const target = container!;
  const name = target.name!;

  const logs = awslogsTarget(target);
  if (!logs)
    warnings.push(
      `Container '${name}' has no awslogs log configuration with a stream prefix: its output cannot be streamed into this log.`,
    );

  const startedBy = inputs.startedBy ?? defaultStartedBy(service?.serviceName ?? def.family ?? 'task');
  const token = clientToken(ctx.identity, {
    cluster: inputs.cluster,
    service: service?.serviceName,
    container: name,
    command: inputs.command,
  });

  const request: RunPlan['request'] = {
    cluster: inputs.cluster,
    taskDefinition: ctx.taskDefinitionRef,
    count: 1,
    startedBy,
    clientToken: token,
    tags: runTags(ctx.identity, token),
    overrides: {
      containerOverrides: [
        {
          name,
          ...(inputs.command ? { command: inputs.command } : {}),
          ...(inputs.environment.size > 0 ? { environment: [...inputs.environment].map(([k, v]) => ({ name: k, value: v })) } : {}),
        },
      ],
    },
  };
  if (awsvpc) {
    request.networkConfiguration = {
      awsvpcConfiguration: {
        subnets,
        ...(securityGroups.length > 0 ? { securityGroups } : {}),
        ...(assignPublicIp ? { assignPublicIp } : {}),
      },
    };
  }
  if (service?.capacityProviderStrategy?.length) {
    request.capacityProviderStrategy = service.capacityProviderStrategy;
  } else if (service?.launchType) {
    request.launchType = service.launchType;
  } else if (!service && (def.requiresCompatibilities ?? []).includes('FARGATE')) {
    request.launchType = 'FARGATE';
  }
  // Without a service the cluster's default capacity provider strategy applies.
  if (service?.platformVersion && (request.launchType === 'FARGATE' || request.capacityProviderStrategy)) {
    request.platformVersion = service.platformVersion;
  }
  return { request, container: name, family: def.family ?? '', logs, warnings };
}

/** The task's page in the ECS console: printed as soon as the task exists. */
export function consoleUrl(region: string, cluster: string, taskArn: string): string {
  const clusterName = cluster.split('/').pop();
  const taskId = taskArn.split('/').pop();
  return `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${clusterName}/tasks/${taskId}/configuration?region=${region}`;
}
