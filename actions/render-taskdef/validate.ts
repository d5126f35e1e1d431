import { parseImageRef } from '../../lib/ecr-image.js';
import { validateTaskDefinitionShape } from '../../lib/ecs-shapes.js';
import { ActionError, type Location } from '../../lib/errors.js';
import type { JsonPath } from './json-source.js';
import { originKey, type RenderResult } from './render-types.js';
import type { Checker, CheckOptions, PathProblem } from './check-types.js';
import { checkPlainValues, checkSensitive } from './check-values.js';
import { cpuUnits, fargateSizeError, memoryMiB } from './fargate-size.js';
import { parseSecretRef } from './secret-ref.js';

/**
 * The file and line of a path of the rendered task definition: an
 * environment or secrets entry points where its value was set (template or
 * feature config, by name, since merging moves entries), anything else at
 * its line in the template.
 */
function locatePath(r: RenderResult, path: JsonPath): Location {
  const [top, i, kind, j] = path;
  if (top === 'containerDefinitions' && typeof i === 'number' && (kind === 'environment' || kind === 'secrets') && typeof j === 'number') {
    const c = r.taskDef.containerDefinitions[i];
    const entry = c?.[kind]?.[j];
    const origin = entry ? r.origins.get(originKey(String(c.name), kind, String(entry.name))) : undefined;
    if (origin) return origin;
  }
  return r.locate(path);
}

/** The one place problems on paths become file:line annotations (ActionErrors, errors and warnings apart). */
export function locateProblems(r: RenderResult, problems: readonly PathProblem[]): { errors: ActionError[]; warnings: ActionError[] } {
  const errors: ActionError[] = [];
  const warnings: ActionError[] = [];
  for (const p of problems)
    (p.severity === 'warning' ? warnings : errors).push(new ActionError(p.message, { ...locatePath(r, p.path), fix: p.fix }));
  return { errors, warnings };
}

/** ECS rules across fields: family, Fargate sizes, networking, logging, essential containers, secret references. */
const checkConsistency: Checker = (r) => {
  const def = r.taskDef;
  const problems: PathProblem[] = [];
  const add = (path: JsonPath, message: string, fix: string) => problems.push({ path, message, fix });

  if (typeof def.family !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(def.family)) {
    add(
      ['family'],
      `family ${JSON.stringify(def.family)} is missing or invalid.`,
      'Use up to 255 letters, digits, hyphens and underscores, e.g. delivery-test-backend.',
    );
  }
  const compat = Array.isArray(def.requiresCompatibilities) ? def.requiresCompatibilities : [];
  if (compat.includes('FARGATE')) {
    const err = fargateSizeError(def.cpu, def.memory);
    if (err) add([err.field], err.message, 'See "Task CPU and memory" in the ECS task definition reference.');
    if (def.networkMode !== 'awsvpc')
      add(
        ['networkMode'],
        `Fargate requires networkMode "awsvpc", not ${JSON.stringify(def.networkMode)}.`,
        'Set "networkMode": "awsvpc".',
      );
  }

  const seen = new Map<string, number>();
  let essentials = 0;
  def.containerDefinitions.forEach((c, i) => {
    const at = (...rest: (string | number)[]): JsonPath => ['containerDefinitions', i, ...rest];
    const name = typeof c.name === 'string' ? c.name : '';
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
      add(
        at('name'),
        `container ${i + 1} has no valid name (${JSON.stringify(c.name)}).`,
        'Give every container a name of letters, digits, hyphens and underscores.',
      );
    else if (seen.has(name))
      add(
        at('name'),
        `duplicate container name '${name}' (also container ${seen.get(name)! + 1}).`,
        'Container names must be unique within a task definition.',
      );
    seen.set(name, i);
    if (c.essential !== false) essentials++;

    if (def.networkMode === 'awsvpc' && Array.isArray(c.portMappings)) {
      c.portMappings.forEach((pm: { containerPort?: unknown; hostPort?: unknown }, j: number) => {
        if (pm?.hostPort !== undefined && Number(pm.hostPort) !== Number(pm.containerPort)) {
          add(
            at('portMappings', j, 'hostPort'),
            `container '${name}': with awsvpc, hostPort (${pm.hostPort}) must equal containerPort (${pm.containerPort}).`,
            'Remove hostPort or set it to the containerPort.',
          );
        }
      });
    }
    const log = c.logConfiguration as { logDriver?: string; options?: Record<string, unknown> } | undefined;
    if (log?.logDriver === 'awslogs') {
      const missing = ['awslogs-group', 'awslogs-region'].filter((k) => typeof log.options?.[k] !== 'string' || log.options[k] === '');
      if (missing.length)
        add(
          at('logConfiguration', 'options'),
          `container '${name}': awslogs needs ${missing.join(' and ')}.`,
          'Set them in logConfiguration.options (e.g. "${LOG_GROUP}" and "${AWS_REGION}").',
        );
    }
    for (const [j, e] of (c.environment ?? []).entries()) {
      if (!e || typeof e.name !== 'string' || e.name === '')
        add(
          at('environment', j),
          `container '${name}': environment entry ${j + 1} has no name.`,
          'Write each entry as {"name": "...", "value": "..."}.',
        );
      else if (typeof e.value !== 'string')
        add(
          at('environment', j),
          `container '${name}': environment ${e.name} must have a string value (got ${JSON.stringify(e.value)}).`,
          'Quote the value; ECS only accepts strings (an empty string is fine).',
        );
    }
    for (const [j, s] of (c.secrets ?? []).entries()) {
      if (!s || typeof s.name !== 'string' || typeof s.valueFrom !== 'string') {
        add(
          at('secrets', j),
          `container '${name}': secrets entry ${j + 1} needs name and valueFrom strings.`,
          'Write each entry as {"name": "...", "valueFrom": "<SSM name or ARN>"}.',
        );
        continue;
      }
      const ref = parseSecretRef(s.valueFrom);
      if ('error' in ref)
        add(
          at('secrets', j),
          `container '${name}': secret ${s.name}: ${ref.error}.`,
          ref.fix ??
            'Use /path/NAME (SSM), arn:aws:ssm:<region>:<account>:parameter/path/NAME, or arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 ' +
              'chars>[:json-key::].',
        );
    }
  });
  if (def.containerDefinitions.length > 0 && essentials === 0) {
    add(
      ['containerDefinitions'],
      'no container is essential: ECS needs at least one essential container.',
      'Set "essential": true on the main container.',
    );
  }
  return problems;
};

