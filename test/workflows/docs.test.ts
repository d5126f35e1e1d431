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
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    rows.set(cells[0]!.replace(/`/g, ''), cells.slice(1));
  }
  return rows;
}

describe.each(['deploy-ecs-service.yml', 'deploy-static-site.yml'])('workflows/README.md documents %s', (file) => {
  const wf = loadWorkflow(join(repoRoot, '.github', 'workflows', file));
  const call = (
    wf.doc.on as {
      workflow_call: {
        inputs: Record<string, { type: string; required?: boolean }>;
        secrets?: Record<string, unknown>;
        outputs: Record<string, unknown>;
      };
    }
  ).workflow_call;

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

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchors(file: string): Set<string> {
  return new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
}

/** My documents, and the root README sections this suite's workflows own. */
function documents(): Array<{ file: string; text: string }> {
  const root = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = root.indexOf('## Use it in your repo');
  const end = root.indexOf('\n## ', root.indexOf('## Workflows') + 1);
  const files = [
    'workflows/README.md',
    'examples/README.md',
    'examples/api-spa/README.md',
    'examples/web-alb-assets/README.md',
    'examples/rails-stores/README.md',
  ];
  return [
    { file: 'README.md', text: root.slice(start, end < 0 ? undefined : end) },
    ...files.map((f) => ({ file: f, text: readFileSync(join(repoRoot, f), 'utf8') })),
  ];
}

describe('links in the workflow documentation', () => {
  it.each(documents().map((d) => [d.file, d] as const))('%s links only to files and headings that exist', (_f, doc) => {
    const broken: string[] = [];
    for (const m of doc.text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const full = path ? join(repoRoot, doc.file, '..', path) : join(repoRoot, doc.file);
      try {
        readFileSync(full.endsWith('/') ? join(full, 'README.md') : full);
      } catch {
        if (!path.endsWith('/')) {
          broken.push(`${target} (no such file)`);
          continue;
        }
      }
      if (anchor && full.endsWith('.md') && !anchors(full).has(anchor)) broken.push(`${target} (no heading #${anchor})`);
    }
    expect(broken).toEqual([]);
  });
});
