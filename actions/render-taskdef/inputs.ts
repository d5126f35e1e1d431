import { ActionError } from '../../lib/errors.js';
import { Inputs, parseKeyValueLines, type InputReader, envReader } from '../../lib/inputs.js';
import type { ConfigSource } from './config-load.js';
import { DEFAULT_KNOWN_ENVIRONMENTS, parseList } from './foreign.js';
import type { ImageSpec } from './render-types.js';

/** Every input of actions/render-taskdef/action.yml, typed. */
export interface RenderInputs {
  template: string;
  config: ConfigSource;
  environment: string;
  image: ImageSpec;
  vars: Map<string, string>;
  /** Empty: `${RUNNER_TEMP}/render-taskdef/<family>.json`. */
  output?: string;
  awsRegion?: string;
  verify: boolean;
  maxAttempts: number;
  /** Path of the file `terraform output -json > tf.json` wrote; empty when not given. */
  terraformOutputsFile: string;
  /** The older form: the JSON itself (already printed by the runner) or a file path; empty when not given. */
  terraformOutputs: string;
  /** Globs of plain variable names that look like secrets by name but are not (no warning). */
  allowPlainNames: string[];
  /** Environment names a value must not name unless it is this render's (the config's are added). */
  knownEnvironments: string[];
  /** Values (with * wildcards) allowed to name another environment: shared resources. */
  allowForeign: string[];
}

const CONTAINER_LINE = /^([A-Za-z0-9_-]{1,255})=(.*)$/;

export function parseImage(raw: string): ImageSpec {
  const lines = raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) return { kind: 'none' };
  // A registry host has dots and an image URI has no '=' before them, so 'name=' means the container form.
  if (lines.length === 1 && !CONTAINER_LINE.test(lines[0]!)) return { kind: 'single', uri: checkUri(lines[0]!, 1) };
  const images = new Map<string, string>();
  lines.forEach((line, i) => {
    const m = CONTAINER_LINE.exec(line);
    if (!m)
      throw new ActionError(`line ${i + 1} of input 'image' is '${line}', not container=uri.`, {
        input: 'image',
        fix: 'Give either one image URI, or one container=uri line per container.',
      });
    if (images.has(m[1]!))
      throw new ActionError(`input 'image' names container '${m[1]}' twice.`, { input: 'image', fix: 'Keep one line per container.' });
    images.set(m[1]!, checkUri(m[2]!.trim(), i + 1));
  });
  return { kind: 'per-container', images };
}

function checkUri(uri: string, line: number): string {
  if (uri === '' || /\s/.test(uri) || !/^[a-z0-9]/i.test(uri)) {
    throw new ActionError(`line ${line} of input 'image' has an invalid image URI '${uri}'.`, {
      input: 'image',
      fix: 'Use a URI such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123.',
    });
  }
  return uri;
}

export function getInputs(reader: InputReader = envReader): RenderInputs {
  const inputs = new Inputs(reader);
  const template = inputs.required('template', 'Set template to the task-definition template, e.g. infra/taskdef/backend.json.');
  const configPath = inputs.string('feature-config');
  const dir = inputs.string('features-dir');
  const feature = inputs.string('feature');
  let config: ConfigSource;
  if (configPath && dir) {
    throw new ActionError('Inputs feature-config and features-dir are both set.', {
      input: 'feature-config',
      fix: 'Use feature-config (one file) or features-dir plus feature, not both.',
    });
  } else if (configPath) {
    config = { kind: 'file', path: configPath, ...(feature ? { feature } : {}) };
  } else if (dir) {
    if (!feature)
      throw new ActionError("Input 'feature' is required with features-dir.", {
        input: 'feature',
        fix: 'Set feature to the feature key, e.g. core (reads <features-dir>/core.json).',
      });
    config = { kind: 'dir', dir, feature };
  } else {
    throw new ActionError("Input 'feature-config' (or 'features-dir' plus 'feature') is required.", {
      input: 'feature-config',
      fix: 'Set feature-config: infra/env/features/core.json, or features-dir: infra/env/features with feature: core.',
    });
  }
  const environment = inputs.required(
    'environment',
    'Set environment to one of the environments of the feature config, e.g. test or prod.',
  );
  return {
    template,
    config,
    environment,
    image: parseImage(reader('image')),
    vars: parseKeyValueLines(reader('vars'), 'vars', /^[A-Za-z_][A-Za-z0-9_]*$/),
    output: inputs.string('output'),
    awsRegion: inputs.string('aws-region'),
    verify: inputs.bool('verify', false),
    maxAttempts: inputs.number('max-attempts', 8, { min: 1, max: 20, integer: true }),
    terraformOutputsFile: reader('terraform-outputs-file'),
    terraformOutputs: reader('terraform-outputs'),
    allowPlainNames: parseNameGlobs(reader('allow-plain-names')),
    knownEnvironments:
      reader('known-environments').trim() === ''
        ? [...DEFAULT_KNOWN_ENVIRONMENTS]
        : parseList(reader('known-environments'), 'known-environments'),
    allowForeign: parseList(reader('allow-foreign'), 'allow-foreign'),
  };
}

const NAME_GLOB = /^[A-Za-z_*?][A-Za-z0-9_*?]*$/;

/** Comma- or newline-separated names, `*` and `?` as wildcards (TOKEN_AUD_*). */
function parseNameGlobs(raw: string): string[] {
  const names = raw
    .split(/[\n,]/)
    .map((n) => n.trim())
    .filter((n) => n !== '' && !n.startsWith('#'));
  for (const n of names) {
    if (!NAME_GLOB.test(n))
      throw new ActionError(`input 'allow-plain-names' has '${n}', which is not a variable name or a name pattern.`, {
        input: 'allow-plain-names',
        fix: 'List names such as TOKEN_ISS or TOKEN_AUD_*, separated by commas or new lines.',
      });
  }
  return names;
}
