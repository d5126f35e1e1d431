/**
 * A readable diff between two task definitions (both normalized first, so
 * order and ECS defaults never show up as changes). Used by deploy-ecs's step summary.
 */
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { normalizeTaskDefinition } from './taskdef-normalize.js';
import type { TaskDefinitionInput } from './taskdef.js';

type Named = { name?: string; value?: string; valueFrom?: string };

/**
 * Human-readable changes from `before` to `after`: image, cpu/memory, env
 * names added/removed/changed, secret names, roles, and any other changed key.
 * Env values are not printed (they may be sensitive); names are.
 */
export function diffTaskDefinitions(
  before: TaskDefinitionInput | TaskDefinition | undefined,
  after: TaskDefinitionInput | TaskDefinition,
): string[] {
  if (!before) return ['new family (no previous revision)'];
  const a = normalizeTaskDefinition(before);
  const b = normalizeTaskDefinition(after);
  const lines: string[] = [];
  const top = (k: string) => [a[k], b[k]] as const;
  for (const k of ['cpu', 'memory', 'taskRoleArn', 'executionRoleArn', 'networkMode']) {
    const [x, y] = top(k);
    if (JSON.stringify(x) !== JSON.stringify(y)) lines.push(`${k}: ${x ?? '(none)'} → ${y ?? '(none)'}`);
  }
  const containers = (d: Record<string, unknown>) =>
    new Map(((d.containerDefinitions as Record<string, unknown>[]) ?? []).map((c) => [String(c.name), c]));
  const ca = containers(a);
  const cb = containers(b);
  for (const name of new Set([...ca.keys(), ...cb.keys()])) {
    const x = ca.get(name);
    const y = cb.get(name);
    if (!x) lines.push(`container ${name}: added (image ${String(y!.image)})`);
    else if (!y) lines.push(`container ${name}: removed`);
    else lines.push(...diffContainer(name, x, y));
  }
  const skip = new Set(['cpu', 'memory', 'taskRoleArn', 'executionRoleArn', 'networkMode', 'containerDefinitions']);
  const others = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => !skip.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  );
  if (others.length > 0) lines.push(`also changed: ${others.join(', ')}`);
  return lines;
}

function diffContainer(name: string, x: Record<string, unknown>, y: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const p = `container ${name}`;
  if (x.image !== y.image) lines.push(`${p} image: ${String(x.image)} → ${String(y.image)}`);
  for (const k of ['cpu', 'memory', 'memoryReservation']) {
    if (x[k] !== y[k]) lines.push(`${p} ${k}: ${x[k] ?? '(none)'} → ${y[k] ?? '(none)'}`);
  }
  const named = (list: unknown, field: 'value' | 'valueFrom') =>
    new Map(((list as Named[]) ?? []).map((e) => [String(e.name), e[field] ?? '']));
  for (const [key, label, field] of [
    ['environment', 'env', 'value'],
    ['secrets', 'secrets', 'valueFrom'],
  ] as const) {
    const ea = named(x[key], field);
    const eb = named(y[key], field);
    const added = [...eb.keys()].filter((n) => !ea.has(n));
    const removed = [...ea.keys()].filter((n) => !eb.has(n));
    const changed = [...eb.keys()].filter((n) => ea.has(n) && ea.get(n) !== eb.get(n));
    if (added.length) lines.push(`${p} ${label} added: ${added.join(', ')}`);
    if (removed.length) lines.push(`${p} ${label} removed: ${removed.join(', ')}`);
    if (changed.length) lines.push(`${p} ${label} changed: ${changed.join(', ')}`);
  }
  const skip = new Set(['name', 'image', 'cpu', 'memory', 'memoryReservation', 'environment', 'secrets']);
  const others = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter(
    (k) => !skip.has(k) && JSON.stringify(x[k]) !== JSON.stringify(y[k]),
  );
  if (others.length > 0) lines.push(`${p} also changed: ${others.join(', ')}`);
  return lines;
}
