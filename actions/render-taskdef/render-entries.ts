/**
 * The decisions render makes about containers and their env/secret lists:
 * which containers receive the image and settings, how config entries merge
 * into a template's lists, and which template entry a path points into. Kept
 * apart from the render walk so each rule can be read (and mutation-tested)
 * on its own, without the substitution machinery around it.
 */
import { ActionError, type Location } from '../../lib/errors.js';
import { configLocation } from './config-load.js';
import type { JsonPath } from './json-source.js';
import { originKey, type RenderRequest } from './render-types.js';
import type { ContainerDef, NameValue } from './taskdef-types.js';

/** The environment or secrets entry a template path lies in, named as the template names it. */
export function entryAt(
  source: Record<string, unknown>,
  path: JsonPath,
): { index: number; kind: 'environment' | 'secrets'; name: string } | undefined {
  const [top, index, kind, j] = path;
  if (
    top !== 'containerDefinitions' ||
    typeof index !== 'number' ||
    (kind !== 'environment' && kind !== 'secrets') ||
    typeof j !== 'number'
  )
    return undefined;
  const entry = ((source.containerDefinitions as ContainerDef[])[index]?.[kind] as NameValue[] | undefined)?.[j];
  return typeof entry?.name === 'string' ? { index, kind, name: entry.name } : undefined;
}

export function chooseTargets(req: RenderRequest, names: string[], containers: ContainerDef[], problems: ActionError[]): string[] {
  const listed = names.join(', ');
  if (req.image.kind === 'per-container') {
    const missing = [...req.image.images.keys()].filter((n) => !names.includes(n));
    for (const n of missing)
      problems.push(
        new ActionError(`image names container '${n}', which ${req.template.file} does not have.`, {
          input: 'image',
          fix: `Use container=uri lines for the template's containers: ${listed}.`,
        }),
      );
    return [...req.image.images.keys()].filter((n) => names.includes(n));
  }
  let targets: string[];
  const configured = req.config.config.containers;
  if (configured) {
    targets = configured.filter((n) => names.includes(n));
    if (targets.length === 0) {
      problems.push(
        new ActionError(`none of the containers ${configured.join(', ')} is in ${req.template.file}.`, {
          ...configLocation(req.config, ['containers']),
          fix: `Name at least one of the template's containers: ${listed}.`,
        }),
      );
    }
  } else {
    targets = names.filter((n, i) => n && containers[i]!.essential !== false);
  }
  if (req.image.kind === 'single' && targets.length > 1) {
    problems.push(
      new ActionError(`image is a single URI but ${targets.length} containers would receive it (${targets.join(', ')}).`, {
        input: 'image',
        fix: `Give one container=uri line per container (e.g. ${targets[0]}=<uri>), or list the main container in the feature config's "containers".`,
      }),
    );
  }
  return targets;
}

/**
 * Template entries keep their order; a config value of the same name replaces
 * the template's in place, a name that moved to the other kind (env ↔ secret)
 * disappears, and new names are appended. The result has each name once.
 */
export function mergeEntries(
  list: NameValue[],
  wanted: Map<string, { kind: 'env' | 'secret'; value: string; at: Location }>,
  kind: 'env' | 'secret',
  container: string,
  origins: Map<string, Location>,
): NameValue[] {
  const field = kind === 'env' ? 'value' : 'valueFrom';
  const listKind = kind === 'env' ? 'environment' : 'secrets';
  const out = new Map<string, NameValue>();
  for (const entry of list) {
    const w = wanted.get(entry.name);
    if (w && w.kind !== kind) continue;
    out.set(entry.name, w ? { name: entry.name, [field]: w.value } : entry);
  }
  for (const [name, w] of wanted) {
    if (w.kind !== kind) continue;
    out.set(name, { name, [field]: w.value });
    origins.set(originKey(container, listKind, name), w.at);
  }
  return [...out.values()];
}
