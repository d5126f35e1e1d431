/**
 * Finds and loads every workflow file the suite ships (reusable workflows and CI
 * under .github/workflows, caller workflows under workflows/ and examples/) so the
 * checks in this folder run over all of them, and over the negative fixtures.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { repoRoot } from '../helpers/run-bundle.js';

export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
}

export interface Job {
  name?: string;
  uses?: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  permissions?: string | Record<string, string>;
  environment?: string | { name: string; url?: string; deployment?: boolean };
  concurrency?: string | { group: string; 'cancel-in-progress'?: boolean | string };
  steps?: Step[];
  outputs?: Record<string, string>;
}

export interface Workflow {
  name?: string;
  on: unknown;
  permissions?: string | Record<string, string>;
  jobs: Record<string, Job>;
}

export interface WorkflowFile {
  /** Path relative to the repository root, e.g. `.github/workflows/ci.yml`. */
  path: string;
  text: string;
  doc: Workflow;
  /** `uses:` lines of the raw text with their trailing comment, for pin checks. */
  lines: string[];
}

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'fixtures') continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.ya?ml$/.test(entry)) out.push(full);
  }
  return out;
}

/** A YAML file is a workflow when its top level has `on:` and `jobs:`. */
function isWorkflow(text: string): boolean {
  return /^on:/m.test(text) && /^jobs:/m.test(text);
}

export function loadWorkflow(file: string): WorkflowFile {
  const text = readFileSync(file, 'utf8');
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors.map((e) => e.message).join('; ')}`);
  return { path: relative(repoRoot, file), text, doc: parsed.toJS() as Workflow, lines: text.split('\n') };
}

/** Every workflow the suite ships: .github/workflows, workflows/, examples/. */
export function shippedWorkflows(): WorkflowFile[] {
  const files = [
    ...walk(join(repoRoot, '.github', 'workflows'), []),
    ...walk(join(repoRoot, 'workflows'), []),
    ...walk(join(repoRoot, 'examples'), []),
  ].filter((f) => isWorkflow(readFileSync(f, 'utf8')));
  return files.sort().map(loadWorkflow);
}

export function fixture(name: string): WorkflowFile {
  return loadWorkflow(join(repoRoot, 'test', 'workflows', 'fixtures', name));
}

export function steps(wf: WorkflowFile): Array<{ job: string; index: number; step: Step }> {
  return Object.entries(wf.doc.jobs ?? {}).flatMap(([job, spec]) => (spec.steps ?? []).map((step, index) => ({ job, index, step })));
}

/** True for `on: workflow_call` workflows (a string, list or map `on:`). */
export function isReusable(wf: WorkflowFile): boolean {
  const on = wf.doc.on;
  if (typeof on === 'string') return on === 'workflow_call';
  if (Array.isArray(on)) return on.includes('workflow_call');
  return typeof on === 'object' && on !== null && 'workflow_call' in on;
}