const asNumber = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : undefined;

/**
 * Containers must fit in the task: "If using the Fargate launch type, [memory] is optional … the
 * total amount of memory reserved for all containers within a task must be lower than the task
 * memory value, if one is specified", and container cpu likewise (ECS developer guide, task
 * definition parameters: container memory, cpu). RegisterTaskDefinition rejects the rest.
 */
const checkResources: Checker = (r) => {
  const def = r.taskDef;
  const problems: PathProblem[] = [];
  const taskMemory = def.memory === undefined ? undefined : memoryMiB(def.memory);
  const taskCpu = def.cpu === undefined ? undefined : cpuUnits(def.cpu);
  for (const [unit, task, keys, taskField] of [
    ['MiB', taskMemory, ['memory', 'memoryReservation'], 'memory'],
    ['cpu units', taskCpu, ['cpu'], 'cpu'],
  ] as const) {
    if (task === undefined) continue;
    let total = 0;
    def.containerDefinitions.forEach((c, i) => {
      const values = keys.map((k) => asNumber(c[k]));
      total += values.find((v) => v !== undefined) ?? 0;
      keys.forEach((k, n) => {
        const v = values[n];
        if (v !== undefined && v > task) {
          problems.push({
            path: ['containerDefinitions', i, k],
            message: `container '${String(c.name)}': ${k} ${v} ${unit} is above the task's ${taskField} ${task} ${unit}.`,
            fix: `Lower the container's ${k} to at most ${task}, or raise the task's ${taskField}.`,
          });
        }
      });
    });
    const single = def.containerDefinitions.some((c) => keys.some((k) => (asNumber(c[k]) ?? 0) > task));
    if (!single && total > task) {
      problems.push({
        path: [taskField],
        message: `the containers together reserve ${total} ${unit}, more than the task's ${taskField} ${task} ${unit}.`,
        fix: `Raise the task's ${taskField} or lower the containers' ${keys.join('/')}.`,
      });
    }
  }
  return problems;
};

/** An image with no tag runs whatever :latest is at each task start; an empty tag is rejected at pull time. */
const checkImages: Checker = (r) => {
  const problems: PathProblem[] = [];
  r.taskDef.containerDefinitions.forEach((c, i) => {
    const path = ['containerDefinitions', i, 'image'];
    const name = String(c.name);
    if (typeof c.image !== 'string' || c.image.trim() === '') {
      problems.push({
        path,
        message: `container '${name}' has no image.`,
        fix: 'Set its image in the template or pass it in the image input.',
      });
      return;
    }
    if (c.image.includes('${')) return; // reported as an unresolved placeholder
    const ref = parseImageRef(c.image);
    if (ref.digest !== undefined) return;
    if (ref.tag === '')
      problems.push({
        path,
        message: `container '${name}': image ${c.image} has an empty tag (nothing after ':').`,
        fix: 'Put the tag after the colon (e.g. :v1.4.2 or the git SHA), or pin a digest with @sha256:….',
      });
    else if (ref.tag === undefined) {
      problems.push({
        path,
        message: `container '${name}': image ${c.image} has no tag, so every task start pulls whatever :latest is then.`,
        fix: `Pin a tag or a digest (e.g. ${c.image}:v1.4.2 or ${c.image}@sha256:…); for the app container pass the image input.`,
      });
    }
  });
  return problems;
};

/**
 * Every key at every level against the RegisterTaskDefinition shapes of the AWS API model
 * (lib/ecs-shapes.ts, shared with deploy-ecs and migrate-db): typos the SDK would drop,
 * wrong JSON types (`"essential": "true"`), values ECS does not accept. A missing
 * `family` is left to checkConsistency, which says more.
 */
const checkShape: Checker = (r) =>
  validateTaskDefinitionShape(r.taskDef)
    .filter((p) => !(p.kind === 'required' && p.displayPath === 'family'))
    .map((p) => {
      if (p.kind === 'unknown-key') {
        const near = p.didYouMean ? ` (did you mean '${p.didYouMean}'?)` : '';
        return {
          path: p.path,
          message: `${p.displayPath}: not a field of the ECS task definition${near}; the AWS SDK would drop it without a word.`,
          fix: p.fix,
        };
      }
      // A missing member has no line of its own: point at the object that lacks it.
      return { path: p.kind === 'required' ? p.path.slice(0, -1) : p.path, message: p.message, fix: p.fix };
    });

const CHECKERS: readonly Checker[] = [checkShape, checkConsistency, checkResources, checkImages, checkPlainValues, checkSensitive];

/**
 * Every checker over the rendered task definition, all problems at once,
 * each on the file and line its value came from.
 */
export function validateTaskDefinition(
  r: RenderResult,
  opts: CheckOptions,
  checkers: readonly Checker[] = CHECKERS,
): { errors: ActionError[]; warnings: ActionError[] } {
  return locateProblems(
    r,
    checkers.flatMap((check) => check(r, opts)),
  );
}
