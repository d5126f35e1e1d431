/**
 * Every key at every level of an ECS task definition, checked against the
 * RegisterTaskDefinition request shapes of the AWS API model.
 *
 * The shapes are not hand-written: scripts/gen-ecs-shapes.mjs (`npm run gen:ecs-shapes`)
 * extracts them from the schema that @aws-sdk/client-ecs ships into
 * lib/generated/ecs-register-task-definition.json, and a test fails when the committed
 * file differs from the installed SDK. The SDK's serializer silently drops keys its
 * model does not know (`portMapping`, `healthcheck`), so without this check a typo
 * registers a task definition without ports, and every later run registers again.
 *
 * Exported API (used by lib/taskdef.ts and meant for render-taskdef):
 *
 * - `validateTaskDefinitionShape(value)` → `ShapeProblem[]`: all problems, in document
 *   order, `[]` when valid. `value` is a RegisterTaskDefinition request (a template
 *   after placeholder substitution, a rendered file). The read-only keys of a
 *   DescribeTaskDefinition output (`READ_ONLY_KEYS`) are accepted at the top level,
 *   because the suite strips them; `null` counts as absent; top-level `cpu`/`memory`
 *   may be numbers (ECS wants strings; the suite converts them).
 * - `ShapeProblem`: `{ kind, path, displayPath, message, fix, didYouMean? }`. `path` is
 *   the segments (`['containerDefinitions', 0, 'portMapping']`), `displayPath` the same
 *   as `containerDefinitions[0].portMapping`; for an unknown key both name the key
 *   itself, so a file:line lookup lands on the offending key.
 * - `formatPath(path)`, `READ_ONLY_KEYS`, `ECS_SHAPES_SDK` (package and version the
 *   shapes come from).
 */
import model from './generated/ecs-register-task-definition.json';

export type PathSegment = string | number;

export interface ShapeProblem {
  /** `unknown-key`: not in the API model; `type`: wrong JSON type; `enum`: value not allowed; `required`: missing. */
  kind: 'unknown-key' | 'type' | 'enum' | 'required';
  path: PathSegment[];
  /** `containerDefinitions[0].portMappings[1].containerPort` */
  displayPath: string;
  message: string;
  fix: string;
  /** For an unknown key or a mis-cased enum value: the key or value that was probably meant. */
  didYouMean?: string;
}

interface Shape {
  members: Record<string, string>;
  required?: string[];
}

const shapes = model.shapes as Record<string, Shape>;
const enums = model.enums as Record<string, string[]>;

export const ECS_SHAPES_SDK: { package: string; version: string } = model.sdk;

/**
 * Keys that DescribeTaskDefinition returns but RegisterTaskDefinition rejects.
 * Stripping them lets `aws ecs describe-task-definition` output serve as a
 * template or an input (aws-actions/amazon-ecs-deploy-task-definition strips the
 * same list: IGNORED_TASK_DEFINITION_ATTRIBUTES in its index.js).
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

function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(task definition)';
}

export function validateTaskDefinitionShape(value: unknown): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  checkType(value, model.root, [], problems);
  return problems;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const apiDoc = (shape: string) => `https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_${shape}.html`;

/** What a JSON value is, for messages: `the string "8080"`, `a list`, `the number 3`. */
function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return 'a list';
  return isRecord(v) ? 'an object' : String(v);
}

function push(problems: ShapeProblem[], p: Omit<ShapeProblem, 'displayPath'>) {
  problems.push({ ...p, displayPath: formatPath(p.path) });
}

