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
export interface TerraformOutput {
  /** The value as a placeholder uses it; undefined when the output is a list, map or null. */
  value?: string;
  sensitive: boolean;
  /** Terraform's type, for the message when a list or map is used as a placeholder. */
  type: string;
}

export type TerraformOutputs = Map<string, TerraformOutput>;

const INPUT = 'terraform-outputs';

/** The input is the JSON itself (e.g. `${{ steps.tf.outputs.json }}`) or a file holding it. */
export function readTerraformOutputs(raw: string, ws: Workspace): TerraformOutputs {
  const text = raw.trim();
  if (text === '') return new Map();
  let doc: JsonDoc;
  if (text.startsWith('{')) {
    doc = parseJsonDoc(text, `input '${INPUT}'`);
  } else {
    const abs = ws.resolve(text);
    if (!existsSync(abs)) {
      throw new ActionError(`File '${displayPath(abs, ws)}' does not exist.`, { input: INPUT, fix: 'Give the JSON of terraform output -json, or the path of a file holding it (terraform output -json > tf-outputs.json).' });
    }
    const file = displayPath(abs, ws);
    doc = parseJsonDoc(decodeUtf8(readFileSync(abs), file), file);
  }
  const where = doc.file.startsWith('input ') ? { input: INPUT } : { file: doc.file };
  if (!doc.value || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    throw new ActionError('terraform-outputs is not a JSON object of outputs.', { ...where, line: 1, fix: 'Use the output of terraform output -json (an object keyed by output name).' });
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
    out.set(name, { sensitive: sensitive === true, type, ...(scalar ? { value: String(value) } : {}) });
  }
  return out;
}
