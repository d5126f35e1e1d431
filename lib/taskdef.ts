/**
 * Task-definition helpers shared by render-taskdef, deploy-ecs and migrate-db:
 * reading a file into a RegisterTaskDefinition request, comparing two
 * definitions the way ECS does, a readable diff, and register-only-if-changed.
 */
import { readFileSync } from 'node:fs';
import {
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ActionError } from './errors.js';

/**
 * Keys that `DescribeTaskDefinition` returns but `RegisterTaskDefinition`
 * rejects. Stripping them lets the output of
 * `aws ecs describe-task-definition` serve as a template or an input.
 */
export const READ_ONLY_KEYS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
] as const;

export function stripReadOnly<T extends Record<string, unknown>>(def: T): T {
  const out: Record<string, unknown> = { ...def };
  for (const key of READ_ONLY_KEYS) delete out[key];
  return out as T;
}

/** Top-level keys of the RegisterTaskDefinition request (SDK v3 shape). */
export const REGISTER_KEYS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'tags',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const;

export type TaskDefinitionInput = RegisterTaskDefinitionCommandInput;

/**
 * Validates a parsed JSON value as a RegisterTaskDefinition request. Accepts
 * the request shape, a describe output's `taskDefinition` object (read-only keys
 * stripped), or the whole `describe-task-definition` response `{taskDefinition, tags}`.
 * Every problem names the file and key; all are reported at once.
 */
export function parseTaskDefinition(value: unknown, where: { file?: string; input?: string } = {}): TaskDefinitionInput {
  const problems: ActionError[] = [];
  const fail = (message: string, field?: string, fix?: string) => problems.push(new ActionError(message, { ...where, field, fix }));
  if (!isRecord(value)) {
    throw new ActionError('A task definition must be a JSON object.', { ...where, fix: 'Use the RegisterTaskDefinition request shape: {"family": ..., "containerDefinitions": [...]}.' });
  }
  let obj: Record<string, unknown> = value;
  if (isRecord(obj.taskDefinition) && obj.family === undefined) {
    // `aws ecs describe-task-definition --include TAGS` output, used as is.
    obj = { ...obj.taskDefinition, ...(Array.isArray(obj.tags) && obj.tags.length > 0 ? { tags: obj.tags } : {}) };
  }
  const def = stripReadOnly(obj);
  for (const key of Object.keys(def)) {
    if (!(REGISTER_KEYS as readonly string[]).includes(key)) {
      const near = closest(key, REGISTER_KEYS);
      fail(`Unknown top-level key '${key}'.`, key, near ? `Did you mean '${near}'? Allowed keys: the RegisterTaskDefinition request fields.` : 'Remove it; only RegisterTaskDefinition request fields are allowed.');
    }
  }
  if (typeof def.family !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(def.family)) {
    fail(`'family' must be a name of letters, digits, '-' and '_', got ${JSON.stringify(def.family)}.`, 'family', 'Set "family": "my-app".');
  }
  if (!Array.isArray(def.containerDefinitions) || def.containerDefinitions.length === 0) {
    fail("'containerDefinitions' must be a non-empty array.", 'containerDefinitions', 'Add at least one container with a name and an image.');
  } else {
    def.containerDefinitions.forEach((c: unknown, i: number) => {
      const field = `containerDefinitions[${i}]`;
      if (!isRecord(c)) return void fail(`${field} must be an object.`, field);
      if (typeof c.name !== 'string' || c.name === '') fail(`${field}.name is missing.`, `${field}.name`, 'Give every container a name.');
      if (typeof c.image !== 'string' || c.image === '') fail(`${field}.image is missing.`, `${field}.image`, 'Give every container an image.');
    });
  }
  for (const key of ['cpu', 'memory'] as const) {
    // ECS takes these as strings; a number in the file is a common slip we accept.
    if (typeof def[key] === 'number') def[key] = String(def[key]);
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    const name = where.file ?? 'task definition';
    const err = new ActionError(`${name} has ${problems.length} problems:\n${problems.map((p) => `  - ${p.location.field ?? ''}: ${p.message}`).join('\n')}`, { ...where, problems });
    throw err;
  }
  return def as unknown as TaskDefinitionInput;
}

