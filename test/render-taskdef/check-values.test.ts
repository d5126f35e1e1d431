/**
 * The checks on values a task definition stores in the clear, one by one: a plain variable shaped
 * like a secret (error) or named like one (warning, unless allowed), and a sensitive Terraform output
 * anywhere but a secret's valueFrom (found by the placeholder that carried it, or by its value).
 */
import { describe, expect, it } from 'vitest';
import { type CheckOptions } from '../../actions/render-taskdef/check-types.js';
import { checkPlainValues, checkSensitive } from '../../actions/render-taskdef/check-values.js';
import type { RenderResult, SensitiveUse } from '../../actions/render-taskdef/render-types.js';
import type { ContainerDef, TaskDef } from '../../actions/render-taskdef/taskdef-types.js';

const rendered = (taskDef: TaskDef, sensitive: SensitiveUse[] = []) => ({ taskDef, sensitive }) as unknown as RenderResult;
const opts = (over: Partial<CheckOptions> = {}): CheckOptions => ({
  allowPlainName: () => false,
  sensitiveValues: new Map(),
  ...over,
});
const web = (c: Partial<ContainerDef>): ContainerDef => ({ name: 'web', ...c });
const MOVE =
  'Store the value in SSM Parameter Store (SecureString) or Secrets Manager and reference it from secrets/ssm/secretsManager ' +
  'instead, so the task definition holds a reference, not the value';
const AKIA = 'AKIAIOSFODNN7EXAMPLE';

describe('checkPlainValues', () => {
  it('a value shaped like a secret is an error at its entry, with the move and rotate fix', () => {
    const r = rendered({
      containerDefinitions: [
        web({}),
        web({
          name: 'api',
          environment: [
            { name: 'X', value: 'a' },
            { name: 'KEY_ID', value: AKIA },
          ],
        }),
      ],
    });
    expect(checkPlainValues(r, opts())).toEqual([
      {
        path: ['containerDefinitions', 1, 'environment', 1],
        message: "container 'api': KEY_ID holds an AWS access key ID (AKIA…/ASIA…) as a plain environment variable.",
        fix: `${MOVE}; and rotate it, since it was committed.`,
      },
    ]);
  });

  it('a secret-shaped value is an error even under an allowed name', () => {
    const r = rendered({ containerDefinitions: [web({ environment: [{ name: 'API_TOKEN', value: AKIA }] })] });
    expect(checkPlainValues(r, opts({ allowPlainName: () => true })).map((p) => p.severity ?? 'error')).toEqual(['error']);
  });

  it('a name like a secret with an ordinary value is a warning, with the allow-plain-names fix', () => {
    const r = rendered({ containerDefinitions: [web({ environment: [{ name: 'TOKEN_ISS', value: 'https://issuer.example.com' }] })] });
    expect(checkPlainValues(r, opts())).toEqual([
      {
        path: ['containerDefinitions', 0, 'environment', 0],
        severity: 'warning',
        message: "container 'web': TOKEN_ISS is named like a secret but is a plain environment variable.",
        fix: `If it is not a secret, add TOKEN_ISS to the allow-plain-names input; if it is: ${MOVE}.`,
      },
    ]);
  });

  it('allow-plain-names silences the warning for the names it allows only', () => {
    const r = rendered({
      containerDefinitions: [
        web({
          environment: [
            { name: 'TOKEN_ISS', value: 'x' },
            { name: 'DB_PASSWORD', value: 'y' },
          ],
        }),
      ],
    });
    const found = checkPlainValues(r, opts({ allowPlainName: (n) => n === 'TOKEN_ISS' }));
    expect(found.map((p) => p.message)).toEqual([
      "container 'web': DB_PASSWORD is named like a secret but is a plain environment variable.",
    ]);
  });

  it('an ordinary name and value, an empty value, or an entry without a string name or value is fine', () => {
    const r = rendered({
      containerDefinitions: [
        web({
          environment: [
            { name: 'PORT', value: '8000' },
            { name: 'DB_PASSWORD', value: '' },
            { name: 'DB_PASSWORD', valueFrom: AKIA },
            { value: AKIA } as never,
            { name: 'SECRET', value: 5 } as never,
            null as never,
          ],
        }),
        web({ name: 'no-env' }),
      ],
    });
    expect(checkPlainValues(r, opts())).toEqual([]);
  });
});

