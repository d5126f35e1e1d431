/**
 * The example applications are consistent with their caller workflows: every ECS
 * job's template + feature config renders (with the real render-taskdef bundle,
 * no AWS) for every environment the workflow can deploy to, and those
 * environments exist in the feature config.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { suiteWorkflowName } from './rules.js';
import { loadWorkflow, type WorkflowFile } from './workflow-files.js';

const examplesDir = join(repoRoot, 'examples');
const outDir = mkdtempSync(join(tmpdir(), 'examples-render-'));
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/example/app:0123456789abcdef0123456789abcdef01234567';

/** A `with:` value as the workflow would see it on a push (inputs empty): literal, or the `|| 'x'` fallback. */
function pushValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!s.includes('${{')) return s;
  return /\|\|\s*'([^']*)'\s*\}\}$/.exec(s)?.[1];
}

function defaultMapping(file: string): string {
  const wf = loadWorkflow(join(repoRoot, '.github', 'workflows', file));
  const on = wf.doc.on as { workflow_call: { inputs: Record<string, { default?: string }> } };
  return on.workflow_call.inputs['branch-environments']!.default!;
}

/** Environments a caller can reach: its branch mapping targets and its dispatch choices. */
function reachableEnvironments(wf: WorkflowFile, withs: Record<string, unknown>, reusable: string): string[] {
  const mapping = pushValue(withs['branch-environments']) ?? defaultMapping(reusable);
  const fromBranches = mapping
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.includes('='))
    .map((l) => l.slice(l.indexOf('=') + 1).trim());
  const on = wf.doc.on as { workflow_dispatch?: { inputs?: Record<string, { options?: string[] }> } };
  const choices = on?.workflow_dispatch?.inputs?.environment?.options ?? [];
  return [...new Set([...fromBranches, ...choices])].sort();
}

interface EcsJob {
  example: string;
  workflow: string;
  job: string;
  withs: Record<string, unknown>;
  environments: string[];
}

function ecsJobs(): EcsJob[] {
  const out: EcsJob[] = [];
  for (const example of readdirSync(examplesDir)) {
    const dir = join(examplesDir, example, '.github', 'workflows');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yml'))) {
      const wf = loadWorkflow(join(dir, file));
      for (const [job, spec] of Object.entries(wf.doc.jobs)) {
        if (!spec.uses || suiteWorkflowName(spec.uses) !== 'deploy-ecs-service.yml') continue;
        const withs = spec.with ?? {};
        out.push({ example, workflow: file, job, withs, environments: reachableEnvironments(wf, withs, 'deploy-ecs-service.yml') });
      }
    }
  }
  return out;
}

const jobs = ecsJobs();
const hasRender = existsSync(join(repoRoot, 'dist', 'render-taskdef', 'index.js'));

describe('examples', () => {
  it('has the four application shapes, each with caller workflows', () => {
    for (const example of ['delivery-app', 'api-spa', 'web-alb-assets', 'rails-stores']) {
      expect(existsSync(join(examplesDir, example, '.github', 'workflows')), example).toBe(true);
      expect(existsSync(join(examplesDir, example, 'README.md')), example).toBe(true);
    }
    expect(jobs.length).toBeGreaterThanOrEqual(6);
  });

  describe.each(jobs.map((j) => [`${j.example}/${j.workflow} jobs.${j.job}`, j] as const))('%s', (_name, job) => {
    const root = join(examplesDir, job.example);
    const template = pushValue(job.withs['taskdef-template']);
    const featuresDir = pushValue(job.withs['features-dir']);
    const feature = pushValue(job.withs.feature);

    it('names a template and a feature config that exist', () => {
      expect(template && existsSync(join(root, template)), `template ${template}`).toBe(true);
      expect(featuresDir && feature && existsSync(join(root, featuresDir, `${feature}.json`)), `${featuresDir}/${feature}.json`).toBe(true);
    });

    it('can only reach environments its feature config defines', () => {
      const config = JSON.parse(readFileSync(join(root, featuresDir!, `${feature}.json`), 'utf8')) as {
        environments: Record<string, unknown>;
      };
      expect(job.environments.length).toBeGreaterThan(0);
      for (const env of job.environments) expect(Object.keys(config.environments), `environment ${env}`).toContain(env);
    });

    it.skipIf(!hasRender).each(job.environments)('renders for %s with the render-taskdef bundle (no AWS)', async (environment) => {
      const container = pushValue(job.withs.container);
      const run = await runBundle('render-taskdef', {
        workspace: root,
        inputs: {
          template: template!,
          'features-dir': featuresDir!,
          feature: feature!,
          environment,
          image: container ? `${container}=${IMAGE}` : IMAGE,
          'aws-region': 'eu-west-1',
          output: join(outDir, `${job.example}-${job.job}-${environment}.json`),
        },
        env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
      });
      expect(run.errors, run.stdout).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.outputs.environment).toBe(environment);
      expect(run.outputs.family).toContain(environment);
      const rendered = JSON.parse(readFileSync(run.outputs['task-definition']!, 'utf8')) as {
        containerDefinitions: Array<{ name: string; image: string }>;
      };
      const target = rendered.containerDefinitions.find((c) => c.name === (container ?? rendered.containerDefinitions[0]!.name))!;
      expect(target.image).toBe(IMAGE);
    });
  });
});
