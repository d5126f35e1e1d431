import { ActionError } from '../../lib/errors.js';
import { fieldName } from './config-load.js';
import type { JsonPath } from './json-source.js';
import type { RenderResult } from './render-types.js';

/** Names teams give their environments; the known-environments input replaces this list. */
export const DEFAULT_KNOWN_ENVIRONMENTS = ['dev', 'development', 'test', 'staging', 'stage', 'qa', 'uat', 'preprod', 'prod', 'production'];

/** Spellings of one environment: a `prod` render may say `production`. */
const ALIASES = [
  ['dev', 'development'],
  ['stage', 'staging'],
  ['prod', 'production'],
];

/**
 * Variables that select a framework's build mode, not the deployment: NODE_ENV=production is what a
 * staging Node.js server runs with too (and Rails, Rack, Phoenix, Flask, ASP.NET likewise).
 */
const FRAMEWORK_MODES = new Set([
  'NODE_ENV',
  'RAILS_ENV',
  'RACK_ENV',
  'MIX_ENV',
  'FLASK_ENV',
  'ASPNETCORE_ENVIRONMENT',
  'DOTNET_ENVIRONMENT',
]);

/** Token delimiters: ARN and path separators, name separators, and what splits a command line or a URL. */
const DELIMITERS = /[/:\-_.\s=,@?&]+/;

export interface ForeignCheck {
  environment: string;
  /** known-environments plus the feature config's environments. */
  environments: readonly string[];
  /** allow-foreign: values (with * wildcards) that may name another environment, e.g. a shared resource. */
  allowForeign: readonly string[];
  /** Where the config is, for the fix of a template secret. */
  configFile: string;
}

/** The environments a value must not name in this render: every known one but this one and its aliases. */
function foreignEnvironments(environment: string, environments: readonly string[]): Set<string> {
  const own = environment.toLowerCase();
  const same = new Set([own, ...(ALIASES.find((group) => group.includes(own)) ?? [])]);
  return new Set(environments.map((e) => e.toLowerCase()).filter((e) => e !== '' && !same.has(e)));
}

/** A value matches an allow-foreign entry as a whole; `*` stands for any characters. */
function allowMatcher(patterns: readonly string[]): (value: string) => boolean {
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (value) => regexes.some((r) => r.test(value));
}

export function parseList(raw: string, input: string): string[] {
  const items = raw
    .split(/[\n,]/)
    .map((n) => n.trim())
    .filter((n) => n !== '' && !n.startsWith('#'));
  for (const item of items) {
    if (/\s/.test(item))
      throw new ActionError(`input '${input}' has '${item}', which holds a space.`, {
        input,
        fix: 'Separate entries with commas or new lines.',
      });
  }
  return items;
}

/**
 * Another environment's identifiers in this render: a template copied from `describe-task-definition`
 * for prod and rendered for dev keeps prod's family, roles, log group, secret ARNs and ENVIRONMENT=prod,
 * and ECS registers it without complaint — the dev service would then read prod's secrets. Every string
 * of the rendered definition is split into tokens on `/ : - _ .` (and spaces, `=`, `,`, `@`, `?`, `&`);
 * a token equal to another environment's name is an error on the line the value came from. Images are
 * left out: the same image is promoted from one environment to the next. Variable names are not values,
 * and framework modes (NODE_ENV=production) are not environments.
 */
export function checkForeign(r: RenderResult, check: ForeignCheck): { path: JsonPath; message: string; fix: string }[] {
  const foreign = foreignEnvironments(check.environment, check.environments);
  const allowed = allowMatcher(check.allowForeign);
  const problems: { path: JsonPath; message: string; fix: string }[] = [];
  const visit = (v: unknown, path: (string | number)[]) => {
    if (typeof v === 'string') {
      const other = v.split(DELIMITERS).find((token) => foreign.has(token.toLowerCase()));
      if (other !== undefined && !allowed(v)) problems.push(problemAt([...path], v, other.toLowerCase(), r, check));
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...path, i]));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'image' && path.length === 2 && path[0] === 'containerDefinitions') continue;
        if (k === 'name' && (path[2] === 'environment' || path[2] === 'secrets')) continue;
        if (k === 'value' && path[2] === 'environment' && FRAMEWORK_MODES.has(String((v as { name?: unknown }).name))) continue;
        visit(x, [...path, k]);
      }
    }
  };
  visit(r.taskDef, []);
  return problems;
}

function problemAt(path: JsonPath, value: string, other: string, r: RenderResult, check: ForeignCheck) {
  const { environment } = check;
  const entry = path[0] === 'containerDefinitions' && (path[2] === 'environment' || path[2] === 'secrets') && typeof path[3] === 'number';
  const c = path[0] === 'containerDefinitions' && typeof path[1] === 'number' ? r.taskDef.containerDefinitions[path[1]] : undefined;
  const where = c ? `container '${String(c.name)}': ` : '';
  const allow = `If it is shared on purpose, list it in the allow-foreign input (${value}).`;
  if (entry) {
    const name = String(c?.[path[2] as 'environment' | 'secrets']?.[path[3] as number]?.name);
    if (path[2] === 'secrets') {
      return {
        path: path.slice(0, 4),
        message: `${where}secret ${name} is ${value}, a '${other}' resource, in a '${environment}' render.`,
        fix:
          `Set it for ${environment} in ${check.configFile}: "environments": { "${environment}": { "ssm": { "${name}": "<the ` +
          `${environment} parameter>" } } } (or secretsManager for an ARN). ${allow}`,
      };
    }
    return {
      path: path.slice(0, 4),
      message: `${where}${name} is '${value}', which names environment '${other}', in a '${environment}' render.`,
      fix: `Set ${name} for ${environment} in ${check.configFile} (or use \${DEPLOY_ENV} in the value). ${allow}`,
    };
  }
  return {
    path,
    message: `${where}${fieldName(path)} is '${value}', which names environment '${other}', in a '${environment}' render.`,
    fix:
      `Use a placeholder so each environment gets its own value (\${DEPLOY_ENV}, a Terraform output \${tf:NAME}, the config's ` +
      `placeholders or the vars input). ${allow}`,
  };
}
