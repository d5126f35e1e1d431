import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath, workspace } from '../../actions/render-taskdef/workspace.js';
import { ActionError } from '../../lib/errors.js';
import { parseJsonDoc } from '../../actions/render-taskdef/json-source.js';
import { describeSecretSource, parseSecretRef } from '../../actions/render-taskdef/secret-ref.js';
import { fargateSizeError } from '../../actions/render-taskdef/validate.js';
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
    ['{\'a\': 1}', 1, 2, /property name in double quotes/],
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
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd:api_key::', 'Secrets Manager delivery/test/stripe (json key api_key)'],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-Ab12Cd:password:AWSPREVIOUS:', 'Secrets Manager db (json key password, stage AWSPREVIOUS)'],
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
    ['256', '512'], ['256', '2048'], ['512', '4096'], ['1024', '8192'], ['2048', '16384'], ['4096', '30720'],
    ['8192', '61440'], ['16384', '122880'], ['0.25 vCPU', '0.5 GB'], [1024, 3072],
  ])('cpu %s memory %s is valid', (cpu, memory) => expect(fargateSizeError(cpu, memory)).toBeUndefined());

  it.each([
    ['256', '4096'], ['512', '512'], ['1024', '9216'], ['2048', '2048'], ['4096', '31744'], ['8192', '18432'], ['16384', '36864'], ['3072', '8192'], ['512', undefined],
  ])('cpu %s memory %s is rejected', (cpu, memory) => expect(fargateSizeError(cpu, memory)).toBeTruthy());
});

describe('image input', () => {
  it('one URI, or container=uri lines', () => {
    expect(parseImage('')).toEqual({ kind: 'none' });
    expect(parseImage(' repo/app:1 \n')).toEqual({ kind: 'single', uri: 'repo/app:1' });
    expect(parseImage('app=repo/app:1\nsidecar=repo/side:2')).toEqual({ kind: 'per-container', images: new Map([['app', 'repo/app:1'], ['sidecar', 'repo/side:2']]) });
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