/** Reads and validates a task-definition JSON file; errors name the input, the file and, for syntax errors, the line. */
export function readTaskDefinitionFile(path: string, opts: { input?: string } = {}): TaskDefinitionInput {
  const input = opts.input ?? 'task-definition';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ActionError(`Cannot read task-definition file '${path}' (${code ?? String(err)}).`, {
      input,
      file: path,
      fix: 'Check the path (relative to the workspace), or pass an existing task definition ARN or family:revision.',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(msg);
    const lineMatch = /line (\d+)/.exec(msg);
    const offset = pos ? Number(pos[1]) : errorOffset(text);
    const line = lineMatch ? Number(lineMatch[1]) : offset !== undefined ? text.slice(0, offset).split('\n').length : undefined;
    throw new ActionError(`'${path}' is not valid JSON: ${msg}`, { input, file: path, line, fix: 'Fix the JSON syntax (render-taskdef writes valid JSON).' });
  }
  return parseTaskDefinition(value, { file: path, input });
}

/**
 * Where JSON.parse gave up, for Node versions whose message has no position:
 * the longest prefix that is still "valid so far" ends right before the bad character.
 */
function errorOffset(text: string): number | undefined {
  const validSoFar = (k: number) => {
    try {
      JSON.parse(text.slice(0, k));
      return true;
    } catch (e) {
      return /end of (JSON )?input|Unterminated|Expected .* after/i.test((e as Error).message);
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (validSoFar(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo < text.length ? lo : undefined;
}

// ---------------------------------------------------------------- normalize

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length]!;
  };
  const best = candidates.map((c) => ({ c, d: dist(word, c) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(word.length / 4)) ? best.c : undefined;
}

const byKey = (key: string) => (a: unknown, b: unknown) => String((a as Record<string, unknown>)?.[key] ?? '').localeCompare(String((b as Record<string, unknown>)?.[key] ?? ''));

/** Arrays whose order ECS does not keep or does not care about, and the field to sort them by. */
const UNORDERED: Record<string, string | null> = {
  environment: 'name',
  secrets: 'name',
  tags: 'key',
  ulimits: 'name',
  systemControls: 'namespace',
  dependsOn: 'containerName',
  volumes: 'name',
  containerDefinitions: 'name',
  requiresCompatibilities: null,
  environmentFiles: 'value',
  extraHosts: 'hostname',
};

/** Removes null/undefined, empty arrays and empty objects (ECS returns `[]` for fields never set). Strings, even empty, stay. */
function prune(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => prune(v)).filter((v) => v !== undefined);
    if (items.length === 0) return undefined;
    if (key in UNORDERED) {
      const by = UNORDERED[key];
      items.sort(by ? byKey(by) : (a, b) => String(a).localeCompare(String(b)));
    }
    return items;
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = prune(value[k], k);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value === null ? undefined : value;
}

/** Values ECS fills in at registration, so a describe output compares equal to the file that produced it. */
function dropDefaults(container: Record<string, unknown>, networkMode: unknown): Record<string, unknown> {
  const c = { ...container };
  if (c.essential === true) delete c.essential;
  if (c.cpu === 0) delete c.cpu;
  if (Array.isArray(c.environment)) {
    // `{name}` without value registers as an empty value; keep empty values, they are meaningful.
    c.environment = c.environment.map((e: Record<string, unknown>) => ({ name: e.name, value: e.value ?? '' }));
  }
  if (Array.isArray(c.portMappings)) {
    c.portMappings = c.portMappings.map((p: Record<string, unknown>) => {
      const m = { ...p };
      if (m.protocol === 'tcp') delete m.protocol;
      if (networkMode === 'awsvpc' && m.hostPort === m.containerPort) delete m.hostPort;
      return m;
    });
  }
  return c;
}

/**
 * The canonical form of a task definition: read-only keys stripped, ECS defaults
 * and empties dropped, unordered lists sorted, object keys sorted. Two
 * definitions ECS treats as the same have the same normalized JSON.
 */
export function normalizeTaskDefinition(def: TaskDefinitionInput | TaskDefinition, tags?: Tag[]): Record<string, unknown> {
  const raw = stripReadOnly({ ...(def as Record<string, unknown>) });
  if (tags !== undefined) raw.tags = tags;
  // Recent DescribeTaskDefinition outputs carry `enableFaultInjection: false` even when it was never set.
  if (raw.enableFaultInjection === false) delete raw.enableFaultInjection;
  if (typeof raw.cpu === 'number') raw.cpu = String(raw.cpu);
  if (typeof raw.memory === 'number') raw.memory = String(raw.memory);
  if (Array.isArray(raw.containerDefinitions)) {
    raw.containerDefinitions = raw.containerDefinitions.map((c: Record<string, unknown>) => dropDefaults(c, raw.networkMode));
  }
  return (prune(raw) as Record<string, unknown> | undefined) ?? {};
}

export function taskDefinitionsEqual(a: TaskDefinitionInput | TaskDefinition, b: TaskDefinitionInput | TaskDefinition, tagsA?: Tag[], tagsB?: Tag[]): boolean {
  return JSON.stringify(normalizeTaskDefinition(a, tagsA)) === JSON.stringify(normalizeTaskDefinition(b, tagsB));
}

// ---------------------------------------------------------------- register

export interface RegisterResult {
  /** ARN to deploy: the new revision, or the latest ACTIVE one when nothing changed. */
  arn: string;
  changed: boolean;
  /** Latest ACTIVE revision of the family before this call, if any. */
  previousArn?: string;
  previous?: TaskDefinition;
  /** The definition behind `arn`. */
  taskDefinition: TaskDefinition;
}

function isMissingFamily(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return (e?.name === 'ClientException' || e?.name === 'InvalidParameterException') && /unable to describe|not found|does not exist|inactive/i.test(e.message ?? '');
}

/**
 * Registers `def` only when it differs (normalized, tags included) from the
 * latest ACTIVE revision of its family, so re-running a deploy does not mint
 * a new revision every time.
 */
export async function registerIfChanged(ecs: ECSClient, def: TaskDefinitionInput): Promise<RegisterResult> {
  let previous: TaskDefinition | undefined;
  let previousTags: Tag[] | undefined;
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: def.family, include: ['TAGS'] }));
    previous = out.taskDefinition;
    previousTags = out.tags ?? [];
  } catch (err) {
    if (!isMissingFamily(err)) throw err;
  }
  if (previous?.taskDefinitionArn && taskDefinitionsEqual(previous, def, previousTags, def.tags ?? [])) {
    return { arn: previous.taskDefinitionArn, changed: false, previousArn: previous.taskDefinitionArn, previous, taskDefinition: previous };
  }
  const out = await ecs.send(new RegisterTaskDefinitionCommand(def));
  const registered = out.taskDefinition;
  if (!registered?.taskDefinitionArn) throw new Error('RegisterTaskDefinition returned no taskDefinitionArn.');
  return { arn: registered.taskDefinitionArn, changed: true, previousArn: previous?.taskDefinitionArn, previous, taskDefinition: registered };
}
