/** ECS task definitions: register, describe, list, deregister, and resolving `family[:rev]` / ARN references. */
import { AwsError, epochSeconds, paginate, type EmuContext, type JsonOperations } from '../core.js';

interface ContainerDefinition {
  name: string;
  image: string;
  essential?: boolean;
  cpu?: number;
  memory?: number;
  logConfiguration?: { logDriver: string; options?: Record<string, string> };
  [key: string]: unknown;
}

export interface TaskDefinition {
  family: string;
  containerDefinitions: ContainerDefinition[];
  taskDefinitionArn: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  registeredAt: number;
  deregisteredAt?: number;
  tags: { key: string; value: string }[];
  body: Record<string, unknown>;
}

const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/;

type Obj = Record<string, unknown>;

/** "1 vCPU" → "1024", "2 GB" → "2048", as ECS converts them at registration. */
function toUnits(value: unknown, unit: RegExp): unknown {
  const m = typeof value === 'string' ? unit.exec(value) : null;
  return m ? String(Math.round(Number(m[1]) * 1024)) : typeof value === 'number' ? String(value) : value;
}

/**
 * What ECS stores and DescribeTaskDefinition returns for a registered request: it does
 * not echo the request, it fills defaults. Modelled so that "register only when
 * changed" is tested against what ECS really returns (a recorded DescribeTaskDefinition answer).
 * - cpu/memory "1 vCPU" / "2 GB" → "1024" / "2048": RegisterTaskDefinition reference, cpu and
 *   memory ("String values are converted to an integer … when the task definition is registered")
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
 * - container `essential: true`, `environment: []`, `mountPoints: []`, `volumesFrom: []`:
 *   the describe-task-definition example output of the AWS CLI reference
 *   https://docs.aws.amazon.com/cli/latest/reference/ecs/describe-task-definition.html
 *   (awscli/examples/ecs/describe-task-definition.rst).
 * - container `cpu: 0`, `portMappings[].protocol: "tcp"`, awsvpc `hostPort` = `containerPort`:
 *   the values the Terraform AWS provider normalizes away because describe returns them
 *   (internal/service/ecs/task_definition_equivalency.go); PortMapping reference: "The default is tcp",
 *   and in awsvpc mode hostPort is the containerPort
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
 * - `portMappings: []`, `systemControls: []`, volumes' `configuredAtLaunch: false`: terraform-provider-aws
 *   PR #46132 (describe returns `[]` for lists never set; configuredAtLaunch false is the API default).
 * - healthCheck `interval: 30`, `timeout: 5`, `retries: 3` (startPeriod stays unset): HealthCheck reference
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html and
 *   terraform-provider-aws PR #38872 / terraform-aws-modules/terraform-aws-ecs #148.
 * - task `enableFaultInjection: false` when never set: "The default value is false"
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fault-injection.html (and API_TaskDefinition).
 * - task `volumes: []`, `placementConstraints: []` when never set: the describe output recorded in
 *   a recorded DescribeTaskDefinition answer (ECS returns `[]` for lists never set, as in terraform-provider-aws PR #46132).
 */
function fillRegisteredDefaults(input: Obj): Obj {
  const out: Obj = { ...input };
  if (out.cpu !== undefined) out.cpu = toUnits(out.cpu, /^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$/i);
  if (out.memory !== undefined) out.memory = toUnits(out.memory, /^\s*(\d+(?:\.\d+)?)\s*gb\s*$/i);
  out.volumes = ((out.volumes as Obj[] | undefined) ?? []).map((v) => ({ configuredAtLaunch: false, ...v }));
  out.placementConstraints ??= [];
  out.enableFaultInjection ??= false;
  const awsvpc = out.networkMode === 'awsvpc';
  out.containerDefinitions = ((out.containerDefinitions as Obj[] | undefined) ?? []).map((c) => {
    const filled: Obj = { cpu: 0, essential: true, environment: [], mountPoints: [], volumesFrom: [], systemControls: [], ...c };
    filled.portMappings = ((c.portMappings as Obj[] | undefined) ?? []).map((p) => ({
      protocol: 'tcp',
      ...(awsvpc && p.hostPort === undefined ? { hostPort: p.containerPort } : {}),
      ...p,
    }));
    if (c.healthCheck && typeof c.healthCheck === 'object')
      filled.healthCheck = { interval: 30, timeout: 5, retries: 3, ...(c.healthCheck as Obj) };
    return filled;
  });
  return out;
}

export class TaskDefinitions {
  private readonly byFamily = new Map<string, TaskDefinition[]>();

  constructor(private readonly ctx: EmuContext) {}

