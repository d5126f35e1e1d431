/**
 * The reusable ECS workflow hands render-taskdef's adoption inputs through: a Terraform team
 * passes its outputs file and its allow-lists without copying the workflow.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import { loadWorkflow } from './workflow-files.js';

const wf = loadWorkflow(join(repoRoot, '.github', 'workflows', 'deploy-ecs-service.yml'));

describe('deploy-ecs-service.yml passes render-taskdef adoption inputs', () => {
  const call = (wf.doc.on as { workflow_call: { inputs: Record<string, { type: string; default?: unknown }> } }).workflow_call;
  const render = Object.values(wf.doc.jobs)
    .flatMap((j) => j.steps ?? [])
    .find((s) => s.name === 'Render task definition');
  it.each(['terraform-outputs-file', 'allow-plain-names', 'known-environments', 'allow-foreign'])('%s', (name) => {
    expect(call.inputs[name]).toMatchObject({ type: 'string', default: '' });
    const value = String((render?.with as Record<string, unknown> | undefined)?.[name] ?? '');
    expect(value).toContain(`inputs.${name}`);
  });
});
