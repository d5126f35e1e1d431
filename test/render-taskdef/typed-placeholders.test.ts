/**
 * Placeholders where the ECS API takes a number, and placeholders in keys: JSON has no unquoted
 * placeholder, so `"memory": "${CMEM}"` must render the number 512 for container sizes and ports to
 * vary per environment; a key with a placeholder is substituted, or refused on its line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.js';
import { baseInputs, exampleWorkspace } from './fixture.js';

function withEdits(edits: [string, string][]): string {
  const ws = exampleWorkspace();
  const path = join(ws, 'infra/taskdef/backend.json');
  let text = readFileSync(path, 'utf8');
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`fixture has no ${from}`);
    text = text.replace(from, to);
  }
  writeFileSync(path, text);
  return ws;
}

const sized: [string, string][] = [
  [
    '"essential": true,',
    '"essential": true,\n      "memory": "${CMEM}",\n      "cpu": "${CCPU}",\n      "dockerLabels": { "com.example.env.${DEPLOY_ENV}": "yes" },',
  ],
  ['"containerPort": 8080, "hostPort": 8080', '"containerPort": "${PORT}", "hostPort": "${PORT}"'],
];

describe('render-taskdef typed placeholders and placeholder keys (bundle)', () => {
  it('a whole-string placeholder renders a number where the ECS API takes one; task-level cpu/memory stay strings; a key is substituted', async () => {
    const ws = withEdits(sized);
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, vars: 'CMEM=512\nCCPU=256\nPORT=9000' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const def = JSON.parse(readFileSync(run.outputs['task-definition']!, 'utf8'));
    const c = def.containerDefinitions[0];
    expect(c.memory).toBe(512);
    expect(c.cpu).toBe(256);
    expect(c.portMappings[0]).toMatchObject({ containerPort: 9000, hostPort: 9000 });
    expect(c.dockerLabels).toEqual({ 'com.example.env.test': 'yes' });
    expect(def.memory).toBe('1024'); // the task's memory is a string in the API
  });

  it("a placeholder in a key that cannot be resolved is an error on that key's line", async () => {
    const ws = withEdits([['"essential": true,', '"essential": true,\n      "dockerLabels": { "team.${TEAM_NAME}": "yes" },']]);
    const run = await runBundle('render-taskdef', { workspace: ws, inputs: baseInputs, env: { AWS_REGION: 'eu-west-1' } });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/file=infra\/taskdef\/backend\.json,line=15::.*unresolved placeholder \$\{TEAM_NAME\}/);
  });
});
