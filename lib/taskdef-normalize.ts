/**
 * The canonical form of a task definition, so that what DescribeTaskDefinition
 * returns compares equal to the file that registered it. ECS does not echo the
 * request: it fills defaults, converts units and may reorder lists. Each rule
 * below names its evidence; NOTES.md ("Task-definition defaults ECS fills") has the list.
 *
 * Sources:
 * [TF]   hashicorp/terraform-provider-aws internal/service/ecs/task_definition_equivalency.go
 *        (ContainerDefinitionsAreEquivalent → Reduce: cpu 0 → unset, essential unset → true,
 *        protocol "tcp" → unset, hostPort 0 → unset, awsvpc hostPort unset → containerPort,
 *        empty slices → nil; env and secrets sorted by name, containers sorted by name,
 *        "fields which may be re-ordered in the API").
 * [TF-HC] terraform-provider-aws PR #38872 "Normalize aws_ecs_task_definition healthCheck"
 *        and terraform-aws-modules/terraform-aws-ecs #148/#149: describe returns
 *        interval 30, retries 3, timeout 5 when the file had none.
 * [TF-EMPTY] terraform-provider-aws PR #46132: describe returns `[]` for mountPoints,
 *        volumesFrom, systemControls never set; volumes' configuredAtLaunch false is the API default.
 * [HC]   AWS API reference, HealthCheck: "interval … The default value is 30 seconds",
 *        "timeout … default value is 5", "retries … default value is 3"; startPeriod has
 *        no default ("disabled"), so it is left alone.
 *        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
 * [UNITS] AWS API reference, RegisterTaskDefinition cpu/memory: "'1 vCPU' or '1 vcpu' …
 *        String values are converted to an integer indicating the CPU units when the task
 *        definition is registered"; memory "'1GB' or '1 GB' … converted to an integer
 *        indicating the MiB". kayac/ecspresso diff.go toNumberCPU/toNumberMemory does the same.
 * [CLI]  aws-cli awscli/examples/ecs/describe-task-definition.rst: the example output has
 *        `"environment": []`, `"mountPoints": []`, `"volumesFrom": []`, `"essential": true`.
 * [ECSPRESSO] kayac/ecspresso diff.go sortTaskDefinition: sorts environment, secrets,
 *        mountPoints, portMappings, volumesFrom, placementConstraints,
 *        requiresCompatibilities, volumes, tags, containerDefinitions (by name),
 *        proxyConfiguration.properties before comparing.
 * [GHA]  aws-actions/amazon-ecs-deploy-task-definition index.js: drops null/empty values
 *        (cleanNullKeys) and gives `{name}` environment entries `value: ""` (maintainValidObjects).
 * [FIS]  AWS ECS developer guide, "Use fault injection with your Amazon ECS and Fargate workloads"
 *        and the API reference TaskDefinition: enableFaultInjection "The default value is false".
 *        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fault-injection.html
 * `placementConstraints: []`/`volumes: []` for definitions that never set them: the recorded
 * describe output of a recorded DescribeTaskDefinition answer (empty lists, like [TF-EMPTY]).
 */
import type { Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { READ_ONLY_KEYS } from './ecs-shapes.js';

type Obj = Record<string, unknown>;
type AnyTaskDefinition = Obj | TaskDefinition;

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Healthcheck values ECS fills when the file leaves them out [HC][TF-HC]. */
const HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3 } as const;

/** "1 vCPU" → "1024", "0.5 vcpu" → "512" [UNITS]; anything else is kept as written. */
export function normalizeCpu(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$/i.exec(value) : null;
  return m ? String(Math.round(Number(m[1]) * 1024)) : value;
}

/** "2 GB" → "2048", "0.5GB" → "512" [UNITS]; anything else is kept as written. */
export function normalizeMemory(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*gb\s*$/i.exec(value) : null;
  return m ? String(Math.round(Number(m[1]) * 1024)) : value;
}

/**
 * Lists whose order ECS may change or does not care about, with the key to sort by
 * (`null`: the JSON of the item). Only lists the evidence names [TF][ECSPRESSO]; a list
 * left out here compares in order, which at worst registers one revision too many.
 */
