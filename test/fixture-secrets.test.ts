/**
 * The suite-wide check that no test fixture's secret reaches a log line: the scanner finds a planted
 * secret in every stream the runner shows, honours what the runner consumes (`::add-mask::` lines,
 * but not inside a `::stop-commands::` block), and runBundle fails a run that shows one.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findLeaks,
  registerFixtureSecret,
  registerSecretString,
  registerSecretsInText,
  registerTerraformOutputs,
} from './helpers/fixture-secrets.js';
import { repoRoot, runBundle } from './helpers/run-bundle.js';

const SECRET = 'pl4nted-S3cret-value';
const only = new Map([[SECRET, 'planted']]);

describe('findLeaks', () => {
  it.each(['stdout', 'stderr', 'GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'])(
    'finds a planted secret in %s',
    (stream) => {
      expect(findLeaks({ [stream]: `first line\nthe value is ${SECRET}, see?\n` }, only)).toEqual([{ stream, line: 2, source: 'planted' }]);
    },
  );

  it('passes an ::add-mask:: line (the runner consumes it), indented too, but not another line after it', () => {
    expect(findLeaks({ stdout: `::add-mask::${SECRET}\n  ::add-mask::${SECRET}\ndone` }, only)).toEqual([]);
    expect(findLeaks({ stdout: `::add-mask::${SECRET}\necho ${SECRET}` }, only)).toEqual([
      { stream: 'stdout', line: 2, source: 'planted' },
    ]);
  });

  it('finds an ::add-mask:: line inside a ::stop-commands:: block (printed as is there), and passes one after the block ends', () => {
    const text = ['::stop-commands::tok123', `::add-mask::${SECRET}`, '::tok123::', `::add-mask::${SECRET}`].join('\n');
    expect(findLeaks({ stdout: text }, only)).toEqual([{ stream: 'stdout', line: 2, source: 'planted' }]);
  });

  it('finds nothing when no registered secret appears', () => {
    expect(findLeaks({ stdout: 'all fine\n', GITHUB_OUTPUT: 'x=1\n' }, only)).toEqual([]);
  });
});

describe('the registry', () => {
  it('collects sensitive Terraform strings (nested too, not numbers), JSON secret keys, URL passwords and access keys', () => {
    const found = (value: string) => findLeaks({ stdout: value }).length > 0;
    registerTerraformOutputs(
      JSON.stringify({
        role: { sensitive: false, type: 'string', value: 'arn:aws:iam::1:role/not-secret' },
        db: { sensitive: true, type: ['object', {}], value: { password: 'tf-nested-pw-1', port: 5432, hosts: ['tf-host-in-list'] } },
      }),
      'tf.json',
    );
    registerSecretString('{"api_key":"sk_json_leaf_9"}', 'secret');
    registerSecretsInText('DATABASE_URL=postgres://app:urlPassw0rd@db:5432/x\nKEY=AKIAABCDEFGHIJKLMNOP', 'input vars');
    registerFixtureSecret('abc', 'too short to tell from text');
    for (const secret of ['tf-nested-pw-1', 'tf-host-in-list', 'sk_json_leaf_9', 'urlPassw0rd', 'AKIAABCDEFGHIJKLMNOP'])
      expect(found(`x ${secret} y`), secret).toBe(true);
    for (const plain of ['arn:aws:iam::1:role/not-secret', '5432', 'abc', 'postgres://app']) expect(found(plain), plain).toBe(false);
  });
});

describe('runBundle', () => {
  const inputs = {
    template: 'infra/taskdef/api.json',
    'feature-config': 'infra/features/api.json',
    environment: 'dev',
    image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders/api:planted-leak-tag',
    'terraform-outputs-file': 'tf-outputs/dev/tf.json',
    'aws-region': 'eu-west-1',
    output: join(repoRoot, '.tmp', 'fixture-secrets-render.json'),
  };
  const workspace = join(repoRoot, 'examples/terraform-app');

  it('passes a run whose sensitive Terraform outputs appear only in ::add-mask:: lines', async () => {
    const run = await runBundle('render-taskdef', {
      inputs,
      workspace,
      env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^::add-mask::/m);
  });

  it('fails a run that prints a registered secret, naming the stream and where the secret came from', async () => {
    // The image tag is printed by render; registered as a secret, the same run must fail.
    registerFixtureSecret('planted-leak-tag', 'a planted secret');
    await expect(
      runBundle('render-taskdef', { inputs, workspace, env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined } }),
    ).rejects.toThrow(/render-taskdef bundle showed a test fixture's secret value:\n {2}stdout line \d+: a planted secret/);
  });
});
