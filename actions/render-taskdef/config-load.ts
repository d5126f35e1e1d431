/**
 * Reading a feature config from disk: finding the file (one file, or a
 * directory plus a feature key), parsing it as JSON with line numbers, and
 * checking it against the schema, with a "did you mean" for a mistyped key.
 * It also names fields and places in the loaded file, because every later
 * error about the config points back at a line of it. Merging an environment
 * out of the loaded config is a separate step (config.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ActionError, aggregate, type Location } from '../../lib/errors.js';
import { featureConfigSchema, type FeatureConfig } from './config-schema.js';
import { decodeUtf8, parseJsonDoc, type JsonDoc, type JsonPath } from './json-source.js';
import { didYouMean } from './placeholders.js';
import { ssmVersionProblem } from './secret-ref.js';
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

export function configLocation(loaded: LoadedConfig, path: JsonPath): Location {
  return { file: loaded.doc.file, line: loaded.doc.lineOf(path), field: fieldName(path) };
}
