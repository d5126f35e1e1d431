/**
 * Resolving one environment out of a loaded feature config: the layering of
 * defaults, environment and byContainer sections, `null` and `!flag` removals,
 * and the least-privilege rule for which container gets which variable. This
 * is where the config's meaning is decided, so it is kept apart from reading
 * and schema-checking the file (config-load.ts).
 */
import { ActionError, aggregate } from '../../lib/errors.js';
import type { ConfigLayer, FeatureConfig } from './config-schema.js';
import { fieldName, type LoadedConfig } from './config-load.js';
import type { JsonPath } from './json-source.js';

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
