import { ActionError, type Location } from '../../lib/errors.js';
import { apiTypeAt } from '../../lib/ecs-shapes.js';
import { stripReadOnly } from '../../lib/taskdef.js';
import { configLocation, fieldName, type LoadedConfig, type ResolvedSettings } from './config.js';
import type { JsonDoc, JsonPath } from './json-source.js';
import { didYouMean, substitute, substituteDeep } from './placeholders.js';
import { checkStore, declaredNames, fixFor } from './render-checks.js';
import type { TerraformOutputs } from './terraform.js';
import type { ContainerDef, NameValue, TaskDef } from './taskdef-types.js';

/** The `image` input: nothing, one URI for the main container, or `container=uri` lines. */
export type ImageSpec = { kind: 'none' } | { kind: 'single'; uri: string } | { kind: 'per-container'; images: Map<string, string> };

export interface RenderRequest {
  template: JsonDoc;
  /** Template file name without `.json`, available as ${TEMPLATE_NAME}. */
  templateName: string;
  config: LoadedConfig;
  settings: ResolvedSettings;
  environment: string;
  image: ImageSpec;
  vars: Map<string, string>;
  region?: string;
  /** `terraform output -json`, as `${tf:NAME}`. */
  terraform?: TerraformOutputs;
}

export interface RenderResult {
  taskDef: TaskDef;
  /** Containers that received the image, the common settings and the injected variables. */
  targets: string[];
  /** Where each env/secret entry came from: key `container\0environment|secrets\0NAME`. */
  origins: Map<string, Location>;
  /** Where a path of the task definition is in the template: used for every field render does not inject. */
  locate: (path: JsonPath) => Location;
  problems: ActionError[];
  warnings: string[];
  /** Per container, the names its template declared before render (environment and secrets). */
  declared: Map<string, Set<string>>;
  /** Config entries for the whole environment a container did not get: its template does not declare them. */
  withheld: Withheld[];
  /** Where a sensitive Terraform output ended up (paths of taskDef; an env/secret entry by its index after the merge). */
  sensitive: SensitiveUse[];
}

interface Withheld {
  container: string;
  names: string[];
  /** Where each name is set in the config, in the order of names. */
  at: Location[];
}

interface SensitiveUse {
  path: JsonPath;
  /** The Terraform output's name (never its value). */
  output: string;
}

export const originKey = (container: string, kind: 'environment' | 'secrets', name: string) => `${container}\0${kind}\0${name}`;

