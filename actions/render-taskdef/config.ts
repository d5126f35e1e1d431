import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ActionError, aggregate, type Location } from '../../lib/errors.js';
import { featureConfigSchema, type ConfigLayer, type FeatureConfig } from './config-schema.js';
import { parseJsonDoc, type JsonDoc, type JsonPath } from './json-source.js';
import { displayPath, type Workspace } from './workspace.js';

export interface LoadedConfig {
  doc: JsonDoc;
  config: FeatureConfig;
}

/** Which feature config to read: a file, or a directory plus a feature key. */
export type ConfigSource = { kind: 'file'; path: string; feature?: string } | { kind: 'dir'; dir: string; feature: string };

export function readJsonFile(path: string, ws: Workspace, input: string): JsonDoc {
  const abs = ws.resolve(path);
  const file = displayPath(abs, ws);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new ActionError(`File '${file}' does not exist.`, { input, fix: `Check the ${input} input; relative paths are resolved against GITHUB_WORKSPACE (${ws.root}).` });
  }
  return parseJsonDoc(readFileSync(abs, 'utf8'), file);
}

export function loadFeatureConfig(source: ConfigSource, ws: Workspace): LoadedConfig {
  let doc: JsonDoc;
  if (source.kind === 'dir') {
    const dir = ws.resolve(source.dir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ActionError(`Features directory '${displayPath(dir, ws)}' does not exist.`, { input: 'features-dir', fix: 'Point features-dir at the folder holding <feature>.json files, e.g. infra/env/features.' });
    }
    const known = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    if (!known.includes(source.feature)) {
      throw new ActionError(`Unknown feature '${source.feature}': there is no ${source.feature}.json in ${displayPath(dir, ws)}.`, {
        input: 'feature',
        fix: known.length ? `Use one of the known features: ${known.join(', ')}.` : `Add ${source.feature}.json to ${displayPath(dir, ws)}.`,
      });
    }
    doc = readJsonFile(join(dir, `${source.feature}.json`), ws, 'features-dir');
  } else {
    doc = readJsonFile(source.path, ws, 'feature-config');
  }

  const parsed = featureConfigSchema.safeParse(doc.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      // For unknown keys zod reports the parent; point at the key itself.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const at = keys.length ? [...path, keys[0]!] : path;
      return new ActionError(issue.code === 'unrecognized_keys' ? `unknown field(s) ${keys.map((k) => `'${k}'`).join(', ')}.` : `${issue.message}.`, {
        file: doc.file,
        line: doc.lineOf(at),
        field: fieldName(at) || '(root)',
        fix: `See schemas/feature-config.schema.json for the format (add "$schema" to the file for editor completion).`,
      });
    });
    throw aggregate(`Feature config ${doc.file} does not match the schema`, problems);
  }
  const config = parsed.data;
  const expected = source.kind === 'dir' ? source.feature : source.feature;
  if (expected !== undefined && config.feature !== expected) {
    throw new ActionError(`The config's feature key is '${config.feature}', not '${expected}'.`, {
      file: doc.file,
      line: doc.lineOf(['feature']),
      field: 'feature',
      fix: source.kind === 'dir' ? `Name the file ${config.feature}.json or set "feature": "${expected}".` : `Set the feature input to '${config.feature}' or remove it.`,
    });
  }
  return { doc, config };
}

