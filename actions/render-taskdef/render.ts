/**
 * The render walk itself: substitute placeholders through the template,
 * apply the feature config's settings to the chosen containers, and record
 * where every value came from so later checks can point at a file and line.
 * The request/result shapes and the per-container entry rules live beside it
 * (render-types.ts, render-entries.ts) so this file stays the one pass.
 */
import { ActionError, type Location } from '../../lib/errors.js';
import { apiTypeAt } from '../../lib/ecs-shapes.js';
import { stripReadOnly } from '../../lib/taskdef.js';
import { configLocation, fieldName } from './config-load.js';
import type { JsonPath } from './json-source.js';
import { didYouMean, substitute, substituteDeep } from './placeholders.js';
import { checkStore, declaredNames, fixFor } from './render-checks.js';
import { chooseTargets, entryAt, mergeEntries } from './render-entries.js';
import { originKey, type RenderRequest, type RenderResult, type SensitiveUse, type Withheld } from './render-types.js';
import type { TaskDef } from './taskdef-types.js';

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
