import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath, workspace } from '../../actions/render-taskdef/workspace.js';
import { ActionError } from '../../lib/errors.js';
import { decodeUtf8, parseJsonDoc } from '../../actions/render-taskdef/json-source.js';
import { didYouMean } from '../../actions/render-taskdef/placeholders.js';
import { describeSecretSource, parseSecretRef, secretByValue } from '../../actions/render-taskdef/secret-ref.js';
import { fargateSizeError } from '../../actions/render-taskdef/fargate-size.js';
import { parseImage } from '../../actions/render-taskdef/inputs.js';

describe('parseJsonDoc', () => {
  it('maps fields to lines', () => {
    const doc = parseJsonDoc('{\n  "a": {\n    "b": [1,\n      {"c": "x"}]\n  }\n}\n', 'f.json');
    expect(doc.value).toEqual({ a: { b: [1, { c: 'x' }] } });
    expect(doc.lineOf(['a'])).toBe(2);
    expect(doc.lineOf(['a', 'b', 1, 'c'])).toBe(4);
    expect(doc.lineOf(['a', 'missing', 'deeper'])).toBe(2);
  });

  it.each([
    ['{"a": 1,}', 1, 9, /trailing comma/],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected ',' or '}' after the value of "a"/],
    ['{"a": [1, 2}', 1, 12, /expected ',' or ']'/],
    ['{"a": "x\ny"}', 1, 9, /unterminated string/],
    ['{"a": tru}', 1, 7, /unexpected 't' where a value was expected/],
    ['{"a": 1} x', 1, 10, /after the end/],
    ['{"a": 1, "a": 2}', 1, 10, /duplicate key "a"/],
    ["{'a': 1}", 1, 2, /property name in double quotes/],
    ['{"a": 1', 1, 8, /end of file/],
  ])('%j fails at line %i column %i', (text, line, column, message) => {
    let err: unknown;
    try {
      parseJsonDoc(text, 'f.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect((err as ActionError).location).toMatchObject({ file: 'f.json', line, column });
    expect((err as ActionError).message).toMatch(message);
  });
});

describe('parseSecretRef', () => {
  it.each([
    ['/delivery/test/DATABASE_URL', 'SSM /delivery/test/DATABASE_URL'],
    ['plain_name', 'SSM plain_name'],
    ['arn:aws:ssm:eu-west-1:123456789012:parameter/delivery/test/REDIS_URL', 'SSM /delivery/test/REDIS_URL'],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd', 'Secrets Manager delivery/test/stripe'],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd:api_key::',
      'Secrets Manager delivery/test/stripe (json key api_key)',
    ],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-Ab12Cd:password:AWSPREVIOUS:',
      'Secrets Manager db (json key password, stage AWSPREVIOUS)',
    ],
  ])('%s is %s', (ref, source) => {
    const parsed = parseSecretRef(ref);
    expect('error' in parsed).toBe(false);
    expect(describeSecretSource(parsed as Exclude<typeof parsed, { error: string }>)).toBe(source);
  });

  it('gives DescribeSecret the ARN without the json-key suffix', () => {
    const parsed = parseSecretRef('arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd:api_key::');
    expect(parsed).toMatchObject({ secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd' });
  });

  it.each([
    'arn:aws:s3:::bucket/key',
    'arn:aws:secretsmanager:eu-west-1:123:secret:x',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x:key',
    'arn:aws:ssm:eu-west-1:123456789012:parameter',
    '/delivery/test/has space',
    '/aws/reserved',
    'https://example.com/secret',
  ])('%s is malformed', (ref) => {
    expect(parseSecretRef(ref)).toHaveProperty('error');
  });
});

describe('Fargate sizes', () => {
  it.each([
    ['256', '512'],
    ['256', '2048'],
    ['512', '4096'],
    ['1024', '8192'],
    ['2048', '16384'],
    ['4096', '30720'],
    ['8192', '61440'],
    ['16384', '122880'],
    ['0.25 vCPU', '0.5 GB'],
    [1024, 3072],
  ])('cpu %s memory %s is valid', (cpu, memory) => expect(fargateSizeError(cpu, memory)).toBeUndefined());

  it.each([
    ['256', '4096'],
    ['512', '512'],
    ['1024', '9216'],
    ['2048', '2048'],
    ['4096', '31744'],
    ['8192', '18432'],
    ['16384', '36864'],
    ['3072', '8192'],
    ['512', undefined],
  ])('cpu %s memory %s is rejected', (cpu, memory) => expect(fargateSizeError(cpu, memory)).toBeTruthy());
});

describe('image input', () => {
  it('one URI, or container=uri lines', () => {
    expect(parseImage('')).toEqual({ kind: 'none' });
    expect(parseImage(' repo/app:1 \n')).toEqual({ kind: 'single', uri: 'repo/app:1' });
    expect(parseImage('app=repo/app:1\nsidecar=repo/side:2')).toEqual({
      kind: 'per-container',
      images: new Map([
        ['app', 'repo/app:1'],
        ['sidecar', 'repo/side:2'],
      ]),
    });
  });
});

describe('displayPath (annotation paths)', () => {
  it('is relative to a git checkout nested in the workspace (the reusable workflows check the app out into app/)', () => {
    const root = mkdtempSync(join(tmpdir(), 'ws-'));
    mkdirSync(join(root, 'app', '.git'), { recursive: true });
    mkdirSync(join(root, 'other', 'infra'), { recursive: true });
    const ws = workspace(root);
    expect(displayPath(join(root, 'app', 'infra', 'taskdef', 'backend.json'), ws)).toBe('infra/taskdef/backend.json');
    expect(displayPath(join(root, 'other', 'infra', 'x.json'), ws)).toBe('other/infra/x.json');
    expect(displayPath('/elsewhere/x.json', ws)).toBe('/elsewhere/x.json');
  });
});

describe('fargateSizeError names the field that is wrong (the annotation goes on that line)', () => {
  it.each([
    ['384', '1024', 'cpu'],
    ['512', '512', 'memory'],
    [undefined, '1024', 'cpu'],
    ['512', undefined, 'memory'],
  ])('cpu %s memory %s → %s', (cpu, memory, field) => expect(fargateSizeError(cpu, memory)?.field).toBe(field));
});

describe('secretByValue', () => {
  it.each([
    ['AKIAIOSFODNN7EXAMPLE', /access key ID/],
    ['key=ASIAY34FZKBOKMUTVV7A;', /access key ID/],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==', /private key/],
    ['postgres://app:hunter2@db.internal:5432/app', /URL with a password/],
    ['redis://:s3cret@cache:6379', /^a long random string|URL with a password/],
    ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', /long random string/],
    ['sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123', /long random string/],
    ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', /JSON Web Token/],
  ])('%s is a secret by its value', (value, kind) => expect(secretByValue(value)).toMatch(kind));

  it.each([
    'delivery-app',
    'tenant-api',
    'https://api.delivery.example.com/v1?x=1',
    'postgres://db.internal:5432/app',
    '3f786850e387550fdab836ed7e6dc881de23001b',
    '123e4567-e89b-12d3-a456-426614174000',
    'MyApplicationNameForProduction2024Abc',
    'arn:aws:iam::123456789012:role/delivery-test-ecs-execution',
    'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1',
    'order-tracking,courier-chat,new-checkout',
  ])('%s is not', (value) => expect(secretByValue(value)).toBeUndefined());
});

describe('didYouMean', () => {
  const known = ['LOG_GROUP', 'EXEC_ROLE_ARN', 'TASK_ROLE_ARN', 'IMAGE_URI', 'tf:log_group'];
  it.each([
    ['LOG_GRUOP', 'LOG_GROUP'],
    ['log_group', 'LOG_GROUP'],
    ['EXEC_ROLE_ANR', 'EXEC_ROLE_ARN'],
    ['tf:log_grp', 'tf:log_group'],
    ['IMAGE', undefined],
    ['DATABASE_URL', undefined],
  ])('%s → %s', (name, guess) => expect(didYouMean(name, known)).toBe(guess));
});

describe('decodeUtf8', () => {
  it('returns UTF-8 text (a BOM is left for the parser to skip)', () => {
    expect(decodeUtf8(Buffer.from('\ufeff{"a": "café"}', 'utf8'), 'f.json')).toBe('\ufeff{"a": "café"}');
  });
  it.each([
    [Buffer.from('{\n "a": "caf\u00e9"\n}', 'latin1'), /f\.json is not UTF-8: byte 0xE9 at line 2, column 11.*Latin-1/],
    [
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('{}', 'utf16le').swap16()]),
      /UTF-16 BE \(it starts with a UTF-16 byte-order mark\)/,
    ],
    [Buffer.from('{}', 'utf16le').swap16(), /UTF-16 BE without a byte-order mark/],
  ])('%#: %s', (bytes, message) => expect(() => decodeUtf8(bytes, 'f.json')).toThrow(message));
});

describe('lineOf on a large document', () => {
  it('answers every entry of a 20,000-line file with its own line', () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => `  { "name": "V${i}", "value": "${i}" }`);
    const doc = parseJsonDoc(`[\n${entries.join(',\n')}\n]\n`, 'big.json');
    for (const i of [0, 1, 9_999, 19_999]) expect(doc.lineOf([i, 'value'])).toBe(i + 2);
    expect(doc.lineOf([20_000])).toBe(1); // absent: the nearest ancestor
  });
});
