import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './run-bundle.js';

export interface ActionYml {
  name: string;
  description: string;
  branding?: { icon?: string; color?: string };
  inputs?: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string };
}

/** Every action folder that has an action.yml. */
export function actionNames(): string[] {
  return readdirSync(join(repoRoot, 'actions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(repoRoot, 'actions', d.name, 'action.yml')))
    .map((d) => d.name)
    .sort();
}

export function readActionYml(name: string): ActionYml {
  return parse(readFileSync(join(repoRoot, 'actions', name, 'action.yml'), 'utf8')) as ActionYml;
}

/** Rows of the first markdown table under `## <heading>` in an action README, keyed by the first cell. */
export function readmeTable(name: string, heading: string): Map<string, string[]> {
  const text = readFileSync(join(repoRoot, 'actions', name, 'README.md'), 'utf8');
  const start = text.search(new RegExp(`^## ${heading}\\s*$`, 'm'));
  if (start < 0) return new Map();
  const rows = new Map<string, string[]>();
  let inTable = false;
  for (const line of text.slice(start).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    if (/^-+$/.test(cells[0]?.replace(/[: ]/g, '') ?? '') || cells[0] === 'name' || cells[0] === 'Name') continue;
    rows.set(cells[0]!.replace(/`/g, ''), cells.slice(1));
  }
  return rows;
}
