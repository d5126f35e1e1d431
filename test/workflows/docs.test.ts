/**
 * workflows/README.md documents every input, secret and output of the reusable
 * workflows, with the same type and required-ness as the workflow files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import { loadWorkflow } from './workflow-files.js';

const readme = readFileSync(join(repoRoot, 'workflows', 'README.md'), 'utf8');

/** Rows of the table under `### <heading>` inside the `## \`<file>\`` section, keyed by name. */
function table(file: string, heading: string): Map<string, string[]> {
  const section = readme.slice(readme.indexOf(`## \`${file}\``));
  const start = section.indexOf(`### ${heading}`);
  const rows = new Map<string, string[]>();
  if (start < 0) return rows;
  for (const line of section.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('| `')) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    rows.set(cells[0]!.replace(/`/g, ''), cells.slice(1));
  }
  return rows;
}

describe.each(['deploy-ecs-service.yml', 'deploy-static-site.yml'])('workflows/README.md documents %s', (file) => {
  const wf = loadWorkflow(join(repoRoot, '.github', 'workflows', file));
  const call = (wf.doc.on as {
    workflow_call: {
      inputs: Record<string, { type: string; required?: boolean }>;
      secrets?: Record<string, unknown>;
      outputs: Record<string, unknown>;
    };
  }).workflow_call;

  it('every input, with its type and whether it is required', () => {
    const rows = table(file, 'Inputs');
    expect([...rows.keys()]).toEqual(Object.keys(call.inputs));
    for (const [name, spec] of Object.entries(call.inputs)) {
      const [type, def] = rows.get(name)!;
      expect(type, name).toBe(spec.type);
      expect(def === '(required)', `${name} required`).toBe(spec.required === true);
    }
  });

  it('every secret and output', () => {
    expect([...table(file, 'Secrets').keys()]).toEqual(Object.keys(call.secrets ?? {}));
    expect([...table(file, 'Outputs').keys()]).toEqual(Object.keys(call.outputs));
  });
});
