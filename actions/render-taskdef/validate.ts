import { ActionError, type Location } from '../../lib/errors.js';
import { originKey, type RenderResult } from './render.js';
import { looksSecret, parseSecretRef } from './secret-ref.js';

/** Valid Fargate task sizes (MiB per CPU units), from the ECS task-definition reference. */
const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Task cpu as ECS accepts it: units (512, "512") or vCPU ("0.5 vCPU", "1 vcpu"). */
export function cpuUnits(value: unknown): number | undefined {
  const s = String(value).trim();
  const vcpu = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(s);
  if (vcpu) return Math.round(Number(vcpu[1]) * 1024);
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

/** Task memory as ECS accepts it: MiB (1024, "1024") or GB ("1GB", "2 GB"). */
export function memoryMiB(value: unknown): number | undefined {
  const s = String(value).trim();
  const gb = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(s);
  if (gb) return Math.round(Number(gb[1]) * 1024);
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

export function fargateSizeError(cpu: unknown, memory: unknown): string | undefined {
  const units = cpuUnits(cpu);
  const mib = memoryMiB(memory);
  const sizes = Object.keys(FARGATE_MEMORY).join(', ');
  if (cpu === undefined || memory === undefined) return `Fargate needs task-level cpu and memory (cpu is ${cpu ?? 'missing'}, memory is ${memory ?? 'missing'}).`;
  if (units === undefined || !(units in FARGATE_MEMORY)) return `cpu ${JSON.stringify(cpu)} is not a Fargate size; use one of ${sizes}.`;
  const allowed = FARGATE_MEMORY[units]!;
  if (mib === undefined || !allowed.includes(mib)) {
    const shown = allowed.length > 8 ? `${allowed[0]}..${allowed.at(-1)} in steps of ${allowed[1]! - allowed[0]!}` : allowed.join(', ');
    return `memory ${JSON.stringify(memory)} does not go with cpu ${units} on Fargate; with cpu ${units} use memory ${shown} (MiB).`;
  }
  return undefined;
}

/**
 * Checks the rendered task definition for mistakes ECS would reject (or that
 * would fail at deploy time), all at once, each pointing at the file and line
 * the value came from.
 */
export function validateTaskDefinition(r: RenderResult): ActionError[] {
  const { taskDef: def, locate } = r;
  const problems: ActionError[] = [];
  const add = (loc: Location, message: string, fix: string) => problems.push(new ActionError(message, { ...loc, fix }));
  const origin = (container: string, kind: 'environment' | 'secrets', name: string, fallback: Location) => r.origins.get(originKey(container, kind, name)) ?? fallback;

  if (typeof def.family !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(def.family)) {
    add(locate(['family']), `family ${JSON.stringify(def.family)} is missing or invalid.`, 'Use up to 255 letters, digits, hyphens and underscores, e.g. delivery-test-backend.');
  }
  const compat = Array.isArray(def.requiresCompatibilities) ? def.requiresCompatibilities : [];
  const fargate = compat.includes('FARGATE');
  if (fargate) {
    const err = fargateSizeError(def.cpu, def.memory);
    if (err) add(locate([def.memory === undefined ? 'cpu' : 'memory']), err, 'See "Task CPU and memory" in the ECS task definition reference.');
    if (def.networkMode !== 'awsvpc') add(locate(['networkMode']), `Fargate requires networkMode "awsvpc", not ${JSON.stringify(def.networkMode)}.`, 'Set "networkMode": "awsvpc".');
  }

  const seen = new Map<string, number>();
  let essentials = 0;
  def.containerDefinitions.forEach((c, i) => {
    const at = (...rest: (string | number)[]) => locate(['containerDefinitions', i, ...rest]);
    const name = typeof c.name === 'string' ? c.name : '';
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) add(at('name'), `container ${i + 1} has no valid name (${JSON.stringify(c.name)}).`, 'Give every container a name of letters, digits, hyphens and underscores.');
    else if (seen.has(name)) add(at('name'), `duplicate container name '${name}' (also container ${seen.get(name)! + 1}).`, 'Container names must be unique within a task definition.');
    seen.set(name, i);
    if (c.essential !== false) essentials++;
    if (typeof c.image !== 'string' || c.image.trim() === '') add(at('image'), `container '${name}' has no image.`, 'Set its image in the template or pass it in the image input.');

    if (def.networkMode === 'awsvpc' && Array.isArray(c.portMappings)) {
      c.portMappings.forEach((pm: { containerPort?: unknown; hostPort?: unknown }, j: number) => {
        if (pm?.hostPort !== undefined && pm.hostPort !== pm.containerPort) {
          add(at('portMappings', j, 'hostPort'), `container '${name}': with awsvpc, hostPort (${pm.hostPort}) must equal containerPort (${pm.containerPort}).`, 'Remove hostPort or set it to the containerPort.');
        }
      });
    }
    const log = c.logConfiguration as { logDriver?: string; options?: Record<string, unknown> } | undefined;
    if (log?.logDriver === 'awslogs') {
      const missing = ['awslogs-group', 'awslogs-region'].filter((k) => typeof log.options?.[k] !== 'string' || log.options[k] === '');
      if (missing.length) add(at('logConfiguration', 'options'), `container '${name}': awslogs needs ${missing.join(' and ')}.`, 'Set them in logConfiguration.options (e.g. "${LOG_GROUP}" and "${AWS_REGION}").');
    }

    for (const [j, e] of (c.environment ?? []).entries()) {
      const loc = origin(name, 'environment', e?.name, at('environment', j));
      if (!e || typeof e.name !== 'string' || e.name === '') {
        add(at('environment', j), `container '${name}': environment entry ${j + 1} has no name.`, 'Write each entry as {"name": "...", "value": "..."}.');
        continue;
      }
      if (typeof e.value !== 'string') add(loc, `container '${name}': environment ${e.name} must have a string value (got ${JSON.stringify(e.value)}).`, 'Quote the value; ECS only accepts strings (an empty string is fine).');
      else if (looksSecret(e.name) && e.value !== '') {
        add(loc, `container '${name}': ${e.name} looks like a secret but is a plain environment variable with a literal value.`, `Move ${e.name} to secrets with an SSM parameter or Secrets Manager reference, so the value is not stored in the task definition.`);
      }
    }
    for (const [j, s] of (c.secrets ?? []).entries()) {
      const loc = origin(name, 'secrets', s?.name, at('secrets', j));
      if (!s || typeof s.name !== 'string' || typeof s.valueFrom !== 'string') {
        add(loc, `container '${name}': secrets entry ${j + 1} needs name and valueFrom strings.`, 'Write each entry as {"name": "...", "valueFrom": "<SSM name or ARN>"}.');
        continue;
      }
      const ref = parseSecretRef(s.valueFrom);
      if ('error' in ref) add(loc, `container '${name}': secret ${s.name}: ${ref.error}.`, 'Use /path/NAME (SSM), arn:aws:ssm:<region>:<account>:parameter/path/NAME, or arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>[:json-key::].');
    }
  });
  if (def.containerDefinitions.length > 0 && essentials === 0) {
    add(locate(['containerDefinitions']), 'no container is essential: ECS needs at least one essential container.', 'Set "essential": true on the main container.');
  }
  return problems;
}
