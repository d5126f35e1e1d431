/**
 * Task-definition helpers shared by render-taskdef, deploy-ecs and migrate-db:
 * reading a file into a RegisterTaskDefinition request (every key checked against
 * the ECS API model: lib/ecs-shapes.ts), comparing two definitions the way ECS does
 * (lib/taskdef-normalize.ts), and register-only-if-changed. The readable diff is in
 * lib/taskdef-diff.ts.
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
import { READ_ONLY_KEYS, validateTaskDefinitionShape } from './ecs-shapes.js';
import { ActionError } from './errors.js';
import { taskDefinitionsEqual } from './taskdef-normalize.js';

export { READ_ONLY_KEYS } from './ecs-shapes.js';
export { normalizeTaskDefinition, taskDefinitionsEqual } from './taskdef-normalize.js';

export function stripReadOnly<T extends Record<string, unknown>>(def: T): T {
  const out: Record<string, unknown> = { ...def };
  for (const key of READ_ONLY_KEYS) delete out[key];
  return out as T;
}

export type TaskDefinitionInput = RegisterTaskDefinitionCommandInput;

/**
 * Validates a parsed JSON value as a RegisterTaskDefinition request. Accepts
 * the request shape, a describe output's `taskDefinition` object (read-only keys
 * stripped), or the whole `describe-task-definition` response `{taskDefinition, tags}`.
 * Every key at every level is checked against the ECS API model (lib/ecs-shapes.ts),
 * so a typo anywhere fails here, before any AWS call. Every problem names the file
 * and the key path; all are reported at once. `null` values are dropped and
 * task-level cpu/memory numbers become strings (both common in hand-written files).
 */
export function parseTaskDefinition(value: unknown, where: { file?: string; input?: string } = {}): TaskDefinitionInput {
  const problems: ActionError[] = [];
  const fail = (message: string, field?: string, fix?: string) => problems.push(new ActionError(message, { ...where, field, fix }));
  if (!isRecord(value)) {
    throw new ActionError('A task definition must be a JSON object.', {
      ...where,
      fix: 'Use the RegisterTaskDefinition request shape: {"family": ..., "containerDefinitions": [...]}.',
    });
  }
  let obj: Record<string, unknown> = value;
  if (isRecord(obj.taskDefinition) && obj.family === undefined) {
    // `aws ecs describe-task-definition --include TAGS` output, used as is.
    obj = { ...obj.taskDefinition, ...(Array.isArray(obj.tags) && obj.tags.length > 0 ? { tags: obj.tags } : {}) };
  }
  const def = dropNulls(stripReadOnly(obj)) as Record<string, unknown>;
  for (const p of validateTaskDefinitionShape(def)) fail(p.message, p.displayPath, p.fix);
  if (typeof def.family === 'string' && !/^[A-Za-z0-9_-]{1,255}$/.test(def.family)) {
    fail(
      `'family' must be a name of letters, digits, '-' and '_', got ${JSON.stringify(def.family)}.`,
      'family',
      'Set "family": "my-app".',
    );
  }
  if (Array.isArray(def.containerDefinitions) && def.containerDefinitions.length === 0) {
    fail(
      "'containerDefinitions' must be a non-empty array.",
      'containerDefinitions',
      'Add at least one container with a name and an image.',
    );
  } else if (Array.isArray(def.containerDefinitions)) {
    // Optional in the API model, required by ECS itself.
    def.containerDefinitions.forEach((c: unknown, i: number) => {
      const field = `containerDefinitions[${i}]`;
      if (!isRecord(c)) return;
      if (c.name === undefined || c.name === '') fail(`${field}.name is missing.`, `${field}.name`, 'Give every container a name.');
      if (c.image === undefined || c.image === '') fail(`${field}.image is missing.`, `${field}.image`, 'Give every container an image.');
    });
  }
  for (const key of ['cpu', 'memory'] as const) {
    // ECS takes these as strings; a number in the file is a common slip we accept.
    if (typeof def[key] === 'number') def[key] = String(def[key]);
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length) {
    const name = where.file ?? 'task definition';
    throw new ActionError(
      `${name} has ${problems.length} ` +
        `problems:\n${problems.map((p) => `  - ${p.location.field ?? ''}: ${p.message}${p.fix ? ` Fix: ${p.fix}` : ''}`).join('\n')}`,
      { ...where, problems },
    );
  }
  return def as unknown as TaskDefinitionInput;
}

/** JSON `null` means "not set": the SDK would send it, ECS would reject or ignore it. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
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
    // A message with a line ("(line 3 column 5)", newer Node) has the position too: the line is counted from it.
    const pos = /position (\d+)/.exec(msg);
    const offset = pos ? Number(pos[1]) : errorOffset(text);
    const line = text.slice(0, offset).split('\n').length;
    throw new ActionError(`'${path}' is not valid JSON: ${msg}`, {
      input,
      file: path,
      line,
      fix: 'Fix the JSON syntax (render-taskdef writes valid JSON).',
    });
  }
  return parseTaskDefinition(value, { file: path, input });
}

/**
 * Where JSON.parse gave up, for messages without a position (Node 20's "Unexpected token 'x', … is not
 * valid JSON"): the longest prefix that is still "valid so far" ends right before the bad character (at the
 * end of a text cut short: "Unexpected end of JSON input").
 */
function errorOffset(text: string): number {
  const validSoFar = (k: number) => {
    try {
      JSON.parse(text.slice(0, k));
      return true;
    } catch (e) {
      // Valid so far: the parser ran out of text: the input ended, or it stopped at a position. The whole text's
      // error has no position (else this search is not needed), and the parser reads left to right, so a
      // prefix's error with a position is at the prefix's end ("Expected double-quoted property name" after a comma).
      return /end of (JSON )?input|at position \d+/i.test((e as Error).message);
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (validSoFar(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
  return (
    (e?.name === 'ClientException' || e?.name === 'InvalidParameterException') &&
    /unable to describe|not found|does not exist|inactive/i.test(e.message ?? '')
  );
}

export interface LatestRevision {
  taskDefinition?: TaskDefinition;
  tags?: Tag[];
}

/** The latest ACTIVE revision of a family with its tags; none when the family does not exist yet. */
export async function describeLatest(ecs: ECSClient, family: string | undefined): Promise<LatestRevision> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }));
    return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
  } catch (err) {
    if (!isMissingFamily(err)) throw err;
    return {};
  }
}

/**
 * Registers `def` only when it differs (normalized, tags included) from the
 * latest ACTIVE revision of its family, so re-running a deploy does not mint
 * a new revision every time. `latest`: that read, when the caller started it
 * earlier (alongside other reads).
 */
export async function registerIfChanged(
  ecs: ECSClient,
  def: TaskDefinitionInput,
  latest: Promise<LatestRevision> = describeLatest(ecs, def.family),
): Promise<RegisterResult> {
  const { taskDefinition: previous, tags: previousTags } = await latest;
  if (previous?.taskDefinitionArn && taskDefinitionsEqual(previous, def, previousTags, def.tags ?? [])) {
    return { arn: previous.taskDefinitionArn, changed: false, previousArn: previous.taskDefinitionArn, previous, taskDefinition: previous };
  }
  const out = await ecs.send(new RegisterTaskDefinitionCommand(def));
  const registered = out.taskDefinition;
  if (!registered?.taskDefinitionArn) throw new Error('RegisterTaskDefinition returned no taskDefinitionArn.');
  return {
    arn: registered.taskDefinitionArn,
    changed: true,
    previousArn: previous?.taskDefinitionArn,
    previous,
    taskDefinition: registered,
  };
}
