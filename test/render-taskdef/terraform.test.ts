/**
 * Terraform outputs: read from the file `terraform output -json` wrote, every string of a
 * sensitive output masked before the action prints anything else, and a sensitive value
 * nowhere in the task definition but a secret's valueFrom.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.js';
import { baseInputs, editJson, exampleWorkspace } from './fixture.js';

const DB_USER = 'svc_delivery_owner';
const DB_PASSWORD = 'Xq7!vR2p-LmN9w';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----';
const LIST_SECRET = 'tok-3f9a1c77e2';

/** `terraform output -json` as Terraform prints it: sensitive values in clear. */
export const TF_OUTPUTS = {
  log_group: { sensitive: false, type: 'string', value: '/ecs/delivery-test' },
  db: { sensitive: true, type: ['object', { user: 'string', password: 'string' }], value: { user: DB_USER, password: DB_PASSWORD } },
  api_tokens: { sensitive: true, type: ['list', 'string'], value: [LIST_SECRET] },
  jwt_key: { sensitive: true, type: 'string', value: PEM },
  db_port: { sensitive: true, type: 'number', value: 5432 },
  tls_only: { sensitive: true, type: 'bool', value: true },
  db_password: { sensitive: true, type: 'string', value: DB_PASSWORD },
  db_password_arn: {
    sensitive: true,
    type: 'string',
    value: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/db-Ab12Cd',
  },
};

function workspaceWithTf(): string {
  const ws = exampleWorkspace();
  writeFileSync(join(ws, 'tf-outputs.json'), `${JSON.stringify(TF_OUTPUTS, null, 2)}\n`);
  return ws;
}

const commands = (stdout: string) => stdout.split('\n').filter((l) => l.trim() !== '');

describe('render-taskdef with terraform-outputs-file (bundle)', () => {
  it('masks every string of every sensitive output, leaves of maps and lists and each line of a PEM, before any other line', async () => {
    const ws = workspaceWithTf();
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs-file': 'tf-outputs.json' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const lines = commands(run.stdout);
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    const masks = lines.slice(0, firstOther).map((l) => l.slice('::add-mask::'.length));
    for (const s of [
      DB_USER,
      DB_PASSWORD,
      LIST_SECRET,
      TF_OUTPUTS.db_password_arn.value,
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
    ])
      expect(masks).toContain(s);
    // No mask after the first other line, and never a bare number or boolean.
    expect(lines.slice(firstOther).some((l) => l.startsWith('::add-mask::'))).toBe(false);
    expect(masks).not.toContain('5432');
    expect(masks).not.toContain('true');
    expect(run.stdout).not.toMatch(/::add-mask::(5432|true)\s*$/m);
    expect(run.stdout).not.toContain('printed it');
  });

  it('the JSON itself in terraform-outputs: a warning that the runner already printed it, masks still first', async () => {
    const ws = exampleWorkspace();
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs': JSON.stringify(TF_OUTPUTS) },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(0);
    expect(commands(run.stdout)[0]).toBe(`::add-mask::${DB_USER}`);
    expect(run.stdout).toMatch(/^::warning.*the runner printed it.*terraform-outputs-file/m);
  });

  it('both forms at once: an error naming the input, exit 1', async () => {
    const ws = workspaceWithTf();
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs-file': 'tf-outputs.json', 'terraform-outputs': 'tf-outputs.json' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/terraform-outputs-file and terraform-outputs are both set/);
  });

  it('a sensitive number in a plain variable is refused, and never printed as a mask', async () => {
    const ws = workspaceWithTf();
    editJson(ws, 'infra/taskdef/backend.json', (d) =>
      d.containerDefinitions[0].environment.push({ name: 'DB_PORT', value: '${tf:db_port}' }),
    );
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs-file': 'tf-outputs.json' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /file=infra\/taskdef\/backend\.json,line=\d+.*DB_PORT holds a sensitive Terraform output \(db_port\) as a plain environment variable/,
    );
    expect(run.stdout).not.toContain('::add-mask::5432');
  });

  it('legacy placeholders still resolve from the file', async () => {
    const ws = workspaceWithTf();
    editJson(ws, 'infra/env/features/core.json', (d) => (d.defaults.placeholders.LOG_GROUP = '${tf:log_group}'));
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs-file': 'tf-outputs.json' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.errors).toEqual([]);
    const def = JSON.parse(readFileSync(run.outputs['task-definition']!, 'utf8'));
    expect(def.containerDefinitions[0].logConfiguration.options['awslogs-group']).toBe('/ecs/delivery-test');
  });
});

describe('a sensitive Terraform output anywhere but a secret reference (bundle)', () => {
  it('command, entryPoint, dockerLabels and a value reached through vars are each an error on their line; a secret valueFrom is fine', async () => {
    const ws = workspaceWithTf();
    const path = join(ws, 'infra/taskdef/backend.json');
    const lines = readFileSync(path, 'utf8').split('\n');
    // One field per line, so each error's line is known.
    const at = lines.findIndex((l) => l.includes('"essential": true'));
    lines.splice(
      at + 1,
      0,
      '      "command": ["serve", "--db-password=${tf:db_password}"],',
      '      "entryPoint": ["/bin/app", "${tf:db_port}"],',
      '      "dockerLabels": { "db": "${DB_PASS}" },',
      '      "secrets": [{ "name": "DB_PASSWORD", "valueFrom": "${tf:db_password_arn}" }],',
    );
    writeFileSync(path, lines.join('\n'));
    const line = (n: number) => at + 2 + n;
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs-file': 'tf-outputs.json', vars: 'DB_PASS=${tf:db_password}' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(1);
    const annotations = run.errors.filter((e) => e.includes('file=infra/taskdef/backend.json'));
    expect(annotations.find((e) => e.includes(`line=${line(0)}`))).toMatch(
      /command\[1\] holds a sensitive Terraform output \(db_password\)/,
    );
    expect(annotations.find((e) => e.includes(`line=${line(1)}`))).toMatch(
      /entryPoint\[1\] holds a sensitive Terraform output \(db_port\)/,
    );
    expect(annotations.find((e) => e.includes(`line=${line(2)}`))).toMatch(
      /dockerLabels\.db holds a sensitive Terraform output \(db_password\)/,
    );
    expect(annotations.some((e) => e.includes(`line=${line(3)}`))).toBe(false);
    expect(annotations).toHaveLength(3);
    expect(run.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(DB_PASSWORD);
  });

  it('a sensitive value pasted into the config as a literal is found by its value', async () => {
    const ws = workspaceWithTf();
    editJson(ws, 'infra/env/features/core.json', (d) => (d.defaults.byContainer.backend.environment.SMTP_PASS = DB_PASSWORD));
    const run = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...baseInputs, 'terraform-outputs-file': 'tf-outputs.json' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /file=infra\/env\/features\/core\.json,line=\d+.*SMTP_PASS holds a sensitive Terraform output \(db(_password)?\)/,
    );
  });
});