export function fieldName(path: JsonPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function knownEnvironments(config: FeatureConfig): string[] {
  return Object.keys(config.environments).sort();
}

/** One resolved setting plus where it was set, so later errors can point at that line. */
export interface Sourced<T> {
  value: T;
  path: JsonPath;
}

export type VarValue = { kind: 'env' | 'secret'; value: string };

export interface ResolvedSettings {
  placeholders: Map<string, Sourced<string>>;
  flags: string[];
  /** Container names that have a byContainer section, with where the first one is. */
  namedContainers: Map<string, JsonPath>;
  /**
   * Variables and secrets for one container. Target containers get the common
   * settings and their byContainer ones; any other container only its byContainer ones.
   */
  varsFor(container: string, target: boolean): Map<string, Sourced<VarValue>>;
}

/**
 * Merges defaults and one environment: environments override defaults key by
 * key (defaults < defaults.byContainer < environment < environment.byContainer),
 * `null` removes an earlier value, and `!flag` removes a default flag.
 */
export function resolveEnvironment(loaded: LoadedConfig, environment: string, input = 'environment'): ResolvedSettings {
  const { config, doc } = loaded;
  const env = config.environments[environment];
  if (!env) {
    const known = knownEnvironments(config);
    throw new ActionError(`Unknown environment '${environment}' in feature '${config.feature}'.`, {
      input,
      file: doc.file,
      line: doc.lineOf(['environments']),
      field: 'environments',
      fix: known.length ? `Use one of the known environments: ${known.join(', ')}, or add "${environment}" under environments.` : `Add "${environment}" under environments.`,
    });
  }
  const layers: [JsonPath, ConfigLayer][] = [];
  if (config.defaults) layers.push([['defaults'], config.defaults]);
  layers.push([['environments', environment], env]);

  const placeholders = new Map<string, Sourced<string>>();
  const flags: string[] = [];
  const namedContainers = new Map<string, JsonPath>();
  const problems: ActionError[] = [];
  type VarLayer = { environment?: Record<string, string | null>; secrets?: Record<string, string | null> };

  for (const [base, l] of layers) {
    for (const [name, value] of Object.entries(l.placeholders ?? {})) {
      if (value === null) placeholders.delete(name);
      else placeholders.set(name, { value, path: [...base, 'placeholders', name] });
    }
    for (const flag of l.flags ?? []) {
      if (flag.startsWith('!')) {
        const i = flags.indexOf(flag.slice(1));
        if (i >= 0) flags.splice(i, 1);
      } else if (!flags.includes(flag)) flags.push(flag);
    }
    const check = (path: JsonPath, v: VarLayer) => {
      for (const name of Object.keys(v.environment ?? {})) {
        if (v.secrets && name in v.secrets) {
          const at = [...path, 'secrets', name];
          problems.push(new ActionError(`'${name}' is set both as a plain variable and as a secret.`, { file: doc.file, line: doc.lineOf(at), field: fieldName(at), fix: 'Keep it in one of environment or secrets.' }));
        }
      }
    };
    check(base, l);
    for (const [name, cl] of Object.entries(l.byContainer ?? {})) {
      if (!namedContainers.has(name)) namedContainers.set(name, [...base, 'byContainer', name]);
      check([...base, 'byContainer', name], cl);
    }
  }
  if (problems.length) throw aggregate(`Feature config ${doc.file} is ambiguous`, problems);

  const apply = (out: Map<string, Sourced<VarValue>>, base: JsonPath, v: VarLayer | undefined) => {
    for (const kind of ['environment', 'secrets'] as const) {
      for (const [name, value] of Object.entries(v?.[kind] ?? {})) {
        // A name lives in one place only: moving it from environment to secrets replaces it.
        if (value === null) out.delete(name);
        else out.set(name, { value: { kind: kind === 'environment' ? 'env' : 'secret', value }, path: [...base, kind, name] });
      }
    }
  };
  return {
    placeholders,
    flags,
    namedContainers,
    varsFor(container, target) {
      const out = new Map<string, Sourced<VarValue>>();
      for (const [base, l] of layers) {
        if (target) apply(out, base, l);
        apply(out, [...base, 'byContainer', container], l.byContainer?.[container]);
      }
      return out;
    },
  };
}

export function configLocation(loaded: LoadedConfig, path: JsonPath): Location {
  return { file: loaded.doc.file, line: loaded.doc.lineOf(path), field: fieldName(path) };
}

export function featureFromFileName(path: string): string {
  return basename(path).replace(/\.json$/, '');
}