const UNORDERED: Record<string, string | null> = {
  containerDefinitions: 'name',
  environment: 'name',
  secrets: 'name',
  tags: 'key',
  mountPoints: null,
  portMappings: null,
  volumesFrom: null,
  placementConstraints: null,
  requiresCompatibilities: null,
  volumes: null,
};

function sortKey(item: unknown, by: string | null): string {
  if (by && isRecord(item)) return String(item[by] ?? '');
  return JSON.stringify(item);
}

/** Drops null/undefined, empty lists and empty objects [TF][TF-EMPTY][GHA]; sorts keys and unordered lists. Strings, even empty, stay. */
function prune(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => prune(v)).filter((v) => v !== undefined);
    if (items.length === 0) return undefined;
    if (key in UNORDERED) {
      const by = UNORDERED[key]!;
      items.sort((a, b) => {
        const x = sortKey(a, by);
        const y = sortKey(b, by);
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    return items;
  }
  if (isRecord(value)) {
    const out: Obj = {};
    for (const k of Object.keys(value).sort()) {
      const v = prune(value[k], k);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null ? undefined : value;
}

/** Container values ECS fills in at registration, removed so both sides agree. */
function dropContainerDefaults(container: Obj, networkMode: unknown): Obj {
  const c = { ...container };
  if (c.essential === true) delete c.essential; // [TF] unset means true; [CLI]
  if (c.cpu === 0) delete c.cpu; // [TF]
  if (Array.isArray(c.environment)) {
    // `{name}` without value registers as an empty value [GHA]; empty values are meaningful and stay.
    c.environment = c.environment.map((e) => (isRecord(e) ? { ...e, value: e.value ?? '' } : e));
  }
  if (Array.isArray(c.portMappings)) {
    c.portMappings = c.portMappings.map((p) => {
      if (!isRecord(p)) return p;
      const m = { ...p };
      if (m.protocol === 'tcp') delete m.protocol; // [TF]
      if (m.hostPort === 0) delete m.hostPort; // [TF]: 0 means "dynamic" (bridge)
      if (networkMode === 'awsvpc' && m.hostPort === m.containerPort) delete m.hostPort; // [TF][ECSPRESSO]
      return m;
    });
  }
  if (isRecord(c.healthCheck)) {
    const h = { ...c.healthCheck };
    for (const [k, d] of Object.entries(HEALTH_CHECK_DEFAULTS)) if (h[k] === d) delete h[k]; // [HC][TF-HC]
    c.healthCheck = h;
  }
  return c;
}

/**
 * The canonical form of a task definition: read-only keys stripped, ECS defaults
 * and empties dropped, units converted, unordered lists sorted, object keys sorted.
 * Two definitions ECS treats as the same have the same normalized JSON.
 */
export function normalizeTaskDefinition(def: AnyTaskDefinition, tags?: Tag[]): Obj {
  const raw: Obj = { ...(def as Obj) };
  for (const k of READ_ONLY_KEYS) delete raw[k];
  if (tags !== undefined) raw.tags = tags;
  if (raw.enableFaultInjection === false) delete raw.enableFaultInjection; // [FIS]: false is the default describe echoes
  if (raw.cpu !== undefined) raw.cpu = normalizeCpu(raw.cpu);
  if (raw.memory !== undefined) raw.memory = normalizeMemory(raw.memory);
  if (Array.isArray(raw.volumes)) {
    raw.volumes = raw.volumes.map((v) => (isRecord(v) && v.configuredAtLaunch === false ? { ...v, configuredAtLaunch: undefined } : v)); // [TF-EMPTY]
  }
  if (Array.isArray(raw.containerDefinitions)) {
    raw.containerDefinitions = raw.containerDefinitions.map((c) => (isRecord(c) ? dropContainerDefaults(c, raw.networkMode) : c));
  }
  return (prune(raw) as Obj | undefined) ?? {};
}

export function taskDefinitionsEqual(a: AnyTaskDefinition, b: AnyTaskDefinition, tagsA?: Tag[], tagsB?: Tag[]): boolean {
  return JSON.stringify(normalizeTaskDefinition(a, tagsA)) === JSON.stringify(normalizeTaskDefinition(b, tagsB));
}