  register(input: Record<string, unknown>): TaskDefinition {
    const family = input.family;
    if (typeof family !== 'string' || !FAMILY.test(family)) {
      throw new AwsError(
        'ClientException',
        'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.',
      );
    }
    const containers = input.containerDefinitions as ContainerDefinition[] | undefined;
    if (!Array.isArray(containers) || containers.length === 0) throw new AwsError('ClientException', 'Container list cannot be empty.');
    for (const c of containers) {
      if (!c.name) throw new AwsError('ClientException', 'Container.name should not be null or empty.');
      if (!c.image) throw new AwsError('ClientException', 'Container.image should not be null or empty.');
    }
    if (!containers.some((c) => c.essential !== false))
      throw new AwsError('ClientException', 'Task definition does not have any essential container.');
    const fargate = (input.requiresCompatibilities as string[] | undefined)?.includes('FARGATE');
    if (fargate) {
      if (input.networkMode !== 'awsvpc') throw new AwsError('ClientException', "Fargate only supports network mode 'awsvpc'.");
      if (!input.cpu || !input.memory) throw new AwsError('ClientException', "Fargate requires that 'cpu' be defined at the task level.");
      const awslogs = containers.some((c) => c.logConfiguration?.logDriver === 'awslogs');
      if (awslogs && !input.executionRoleArn)
        throw new AwsError('ClientException', 'Fargate requires task definition to have execution role ARN to support log driver awslogs.');
    }
    const list = this.byFamily.get(family) ?? [];
    const revision = (list.at(-1)?.revision ?? 0) + 1;
    const { tags, ...body } = fillRegisteredDefaults(input) as Obj & { tags?: { key: string; value: string }[] };
    const def: TaskDefinition = {
      family,
      containerDefinitions: body.containerDefinitions as ContainerDefinition[],
      taskDefinitionArn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:task-definition/${family}:${revision}`,
      revision,
      status: 'ACTIVE',
      registeredAt: this.ctx.now(),
      tags: tags ?? [],
      body,
    };
    list.push(def);
    this.byFamily.set(family, list);
    return def;
  }

  /** `family` (latest ACTIVE), `family:revision` or a full ARN; throws ClientException as ECS does. */
  resolve(ref: string | undefined): TaskDefinition {
    const found = ref ? this.find(ref) : undefined;
    if (!found) throw new AwsError('ClientException', 'Unable to describe task definition.');
    return found;
  }

  find(ref: string): TaskDefinition | undefined {
    const name = ref.startsWith('arn:') ? ref.replace(/^arn:[^:]+:ecs:[^:]*:\d*:task-definition\//, '') : ref;
    const [family, rev] = name.split(':');
    const list = this.byFamily.get(family!) ?? [];
    if (rev === undefined) return list.filter((d) => d.status === 'ACTIVE').at(-1);
    return list.find((d) => d.revision === Number(rev));
  }

  view(def: TaskDefinition): Record<string, unknown> {
    const requiresCompatibilities = (def.body.requiresCompatibilities as string[] | undefined) ?? [];
    return {
      ...def.body,
      taskDefinitionArn: def.taskDefinitionArn,
      revision: def.revision,
      status: def.status,
      requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' }],
      compatibilities: requiresCompatibilities.includes('FARGATE') ? ['EC2', 'FARGATE'] : ['EC2'],
      registeredAt: epochSeconds(def.registeredAt),
      registeredBy: `arn:aws:iam::${this.ctx.account}:user/emulator`,
      ...(def.deregisteredAt ? { deregisteredAt: epochSeconds(def.deregisteredAt) } : {}),
    };
  }

  operations(): JsonOperations {
    return {
      RegisterTaskDefinition: (input: Record<string, unknown>) => {
        const def = this.register(input);
        return { taskDefinition: this.view(def), tags: def.tags };
      },
      DescribeTaskDefinition: (input: { taskDefinition: string; include?: string[] }) => {
        const def = this.resolve(input.taskDefinition);
        return { taskDefinition: this.view(def), ...(input.include?.includes('TAGS') ? { tags: def.tags } : {}) };
      },
      DeregisterTaskDefinition: (input: { taskDefinition: string }) => {
        if (!input.taskDefinition?.includes(':')) throw new AwsError('ClientException', 'A revision must be specified.');
        const def = this.resolve(input.taskDefinition);
        if (def.status === 'ACTIVE') {
          def.status = 'INACTIVE';
          def.deregisteredAt = this.ctx.now();
        }
        return { taskDefinition: this.view(def) };
      },
      ListTaskDefinitions: (input: {
        familyPrefix?: string;
        status?: string;
        sort?: 'ASC' | 'DESC';
        maxResults?: number;
        nextToken?: string;
      }) => {
        const status = input.status ?? 'ACTIVE';
        const defs = [...this.byFamily.values()]
          .flat()
          .filter((d) => (!input.familyPrefix || d.family.startsWith(input.familyPrefix)) && d.status === status)
          .sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision);
        if (input.sort === 'DESC') defs.reverse();
        const { page, nextToken } = paginate('ListTaskDefinitions', defs, {
          nextToken: input.nextToken,
          maxResults: input.maxResults,
          defaultMax: 100,
          limit: 100,
          errorCode: 'InvalidParameterException',
        });
        return { taskDefinitionArns: page.map((d) => d.taskDefinitionArn), ...(nextToken ? { nextToken } : {}) };
      },
      ListTaskDefinitionFamilies: (input: { familyPrefix?: string; maxResults?: number; nextToken?: string }) => {
        const families = [...this.byFamily.keys()].filter((f) => !input.familyPrefix || f.startsWith(input.familyPrefix)).sort();
        const { page, nextToken } = paginate('ListTaskDefinitionFamilies', families, {
          nextToken: input.nextToken,
          maxResults: input.maxResults,
          defaultMax: 100,
          limit: 100,
          errorCode: 'InvalidParameterException',
        });
        return { families: page, ...(nextToken ? { nextToken } : {}) };
      },
    };
  }
}
