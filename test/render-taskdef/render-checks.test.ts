/**
 * The checks render makes while it merges, one by one: the fix offered for an unresolved
 * placeholder, a name declared twice in a container, and a secret under the wrong store.
 * (render.test.ts checks them through render; here each rule and each message on its own.)
 */
import { describe, expect, it } from 'vitest';
import { checkStore, declaredNames, fixFor } from '../../actions/render-taskdef/render-checks.js';
import type { ContainerDef } from '../../actions/render-taskdef/taskdef-types.js';
import type { TerraformOutputs } from '../../actions/render-taskdef/terraform.js';
import { ActionError, type Location } from '../../lib/errors.js';

const values = new Map([
  ['DATABASE_HOST', 'db'],
  ['DEPLOY_ENV', 'test'],
]);
const tf = (entries: [string, string][]): TerraformOutputs =>
  new Map(
    entries.map(([name, type]) => [name, { type, sensitive: false, secretStrings: [], ...(type === 'string' ? { value: 'x' } : {}) }]),
  );

describe('fixFor (the fix of an unresolved placeholder)', () => {
  it.each<[string, string, TerraformOutputs | undefined, string]>([
    [
      'a plain name',
      '${API_KEY}',
      undefined,
      "Give API_KEY a value in the vars input (API_KEY=value), the feature config's placeholders, or terraform-outputs as ${tf:API_KEY}; " +
        'write $${API_KEY} for a literal ${API_KEY}.',
    ],
    [
      'a near miss of a known value',
      '${DATABASE_HOTS}',
      undefined,
      'Did you mean ${DATABASE_HOST}? Give DATABASE_HOTS a value in the vars input (DATABASE_HOTS=value), the feature config' +
        "'s placeholders, or terraform-outputs as ${tf:DATABASE_HOTS}; write $${DATABASE_HOTS} for a literal ${DATABASE_HOTS}.",
    ],
    ['spaces inside the braces', '${ IMAGE_URI }', undefined, 'Set the image input (${IMAGE_URI} is its URI).'],
    ['the region', '${AWS_REGION}', undefined, 'Set the aws-region input, or AWS_REGION in the environment.'],
    [
      'a shell default',
      '${PORT:-8000}',
      undefined,
      "Placeholders take no shell default: write ${PORT} and give PORT a value (vars input PORT=8000, or the feature config's " +
        "placeholders); or write $${PORT:-8000} to leave ${PORT:-8000} for the container's shell.",
    ],
    [
      'a shell default without the colon',
      '${LOG_LEVEL-info}',
      undefined,
      "Placeholders take no shell default: write ${LOG_LEVEL} and give LOG_LEVEL a value (vars input LOG_LEVEL=info, or the feature config's " +
        "placeholders); or write $${LOG_LEVEL-info} to leave ${LOG_LEVEL-info} for the container's shell.",
    ],
    [
      'a Terraform output without terraform-outputs',
      '${tf:db_url}',
      undefined,
      'Pass terraform-outputs (the JSON of terraform output -json).',
    ],
    [
      'a Terraform output that is not among those given',
      '${tf:db_url}',
      tf([
        ['db_host', 'string'],
        ['queue_url', 'string'],
      ]),
      'Terraform outputs given: db_host, queue_url.',
    ],
    [
      'a Terraform output that is a list',
      '${tf:subnets}',
      tf([['subnets', 'list']]),
      'Terraform output subnets is a list; only strings, numbers and booleans can fill a placeholder (add a string output).',
    ],
  ])('%s', (_label, placeholder, terraform, fix) => {
    expect(fixFor(placeholder, values, terraform)).toBe(fix);
  });

  it('an empty set of Terraform outputs asks for them', () => {
    expect(fixFor('${tf:db_url}', values, new Map())).toBe('Pass terraform-outputs (the JSON of terraform output -json).');
  });

  it('a name that only looks like a shell default is a plain name', () => {
    expect(fixFor('${1PORT-8000}', values, undefined)).toMatch(/^Give 1PORT-8000 a value/);
  });
});

describe('declaredNames', () => {
  const locate = (path: readonly (string | number)[]): Location => ({ file: 'tpl.json', field: path.join('.') });

  it('returns every name of environment and secrets; a name twice is a problem at its second place', () => {
    const problems: ActionError[] = [];
    const c: ContainerDef = {
      name: 'web',
      environment: [{ name: 'A' }, { name: 'B' }, { name: 'A' }, { value: 'no name' }],
      secrets: [{ name: 'S' }, { name: 'B' }],
    } as ContainerDef;
    expect([...declaredNames(c, ['containerDefinitions', 0], locate, problems)]).toEqual(['A', 'B', 'S']);
    expect(problems.map((p) => [p.message, p.location.field, p.fix])).toEqual([
      [
        "container 'web': A is declared twice (also environment[0]); ECS would silently keep only one of them.",
        'containerDefinitions.0.environment.2',
        'Keep one A entry.',
      ],
      [
        "container 'web': B is declared twice (also environment[1]); ECS would silently keep only one of them.",
        'containerDefinitions.0.secrets.1',
        'Keep one B entry, in environment or in secrets.',
      ],
    ]);
  });

  it('skips entries that are null', () => {
    const problems: ActionError[] = [];
    const c = { name: 'web', environment: [null, { name: 'A' }] } as unknown as ContainerDef;
    expect([...declaredNames(c, [], locate, problems)]).toEqual(['A']);
    expect(problems).toEqual([]);
  });

  it('skips lists that are not arrays', () => {
    const problems: ActionError[] = [];
    const c = { name: 'web', environment: { A: '1' }, secrets: [{ name: 'S' }] } as unknown as ContainerDef;
    expect([...declaredNames(c, [], locate, problems)]).toEqual(['S']);
    expect(problems).toEqual([]);
  });
});

describe('checkStore', () => {
  const SM = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/db-AbCdEf';
  const at: Location = { file: 'features/core.json', line: 4 };
  const check = (store: 'ssm' | 'secretsmanager', value: string) => {
    const problems: ActionError[] = [];
    checkStore(store, value, 'DB', at, problems);
    return problems.map((p) => ({ message: p.message, fix: p.fix, ...p.location }));
  };

  it.each<[string, 'ssm' | 'secretsmanager', string]>([
    ['an SSM name under ssm', 'ssm', '/app/test/DB'],
    ['an SSM ARN under ssm', 'ssm', 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/test/DB'],
    ['a Secrets Manager ARN under secretsManager', 'secretsmanager', SM],
    ['a malformed reference (validation reports its shape)', 'secretsmanager', 'arn:aws:nope'],
  ])('accepts %s', (_label, store, value) => {
    expect(check(store, value)).toEqual([]);
  });

  it('a Secrets Manager ARN under ssm: move it', () => {
    expect(check('ssm', SM)).toEqual([
      {
        message: `DB is under ssm but ${SM} is not an SSM parameter (it is a Secrets Manager ARN).`,
        fix: 'Move DB to secretsManager.',
        ...at,
      },
    ]);
  });

  it('an SSM name under secretsManager: the full ARN is needed', () => {
    expect(check('secretsmanager', '/app/test/DB')).toEqual([
      {
        message: "DB is under secretsManager but '/app/test/DB' is not a Secrets Manager ARN.",
        fix:
          'ECS needs the full ARN of the secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>); an SSM ' +
          'parameter name belongs under ssm.',
        ...at,
      },
    ]);
  });
});
