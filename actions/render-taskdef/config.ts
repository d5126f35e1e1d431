import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ActionError, aggregate, type Location } from '../../lib/errors.js';
import { featureConfigSchema, type ConfigLayer, type FeatureConfig } from './config-schema.js';
import { decodeUtf8, parseJsonDoc, type JsonDoc, type JsonPath } from './json-source.js';
import { ssmVersionProblem } from './secret-ref.js';
import { didYouMean } from './placeholders.js';
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
    throw new ActionError(`File '${file}' does not exist.`, {
      input,
      fix: `Check the ${input} input; relative paths are resolved against GITHUB_WORKSPACE (${ws.root}).`,
    });
  }
  const text = decodeUtf8(readFileSync(abs), file);
  try {
    return parseJsonDoc(text, file);
  } catch (err) {
    if (/\.ya?ml$/i.test(file) || looksLikeYaml(text)) throw yamlError(file, input);
    throw err;
  }
}

/** `key: value`, `- item` or `---` as the first line that is not a comment: YAML, not broken JSON. */
function looksLikeYaml(text: string): boolean {
  const first = text.split('\n').find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  return first !== undefined && /^(---|- |[A-Za-z_$"'][\w$.'"-]*\s*:(\s|$))/.test(first.trimStart());
}

// No YAML parser ships in the bundles (the yaml package is a development dependency, for the tests'
// workflow files): a YAML file gets a message saying so, not a JSON syntax error on line 1.
function yamlError(file: string, input: string): ActionError {
  const json = /\.ya?ml$/i.test(file) ? file.replace(/\.ya?ml$/i, '.json') : `${file}.json`;
  return new ActionError(`${input} ${file} is YAML: templates and feature configs are read as JSON only (YAML is not supported).`, {
    file,
    line: 1,
    fix: `Convert it to JSON, e.g. \`yq -o=json '.' ${file} > ${json}\`, commit ${json} and point ${input} at it.`,
  });
}

export function loadFeatureConfig(source: ConfigSource, ws: Workspace): LoadedConfig {
  let doc: JsonDoc;
  if (source.kind === 'dir') {
    const dir = ws.resolve(source.dir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ActionError(`Features directory '${displayPath(dir, ws)}' does not exist.`, {
        input: 'features-dir',
        fix: 'Point features-dir at the folder holding <feature>.json files, e.g. infra/env/features.',
      });
    }
    const known = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
    if (!known.includes(source.feature)) {
      const yaml = ['yml', 'yaml'].map((ext) => join(dir, `${source.feature}.${ext}`)).find((f) => existsSync(f));
      if (yaml) throw yamlError(displayPath(yaml, ws), 'features-dir');
      throw new ActionError(`Unknown feature '${source.feature}': there is no ${source.feature}.json in ${displayPath(dir, ws)}.`, {
        input: 'feature',
        fix: known.length
          ? `Use one of the known features: ${known.join(', ')}.`
          : `Add ${source.feature}.json to ${displayPath(dir, ws)}.`,
      });
    }
    doc = readJsonFile(join(dir, `${source.feature}.json`), ws, 'features-dir');
  } else {
    doc = readJsonFile(source.path, ws, 'feature-config');
  }

  const configInput = source.kind === 'dir' ? 'features-dir' : 'feature-config';
  const parsed = featureConfigSchema.safeParse(doc.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      // For unknown keys zod reports the parent; point at the key itself.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const at = keys.length ? [...path, keys[0]!] : path;
      const guesses = keys.map((k) => [k, didYouMean(k, KNOWN_KEYS)] as const).filter(([, g]) => g !== undefined);
      const value = path.reduce<unknown>(
        (v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined),
        doc.value,
      );
      const versioned = typeof value === 'string' ? ssmVersionProblem(value) : undefined;
      if (versioned) {
        return new ActionError(`input ${configInput}: ${versioned.error}.`, {
          file: doc.file,
          line: doc.lineOf(path),
          field: fieldName(path),
          fix: versioned.fix,
        });
      }
      return new ActionError(
        issue.code === 'unrecognized_keys' ? `unknown field(s) ${keys.map((k) => `'${k}'`).join(', ')}.` : `${issue.message}.`,
        {
          file: doc.file,
          line: doc.lineOf(at),
          field: fieldName(at) || '(root)',
          fix:
            `${guesses.map(([k, g]) => `Did you mean '${g}' for '${k}'? `).join('')}See schemas/feature-config.schema.json for the ` +
            `format (add "$schema" to the file for editor completion) and "Adopting an existing app" in the render-taskdef README for the shapes accepted.`,
        },
      );
    });
    throw aggregate(`Feature config ${doc.file} does not match the schema`, problems);
  }
  const { feature: featureField, featureKey, ...rest } = parsed.data;
  const keyField = featureField !== undefined ? 'feature' : 'featureKey';
  if (featureField !== undefined && featureKey !== undefined && featureField !== featureKey) {
    throw new ActionError(`feature is '${featureField}' but featureKey is '${featureKey}'.`, {
      file: doc.file,
      line: doc.lineOf(['featureKey']),
      field: 'featureKey',
      fix: 'Keep one of the two (they mean the same).',
    });
  }
  // Without a key in the file, the feature input (features-dir needs it) names the feature; with neither, the app has none.
  const config: FeatureConfig = { ...rest, feature: featureField ?? featureKey ?? source.feature };
  const expected = source.feature;
  if (expected !== undefined && config.feature !== expected) {
    throw new ActionError(`The config's feature key is '${config.feature}', not '${expected}'.`, {
      file: doc.file,
      line: doc.lineOf([keyField]),
      field: keyField,
      fix:
        source.kind === 'dir'
          ? `Name the file ${config.feature}.json or set "${keyField}": "${expected}".`
          : `Set the feature input to '${config.feature}' or remove it.`,
    });
  }
  return { doc, config };
}