export function renderTaskDefinition(req: RenderRequest): RenderResult {
  const { template, config, settings } = req;
  const problems: ActionError[] = [];
  const warnings: string[] = [];
  const origins = new Map<string, Location>();
  const locate = (path: JsonPath): Location => ({
    file: template.file,
    line: template.lineOf(path),
    ...(path.length ? { field: fieldName(path) } : {}),
  });

  const raw = template.value;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ActionError('The template must be a JSON object (a task definition).', {
      ...locate([]),
      fix: 'Start from the output of aws ecs describe-task-definition (its taskDefinition object) or examples/delivery-app/infra/taskdef/backend.json.',
    });
  }
  // describe-task-definition output wraps the definition: accept it as is.
  const wrapped = 'taskDefinition' in raw && typeof (raw as { taskDefinition: unknown }).taskDefinition === 'object';
  const base: JsonPath = wrapped ? ['taskDefinition'] : [];
  const source = stripReadOnly(
    (wrapped ? (raw as { taskDefinition: Record<string, unknown> }).taskDefinition : raw) as Record<string, unknown>,
  );
  const defs = source.containerDefinitions;
  if (!Array.isArray(defs) || defs.length === 0 || !defs.every((c) => c && typeof c === 'object' && !Array.isArray(c))) {
    throw new ActionError('containerDefinitions must be a non-empty array of container objects.', {
      ...locate([...base, 'containerDefinitions']),
      fix: 'Add at least one container with name, image and essential.',
    });
  }

  // Placeholder values, lowest precedence first: built-ins, then the config, then the vars input.
  const values = new Map<string, string>([
    ['DEPLOY_ENV', req.environment],
    ['TEMPLATE_NAME', req.templateName],
  ]);
  // An app without features has no FEATURE_KEY: ${FEATURE_KEY} is then unresolved, as any unknown name.
  if (config.config.feature !== undefined) values.set('FEATURE_KEY', config.config.feature);
  if (req.region) values.set('AWS_REGION', req.region);
  const mainImage =
    req.image.kind === 'single' ? req.image.uri : req.image.kind === 'per-container' ? [...req.image.images.values()][0] : undefined;
  if (mainImage) values.set('IMAGE_URI', mainImage);
  // Terraform outputs may fill config placeholders too (a role ARN computed from ${tf:...}).
  for (const [name, out] of req.terraform ?? []) if (out.value !== undefined) values.set(`tf:${name}`, out.value);
  const builtIns = new Map(values);
  // Placeholder names whose value carries a sensitive output (directly, or through a placeholder or vars
  // entry that uses one), to that output's name: traced by name, since 5432 or true cannot be searched for.
  const sensitiveVia = new Map<string, string>();
  for (const [name, out] of req.terraform ?? []) if (out.sensitive) sensitiveVia.set(`tf:${name}`, name);
  const taint = (used: string[]) => used.map((n) => sensitiveVia.get(n)).find((o) => o !== undefined);
  const configProblem = (path: JsonPath, names: string[], what: string) =>
    problems.push(
      new ActionError(`unresolved ${names.join(', ')} in ${what}.`, {
        ...configLocation(config, path),
        fix: `${names
          .map((n) => didYouMean(n.slice(2, -1), [...builtIns.keys()]))
          .filter(Boolean)
          .map((g) => `Did you mean \${${g}}? `)
          .join('')}Config values may use ${[...builtIns.keys()]
          .filter((k) => !k.startsWith('tf:'))
          .map((k) => `\${${k}}`)
          .join(', ')}, \${tf:NAME} with terraform-outputs, the placeholders section and the vars input.`,
      }),
    );
  for (const [name, { value, path }] of settings.placeholders) {
    const r = substitute(value, builtIns);
    if (r.unresolved.length) configProblem(path, r.unresolved, `placeholder ${name}`);
    const output = taint(r.used);
    if (output) sensitiveVia.set(name, output);
    values.set(name, r.text);
  }
  // vars may name Terraform outputs (EXEC_ROLE_ARN=${tf:exec_role_arn}), so a template keeps its own placeholder names.
  for (const [name, value] of req.vars) {
    const r = substitute(value, builtIns);
    if (r.unresolved.length) {
      problems.push(
        new ActionError(`unresolved ${r.unresolved.join(', ')} in ${name} of input 'vars'.`, {
          input: 'vars',
          fix: r.unresolved.map((p) => fixFor(p, builtIns, req.terraform)).join(' '),
        }),
      );
    }
    const output = taint(r.used);
    if (output) sensitiveVia.set(name, output);
    values.set(name, r.text);
  }
  const placeholderFix = (placeholder: string) => fixFor(placeholder, values, req.terraform);

  const unresolved: { path: JsonPath; names: string[] }[] = [];
  const fromTemplate: SensitiveUse[] = [];
  const rendered = substituteDeep(
    source,
    values,
    (path, names) => unresolved.push({ path: [...base, ...path], names }),
    (path, names) => {
      const output = taint(names);
      if (output) fromTemplate.push({ path, output });
    },
    // "memory": "${CMEM}" renders 512 where the ECS API takes a number (JSON has no unquoted placeholder).
    (path, text) => {
      const type = apiTypeAt(path);
      if (type === 'number' && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text);
      if (type === 'boolean' && /^(true|false)$/.test(text.trim())) return text.trim() === 'true';
      return text;
    },
  ) as TaskDef;
  for (const { path, names } of unresolved) {
    problems.push(
      new ActionError(`unresolved placeholder ${names.join(', ')}.`, {
        ...locate(path),
        fix: names.map(placeholderFix).join(' '),
      }),
    );
  }

  const containers = rendered.containerDefinitions;
  const names = containers.map((c) => (typeof c.name === 'string' ? c.name : ''));
  const targets = chooseTargets(req, names, containers, problems);
  const featureFlags = settings.flags.join(',');
  const usesFlags =
    config.config.feature !== undefined ||
    [config.config.defaults, ...Object.values(config.config.environments)].some((l) => l?.flags !== undefined);
  const declared = new Map<string, Set<string>>();
  const withheldFrom: Withheld[] = [];
  const fromConfig: { index: number; kind: 'environment' | 'secrets'; name: string; at: Location; output: string }[] = [];
  // Template entries are named now: the merge below reorders and replaces them.
  const templateEntries = fromTemplate.map((u) => ({ ...u, entry: entryAt(source, u.path) }));

  containers.forEach((c, index) => {
    const name = names[index]!;
    const tpath: JsonPath = [...base, 'containerDefinitions', index];
    for (const kind of ['environment', 'secrets'] as const) {
      const list = c[kind];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        problems.push(
          new ActionError(`${kind} must be an array of {name, ${kind === 'environment' ? 'value' : 'valueFrom'}} objects.`, {
            ...locate([...tpath, kind]),
            fix: 'See the ECS task definition reference.',
          }),
        );
        c[kind] = [];
        continue;
      }
      list.forEach((e, j) => origins.set(originKey(name, kind, String(e?.name)), locate([...tpath, kind, j])));
    }
    const declaredHere = declaredNames(c, tpath, locate, problems);
    declared.set(name, declaredHere);
    const isTarget = targets.includes(name);
    if (!isTarget && !settings.namedContainers.has(name)) return; // sidecars stay exactly as the template has them

    if (isTarget && req.image.kind !== 'none')
      c.image = req.image.kind === 'single' ? req.image.uri : (req.image.images.get(name) ?? c.image);
    const wanted = new Map<string, { kind: 'env' | 'secret'; value: string; at: Location }>();
    const { vars, withheld } = settings.varsFor(name, isTarget, declaredHere);
    for (const [varName, { value, path }] of vars) {
      const r = substitute(value.value, values);
      if (r.unresolved.length) configProblem(path, r.unresolved, varName);
      else if (value.store) checkStore(value.store, r.text, varName, configLocation(config, path), problems);
      const at = configLocation(config, path);
      wanted.set(varName, { kind: value.kind, value: r.text, at });
      const output = taint(r.used);
      if (output) fromConfig.push({ index, kind: value.kind === 'env' ? 'environment' : 'secrets', name: varName, at, output });
    }
    if (withheld.size)
      withheldFrom.push({ container: name, names: [...withheld.keys()], at: [...withheld.values()].map((p) => configLocation(config, p)) });
    if (isTarget) {
      // Injected last: the app can rely on these whatever the config says.
      // An app without features (no feature key, no flags anywhere) gets neither FEATURE_KEY nor FEATURE_FLAGS.
      if (config.config.feature !== undefined)
        wanted.set('FEATURE_KEY', { kind: 'env', value: config.config.feature, at: { input: 'feature' } });
      wanted.set('DEPLOY_ENV', { kind: 'env', value: req.environment, at: { input: 'environment' } });
      if (usesFlags) {
        wanted.set('FEATURE_FLAGS', {
          kind: 'env',
          value: featureFlags,
          at: configLocation(
            config,
            config.config.environments[req.environment]?.flags ? ['environments', req.environment, 'flags'] : ['defaults', 'flags'],
          ),
        });
      }
    }
    c.environment = mergeEntries(c.environment ?? [], wanted, 'env', name, origins);
    c.secrets = mergeEntries(c.secrets ?? [], wanted, 'secret', name, origins);
    if (c.secrets.length === 0 && !('secrets' in (defs[index] as object))) delete c.secrets;
  });

  const sensitive: SensitiveUse[] = templateEntries.filter((u) => !u.entry).map(({ path, output }) => ({ path, output }));
  const entryIndex = (index: number, kind: 'environment' | 'secrets', name: string, from: (at: Location | undefined) => boolean) => {
    const k = (containers[index]?.[kind] ?? []).findIndex((e) => e?.name === name);
    return k >= 0 && from(origins.get(originKey(names[index]!, kind, name))) ? k : -1;
  };
  for (const u of templateEntries) {
    if (!u.entry) continue;
    const k = entryIndex(u.entry.index, u.entry.kind, u.entry.name, (at) => at?.file === template.file);
    if (k >= 0) sensitive.push({ path: ['containerDefinitions', u.entry.index, u.entry.kind, k, ...u.path.slice(4)], output: u.output });
  }
  for (const u of fromConfig) {
    const k = entryIndex(u.index, u.kind, u.name, (at) => at === u.at);
    if (k >= 0) sensitive.push({ path: ['containerDefinitions', u.index, u.kind, k], output: u.output });
  }

  for (const [name, path] of settings.namedContainers) {
    if (!names.includes(name))
      warnings.push(
        `${configLocation(config, path).file}: byContainer.${name} is skipped here: ${req.templateName} has no container '${name}' (it has ` +
          `${names.join(', ')}).`,
      );
  }
  return {
    taskDef: rendered,
    targets,
    origins,
    locate: (path) => locate([...base, ...path]),
    problems,
    warnings,
    declared,
    sensitive,
    withheld: withheldFrom,
  };
}

/** The environment or secrets entry a template path lies in, named as the template names it. */
function entryAt(
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

function chooseTargets(req: RenderRequest, names: string[], containers: ContainerDef[], problems: ActionError[]): string[] {
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
function mergeEntries(
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