function checkType(v: unknown, type: string, path: PathSegment[], problems: ShapeProblem[]): void {
  if (v === null || v === undefined) return;
  const typeError = (expected: string, fix: string) =>
    push(problems, { kind: 'type', path, message: `${formatPath(path)} is ${describe(v)}; expected ${expected}.`, fix });
  if (type.startsWith('list<')) {
    if (!Array.isArray(v)) {
      return typeError(
        'a list [...]',
        isRecord(v)
          ? `Wrap the object in a list: "${String(path.at(-1))}": [ {...} ].`
          : `Write a JSON list: "${String(path.at(-1))}": [ ... ].`,
      );
    }
    const inner = type.slice(5, -1);
    v.forEach((item, i) => checkType(item, inner, [...path, i], problems));
    return;
  }
  if (type.startsWith('map<')) {
    if (!isRecord(v)) return typeError('an object of "key": "value" pairs', 'Write it as { "name": "value", ... }.');
    const inner = type.slice(4, -1);
    for (const [k, item] of Object.entries(v)) checkType(item, inner, [...path, k], problems);
    return;
  }
  if (type.startsWith('enum:')) {
    const allowed = enums[type.slice(5)] ?? [];
    if (typeof v !== 'string')
      return typeError(`one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, `Use one of: ${allowed.join(', ')}.`);
    if (allowed.includes(v)) return;
    const near = suggest(v, allowed);
    push(problems, {
      kind: 'enum',
      path,
      message: `${formatPath(path)} is ${JSON.stringify(v)}, which ECS does not accept; allowed values: ${allowed.join(', ')}.`,
      fix: near ? `Use "${near}".` : `Use one of: ${allowed.join(', ')}.`,
      ...(near ? { didYouMean: near } : {}),
    });
    return;
  }
  switch (type) {
    case 'string':
      if (typeof v === 'string') return;
      // ECS takes task-level cpu/memory as strings; a number is a common slip the suite converts.
      if (typeof v === 'number' && path.length === 1 && (path[0] === 'cpu' || path[0] === 'memory')) return;
      return typeError(
        'a string',
        typeof v === 'number' || typeof v === 'boolean' ? `Quote it: "${String(v)}".` : 'Write a string in double quotes.',
      );
    case 'number':
      if (typeof v === 'number' && Number.isFinite(v)) return;
      return typeError(
        'a number',
        typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)
          ? `Write ${v.trim()} without quotes.`
          : 'Write a number without quotes, e.g. 8080.',
      );
    case 'boolean':
      if (typeof v === 'boolean') return;
      return typeError(
        'a boolean (true or false)',
        typeof v === 'string' && /^(true|false)$/i.test(v.trim())
          ? `Write ${v.trim().toLowerCase()} without quotes.`
          : 'Write true or false without quotes.',
      );
    case 'timestamp':
    case 'blob':
      return;
    default:
      return checkStruct(v, type, path, problems);
  }
}

/**
 * The API type at a path of a RegisterTaskDefinition request (`number` for
 * `['containerDefinitions', 0, 'memory']`, `string` for the task's `memory`),
 * or undefined when the path is not in the model.
 */
export function apiTypeAt(path: readonly PathSegment[]): string | undefined {
  let type: string = model.root;
  for (const seg of path) {
    if (type.startsWith('list<')) {
      if (typeof seg !== 'number') return undefined;
      type = type.slice(5, -1);
    } else if (type.startsWith('map<')) {
      type = type.slice(4, -1);
    } else {
      const member = typeof seg === 'string' ? shapes[type]?.members[seg] : undefined;
      if (member === undefined) return undefined;
      type = member;
    }
  }
  return type;
}

function checkStruct(v: unknown, name: string, path: PathSegment[], problems: ShapeProblem[]): void {
  const shape = shapes[name];
  if (!shape) return;
  const at = () => formatPath(path);
  if (!isRecord(v)) {
    push(problems, {
      kind: 'type',
      path,
      message: `${at()} is ${describe(v)}; expected an object {...} (ECS ${name}).`,
      fix:
        Array.isArray(v) && v.length === 1
          ? 'Remove the surrounding [ ]: this field takes one object.'
          : `Write an object with the fields of ${apiDoc(name)}.`,
    });
    return;
  }
  const members = Object.keys(shape.members);
  for (const key of Object.keys(v)) {
    const type = shape.members[key];
    if (type !== undefined) {
      checkType(v[key], type, [...path, key], problems);
      continue;
    }
    if (path.length === 0 && (READ_ONLY_KEYS as readonly string[]).includes(key)) continue;
    const near = suggest(key, members);
    const owner = near ? undefined : nestedOwner(shape, key);
    push(problems, {
      kind: 'unknown-key',
      path: [...path, key],
      message:
        `${path.length === 0 ? 'Unknown top-level key' : `Unknown key in ${at()}:`} '${key}': ECS's ${name} has no such field, ` +
        `and the AWS SDK would drop it without a word.`,
      fix: near
        ? `Did you mean '${near}'?`
        : owner
          ? `'${key}' belongs inside '${owner}'.`
          : `Remove it, or use a field of ${name}: ${apiDoc(name)} (checked against ${model.sdk.package} ${model.sdk.version}; a field ` +
            `AWS added later needs a newer SDK).`,
      ...(near ? { didYouMean: near } : {}),
    });
  }
  for (const req of shape.required ?? []) {
    if (v[req] === undefined || v[req] === null) {
      push(problems, {
        kind: 'required',
        path: [...path, req],
        message: `${formatPath([...path, req])} is missing; ECS requires it in ${name}.`,
        fix: `Add "${req}" (${describeType(shape.members[req]!)}).`,
      });
    }
  }
}

/** `containerPort` written on the container instead of in `portMappings`: the member whose shape has that key. */
function nestedOwner(shape: Shape, key: string): string | undefined {
  for (const [member, type] of Object.entries(shape.members)) {
    const inner = shapes[type.replace(/^list<(.+)>$/, '$1')];
    if (inner && key in inner.members) return type.startsWith('list<') ? `${member}[]` : member;
  }
  return undefined;
}

function describeType(type: string): string {
  if (type.startsWith('list<')) return 'a list';
  if (type.startsWith('map<')) return 'an object';
  if (type.startsWith('enum:')) return `one of ${(enums[type.slice(5)] ?? []).join(', ')}`;
  return ['string', 'number', 'boolean'].includes(type) ? `a ${type}` : 'an object';
}

/**
 * The candidate a misspelled word most likely meant: the same word in other case
 * (`healthcheck` → `healthCheck`), else the nearest by edit distance when it is
 * close enough (`portMapping` → `portMappings`, `memoryReservaton` → `memoryReservation`).
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase) return sameCase;
  // A field name cut short (`operatingSystem` → `operatingSystemFamily`): the shortest such candidate.
  const longer =
    lower.length >= 5 ? candidates.filter((c) => c.toLowerCase().startsWith(lower)).sort((a, b) => a.length - b.length)[0] : undefined;
  if (longer) return longer;
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(1, Math.min(3, Math.floor(word.length / 4))) ? best.c : undefined;
}

/** Edit distance where swapping two neighbours (`imgae`) counts as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