/** Every field name of the format, for "did you mean" on a typo (the schema says where each is allowed). */
const KNOWN_KEYS = [
  '$schema',
  'feature',
  'featureKey',
  'description',
  'containers',
  'defaults',
  'environments',
  'environment',
  'secrets',
  'ssm',
  'secretsManager',
  'flags',
  'placeholders',
  'byContainer',
];

export function fieldName(path: JsonPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function knownEnvironments(config: FeatureConfig): string[] {
  return Object.keys(config.environments).sort();
}

/** One resolved setting plus where it was set, so later errors can point at that line. */
interface Sourced<T> {
  value: T;
  path: JsonPath;
}

/** `store` is set when the config said which store (`ssm` / `secretsManager` maps), so the reference can be checked against it. */
type VarValue = { kind: 'env' | 'secret'; value: string; store?: 'ssm' | 'secretsmanager' };

/** What one container gets from the config, and the common names it does not get (least privilege). */
interface ContainerVars {
  vars: Map<string, Sourced<VarValue>>;
  /** Common (not byContainer) names withheld because the container's template does not declare them. */
  withheld: Map<string, JsonPath>;
}

export interface ResolvedSettings {
  placeholders: Map<string, Sourced<string>>;
  flags: string[];
  /** Container names that have a byContainer section, with where the first one is. */
  namedContainers: Map<string, JsonPath>;
  /**
   * Variables and secrets for one container. Least privilege: a common
   * (environment-wide) name reaches a target container only when its template
   * already declares that name, a byContainer section for it names it, or the
   * config's "containers" list names the container; any other container only
   * gets its byContainer settings.
   */
  varsFor(container: string, target: boolean, declared: ReadonlySet<string>): ContainerVars;
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
      fix: known.length
        ? `Use one of the known environments: ${known.join(', ')}, or add "${environment}" under environments.`
        : `Add "${environment}" under environments.`,
    });
  }
  const layers: [JsonPath, ConfigLayer][] = [];
  if (config.defaults) layers.push([['defaults'], config.defaults]);
  layers.push([['environments', environment], env]);

  const placeholders = new Map<string, Sourced<string>>();
  const flags: string[] = [];
  const namedContainers = new Map<string, JsonPath>();
  const problems: ActionError[] = [];
  type VarLayer = Partial<Record<VarKind, Record<string, string | null>>>;

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
      const seen = new Map<string, VarKind>();
      for (const kind of VAR_KINDS) {
        for (const name of Object.keys(v[kind] ?? {})) {
          const first = seen.get(name);
          if (first === undefined) {
            seen.set(name, kind);
            continue;
          }
          const at = [...path, kind, name];
          const what = first === 'environment' ? 'both as a plain variable and as a secret' : `in both ${first} and ${kind}`;
          problems.push(
            new ActionError(`'${name}' is set ${what}.`, {
              file: doc.file,
              line: doc.lineOf(at),
              field: fieldName(at),
              fix: `Keep it in one of ${first} or ${kind}.`,
            }),
          );
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

  const apply = (out: ContainerVars, base: JsonPath, v: VarLayer | undefined, allowed?: (name: string) => boolean) => {
    for (const kind of VAR_KINDS) {
      for (const [name, value] of Object.entries(v?.[kind] ?? {})) {
        const path = [...base, kind, name];
        if (allowed && !allowed(name)) {
          if (value === null) out.withheld.delete(name);
          else out.withheld.set(name, path);
          continue;
        }
        // A name lives in one place only: moving it from environment to secrets replaces it.
        if (value === null) out.vars.delete(name);
        else
          out.vars.set(name, {
            value: { kind: kind === 'environment' ? 'env' : 'secret', value, ...(STORE[kind] ? { store: STORE[kind] } : {}) },
            path,
          });
      }
    }
  };
  return {
    placeholders,
    flags,
    namedContainers,
    varsFor(container, target, declared) {
      const named = new Set<string>();
      for (const [, l] of layers)
        for (const kind of VAR_KINDS) for (const name of Object.keys(l.byContainer?.[container]?.[kind] ?? {})) named.add(name);
      // Listing a container in "containers" names it for every whole-environment setting.
      const listed = config.containers?.includes(container) ?? false;
      const allowed = (name: string) => listed || declared.has(name) || named.has(name);
      const out: ContainerVars = { vars: new Map(), withheld: new Map() };
      for (const [base, l] of layers) {
        if (target) apply(out, base, l, allowed);
        apply(out, [...base, 'byContainer', container], l.byContainer?.[container]);
      }
      return out;
    },
  };
}

const VAR_KINDS = ['environment', 'secrets', 'ssm', 'secretsManager'] as const;
type VarKind = (typeof VAR_KINDS)[number];
const STORE: Partial<Record<VarKind, 'ssm' | 'secretsmanager'>> = { ssm: 'ssm', secretsManager: 'secretsmanager' };

export function configLocation(loaded: LoadedConfig, path: JsonPath): Location {
  return { file: loaded.doc.file, line: loaded.doc.lineOf(path), field: fieldName(path) };
}