describe('checkSensitive', () => {
  const FIX =
    "A sensitive output may only fill a secret's valueFrom: store the value in Secrets Manager or SSM Parameter Store (SecureString), output " +
    "its ARN or name from Terraform, and reference it under secrets (or the config's ssm / secretsManager).";
  const TAIL = '; a task definition is readable by anyone with ecs:DescribeTaskDefinition, in every revision.';

  it('an environment entry filled by a sensitive output: reported as the whole entry, by name', () => {
    const r = rendered(
      {
        containerDefinitions: [
          web({
            environment: [
              { name: 'A', value: '1' },
              { name: 'DB_URL', value: 'x' },
            ],
          }),
        ],
      },
      [{ path: ['containerDefinitions', 0, 'environment', 1, 'value'], output: 'db_url' }],
    );
    expect(checkSensitive(r, opts())).toEqual([
      {
        path: ['containerDefinitions', 0, 'environment', 1],
        message: `container 'web': DB_URL holds a sensitive Terraform output (db_url) as a plain environment variable${TAIL}`,
        fix: FIX,
      },
    ]);
  });

  it("a secret's valueFrom (or the secret entry as a whole) may hold one; its name may not", () => {
    const r = rendered({ containerDefinitions: [web({ secrets: [{ name: 'DB', valueFrom: 'arn' }] })] }, [
      { path: ['containerDefinitions', 0, 'secrets', 0, 'valueFrom'], output: 'a' },
      { path: ['containerDefinitions', 0, 'secrets', 0], output: 'b' },
      { path: ['containerDefinitions', 0, 'secrets', 0, 'name'], output: 'c' },
    ]);
    expect(checkSensitive(r, opts()).map((p) => [p.path, p.message])).toEqual([
      [
        ['containerDefinitions', 0, 'secrets', 0],
        `container 'web': containerDefinitions[0].secrets[0] holds a sensitive Terraform output (c) in the clear${TAIL}`,
      ],
    ]);
  });

  it('any other field: reported at its path, with the container when it is in one', () => {
    const r = rendered({ family: 'f', containerDefinitions: [web({ command: ['run', 'x'] })] }, [
      { path: ['containerDefinitions', 0, 'command', 1], output: 'token' },
      { path: ['family'], output: 'fam' },
    ]);
    expect(checkSensitive(r, opts())).toEqual([
      {
        path: ['containerDefinitions', 0, 'command', 1],
        message: `container 'web': containerDefinitions[0].command[1] holds a sensitive Terraform output (token) in the clear${TAIL}`,
        fix: FIX,
      },
      { path: ['family'], message: `family holds a sensitive Terraform output (fam) in the clear${TAIL}`, fix: FIX },
    ]);
  });

  it('a path under containerDefinitions without a container index is reported without a container', () => {
    const r = rendered({ containerDefinitions: [web({})] }, [{ path: ['containerDefinitions', 'environment', 'x'], output: 'o' }]);
    expect(checkSensitive(r, opts()).map((p) => p.message)).toEqual([
      `containerDefinitions.environment.x holds a sensitive Terraform output (o) in the clear${TAIL}`,
    ]);
  });

  it('a field of an environment entry other than through its index, e.g. a non-numeric key, is reported at its own path', () => {
    const r = rendered({ containerDefinitions: [web({})] }, [{ path: ['containerDefinitions', 0, 'environment', 'k'], output: 'o' }]);
    expect(checkSensitive(r, opts()).map((p) => [p.path, p.message.split(';')[0]])).toEqual([
      [
        ['containerDefinitions', 0, 'environment', 'k'],
        "container 'web': containerDefinitions[0].environment.k holds a sensitive Terraform output (o) in the clear",
      ],
    ]);
  });

  it('a secrets path that is not an entry (no index) is reported', () => {
    const r = rendered({ containerDefinitions: [web({})] }, [{ path: ['containerDefinitions', 0, 'secrets'], output: 'o' }]);
    expect(checkSensitive(r, opts()).map((p) => p.path)).toEqual([['containerDefinitions', 0, 'secrets']]);
  });

  it('one place is reported once, however many outputs or fields reach it', () => {
    const r = rendered({ containerDefinitions: [web({ environment: [{ name: 'DB_URL', value: 'x' }] })] }, [
      { path: ['containerDefinitions', 0, 'environment', 0, 'value'], output: 'a' },
      { path: ['containerDefinitions', 0, 'environment', 0, 'name'], output: 'b' },
    ]);
    expect(checkSensitive(r, opts()).map((p) => p.message)).toEqual([
      `container 'web': DB_URL holds a sensitive Terraform output (a) as a plain environment variable${TAIL}`,
    ]);
  });

  it('found by value: pasted anywhere (nested objects and arrays), not in a secret valueFrom', () => {
    const value = 's3cr';
    const r = rendered({
      family: 'app',
      containerDefinitions: [
        web({
          environment: [{ name: 'URL', value: `https://u:${value}@h` }],
          secrets: [{ name: 'S', valueFrom: `arn:${value}` }],
          dockerLabels: { note: `has ${value}` },
          entryPoint: ['sh', value],
        }),
      ],
    });
    const found = checkSensitive(r, opts({ sensitiveValues: new Map([[value, 'pw']]) }));
    expect(found.map((p) => p.path)).toEqual([
      ['containerDefinitions', 0, 'environment', 0],
      ['containerDefinitions', 0, 'dockerLabels', 'note'],
      ['containerDefinitions', 0, 'entryPoint', 1],
    ]);
    expect(found[0]?.message).toContain('URL holds a sensitive Terraform output (pw)');
  });

  it('a value shorter than 4 characters is not searched for (it would match unrelated text)', () => {
    const r = rendered({ family: 'abc-abcd', containerDefinitions: [] });
    expect(checkSensitive(r, opts({ sensitiveValues: new Map([['abc', 'short']]) }))).toEqual([]);
    expect(checkSensitive(r, opts({ sensitiveValues: new Map([['abcd', 'four']]) })).map((p) => p.path)).toEqual([['family']]);
  });

  it('only an environment or secrets entry of a container is reported as the whole entry; other paths as they are', () => {
    const r = rendered({ containerDefinitions: [web({})] }, [
      { path: ['containerDefinitions', 0, 'logConfiguration', 'options', 'x'], output: 'a' },
      { path: ['volumes', 0, 'environment', 0, 'value'], output: 'b' },
      { path: ['volumes', 0, 'x', 1, 'y'], output: 'c' },
      { path: ['containerDefinitions', 0, 'portMappings', 0, 'name'], output: 'd' },
    ]);
    expect(checkSensitive(r, opts()).map((p) => [p.path, p.message.split(';')[0]])).toEqual([
      [
        ['containerDefinitions', 0, 'logConfiguration', 'options', 'x'],
        "container 'web': containerDefinitions[0].logConfiguration.options.x holds a sensitive Terraform output (a) in the clear",
      ],
      [['volumes', 0, 'environment', 0, 'value'], 'volumes[0].environment[0].value holds a sensitive Terraform output (b) in the clear'],
      [['volumes', 0, 'x', 1, 'y'], 'volumes[0].x[1].y holds a sensitive Terraform output (c) in the clear'],
      [
        ['containerDefinitions', 0, 'portMappings', 0, 'name'],
        "container 'web': containerDefinitions[0].portMappings[0].name holds a sensitive Terraform output (d) in the clear",
      ],
    ]);
  });

  it('an environment entry as a whole is reported; a secrets path that is not an entry is too', () => {
    const r = rendered({ containerDefinitions: [web({ environment: [{ name: 'DB_URL', value: 'x' }] })] }, [
      { path: ['containerDefinitions', 0, 'environment', 0], output: 'a' },
      { path: ['containerDefinitions', 0, 'secrets', 'k'], output: 'b' },
    ]);
    expect(checkSensitive(r, opts()).map((p) => p.path)).toEqual([
      ['containerDefinitions', 0, 'environment', 0],
      ['containerDefinitions', 0, 'secrets', 'k'],
    ]);
  });

  it('two places whose path parts read the same when joined are two places', () => {
    const r = rendered({ containerDefinitions: [] }, [
      { path: ['tags', 1], output: 'a' },
      { path: ['tags1'], output: 'b' },
    ]);
    expect(checkSensitive(r, opts()).map((p) => p.path)).toEqual([['tags', 1], ['tags1']]);
  });

  it('a null field is passed over when searching by value', () => {
    const r = rendered({ family: 'app', containerDefinitions: [web({ cpu: null, essential: true, memory: 5 })] });
    expect(checkSensitive(r, opts({ sensitiveValues: new Map([['zzzz', 'o']]) }))).toEqual([]);
  });

  it('nothing sensitive: nothing reported', () => {
    const r = rendered({ family: 'app', containerDefinitions: [web({ environment: [{ name: 'A', value: 'b' }] })] });
    expect(checkSensitive(r, opts({ sensitiveValues: new Map([['zzzz', 'o']]) }))).toEqual([]);
  });
});
