import { existsSync, readFileSync } from 'node:fs';
import { ActionError } from '../../lib/errors.js';
import { decodeUtf8, parseJsonDoc, type JsonDoc } from './json-source.js';
import { displayPath, type Workspace } from './workspace.js';

/**
 * Values from `terraform output -json`, usable as `${tf:NAME}`. That command
 * prints `{ "<name>": { "sensitive": bool, "type": ..., "value": ... } }`
 * (Terraform docs, "Command: output", -json), and prints sensitive values in
 * clear: they are masked as soon as they are read and never logged.
 */
interface TerraformOutput {
  /** The value as a placeholder uses it; undefined when the output is a list, map or null. */
  value?: string;
  sensitive: boolean;
  /** Terraform's type, for the message when a list or map is used as a placeholder. */
  type: string;
  /**
   * Of a sensitive output, every string in it (a map's or list's leaves too): what must be masked.
   * Numbers and booleans are left out: masking `true` or `5432` would blank that word across the job log.
   */
  secretStrings: string[];
}

export type TerraformOutputs = Map<string, TerraformOutput>;

/** Where the outputs came from: the with: JSON has been printed by the runner before the action started. */
export interface TerraformSource {
  outputs: TerraformOutputs;
  /** True when terraform-outputs held the JSON itself (a with: value, already in the step log). */
  printedByRunner: boolean;
}

/**
 * `terraform-outputs-file` is the path of the file `terraform output -json > tf.json` wrote;
 * `terraform-outputs` is the older form: the JSON itself or a file path.
 */
export function readTerraformOutputs(file: string, inline: string, ws: Workspace): TerraformSource {
  const path = file.trim();
  const text = inline.trim();
  if (path !== '' && text !== '') {
    throw new ActionError('Inputs terraform-outputs-file and terraform-outputs are both set.', {
      input: 'terraform-outputs-file',
      fix: 'Keep terraform-outputs-file (the file terraform output -json > tf.json wrote) and remove terraform-outputs.',
    });
  }
  if (path === '' && text === '') return { outputs: new Map(), printedByRunner: false };
  const input = path !== '' ? 'terraform-outputs-file' : 'terraform-outputs';
  if (path === '' && text.startsWith('{'))
    return { outputs: parseOutputs(parseJsonDoc(text, `input '${input}'`), input), printedByRunner: true };
  const abs = ws.resolve(path || text);
  if (!existsSync(abs)) {
    throw new ActionError(`File '${displayPath(abs, ws)}' does not exist.`, {
      input,
      fix: 'Write it in an earlier step of the same job: terraform -chdir=<dir> output -json > tf-outputs.json.',
    });
  }
  const shown = displayPath(abs, ws);
  return { outputs: parseOutputs(parseJsonDoc(decodeUtf8(readFileSync(abs), shown), shown), input), printedByRunner: false };
}

function parseOutputs(doc: JsonDoc, input: string): TerraformOutputs {
  const where = doc.file.startsWith('input ') ? { input } : { file: doc.file };
  if (!doc.value || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    throw new ActionError(`${input} is not a JSON object of outputs.`, {
      ...where,
      line: 1,
      fix: 'Use the output of terraform output -json (an object keyed by output name).',
    });
  }
  const out: TerraformOutputs = new Map();
  for (const [name, entry] of Object.entries(doc.value as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object' || !('value' in entry)) {
      throw new ActionError(`terraform output '${name}' has no "value": this is not the JSON of terraform output -json.`, {
        ...where,
        ...(where.file ? { line: doc.lineOf([name]) } : {}),
        fix: 'Run terraform output -json (without an output name, which prints the bare value).',
      });
    }
    const { value, sensitive } = entry as { value: unknown; sensitive?: unknown };
    const type = typeof value === 'object' ? (value === null ? 'null' : Array.isArray(value) ? 'list' : 'map') : typeof value;
    const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    out.set(name, {
      sensitive: sensitive === true,
      type,
      secretStrings: sensitive === true ? stringLeaves(value) : [],
      ...(scalar ? { value: String(value) } : {}),
    });
  }
  return out;
}

function stringLeaves(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() === '' ? [] : [value];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringLeaves);
  return [];
}

/**
 * What to register with the runner as secrets: each string, and each of its lines on its own,
 * because the runner matches a secret within one log line (a PEM key prints over many).
 */
export function masksFor(outputs: TerraformOutputs): string[] {
  const masks = new Set<string>();
  for (const out of outputs.values()) {
    for (const s of out.secretStrings) {
      masks.add(s);
      for (const line of s.split(/\r?\n/)) if (line.trim().length >= 4 && line !== s) masks.add(line.trim());
    }
  }
  return [...masks];
}
