import { describe, expect, it } from 'vitest';
import { ActionError, aggregate, collectProblems, formatProblem } from '../../lib/errors.js';
import { Inputs, parseKeyValueLines } from '../../lib/inputs.js';

const reader = (values: Record<string, string>) => new Inputs((name) => values[name] ?? '');

describe('Inputs', () => {
  it('reads booleans the way YAML users write them, and rejects anything else naming the input', () => {
    const inputs = reader({ a: 'true', b: 'False', c: 'yes', d: 'maybe' });
    expect([inputs.bool('a', false), inputs.bool('b', true), inputs.bool('c', false), inputs.bool('missing', true)]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    expect(() => inputs.bool('d', false)).toThrowError(/Input 'd' must be true or false, got 'maybe'/);
  });

  it.each([
    ['abc', /whole number/],
    ['0', /in 1\.\.120/],
    ['121', /in 1\.\.120/],
    ['2.5', /whole number/],
  ])('rejects timeout %s', (value, message) => {
    expect(() => reader({ 'timeout-minutes': value }).number('timeout-minutes', 30, { min: 1, max: 120, integer: true })).toThrowError(
      message,
    );
  });

  it('uses the default when a number input is empty', () => {
    expect(reader({}).number('timeout-minutes', 30)).toBe(30);
  });

  it('required names the input and the fix', () => {
    try {
      reader({}).required('cluster', 'Set cluster: to the ECS cluster name.');
      expect.unreachable();
    } catch (err) {
      expect(formatProblem(err as ActionError)).toBe(
        "input 'cluster': Input 'cluster' is required. Fix: Set cluster: to the ECS cluster name.",
      );
    }
  });

  it('splits lines and commas, dropping blanks and comments', () => {
    expect(reader({ services: 'api\n  worker \n\n# old\nbilling' }).lines('services')).toEqual(['api', 'worker', 'billing']);
    expect(reader({ subnets: 'subnet-1, subnet-2\nsubnet-3' }).lines('subnets', true)).toEqual(['subnet-1', 'subnet-2', 'subnet-3']);
  });

  it('oneOf lists the allowed values', () => {
    expect(() => reader({ mode: 'pull' }).oneOf('mode', ['none', 'push', 'promote'] as const, 'none')).toThrowError(/none, push, promote/);
  });
});

describe('parseKeyValueLines', () => {
  it('splits on the first = only and keeps empty values', () => {
    const vars = parseKeyValueLines('DATABASE_OPTS=sslmode=require&x=1\nEMPTY=\n# comment\n  SPACED = v ', 'vars');
    expect([...vars]).toEqual([
      ['DATABASE_OPTS', 'sslmode=require&x=1'],
      ['EMPTY', ''],
      ['SPACED', ' v'],
    ]);
  });

  it.each([
    ['no equals sign', 'JUSTAKEY', /line 1 of input 'vars' is 'JUSTAKEY', not KEY=VALUE/],
    ['empty key', '=value', /not KEY=VALUE/],
    ['bad key', 'A=1\n1BAD=x', /line 2 of input 'vars' has an invalid key '1BAD'/],
    ['duplicate', 'A=1\nA=2', /sets 'A' a second time/],
  ])('rejects %s', (_name, raw, message) => {
    expect(() => parseKeyValueLines(raw, 'vars')).toThrowError(message);
  });
});

describe('errors', () => {
  it('formats file:line:column, field and fix', () => {
    const err = new ActionError('Unresolved placeholder ${LOG_GROUP}.', {
      file: 'infra/taskdef/backend.json',
      line: 12,
      column: 30,
      fix: 'Add LOG_GROUP to placeholders.',
    });
    expect(formatProblem(err)).toBe(
      'infra/taskdef/backend.json:12:30: Unresolved placeholder ${LOG_GROUP}. Fix: Add LOG_GROUP to placeholders.',
    );
  });

  it('aggregates several problems into one error that lists all of them', () => {
    const err = aggregate('Template has problems', [
      new ActionError('a', { file: 'f', line: 1 }),
      new ActionError('b', { file: 'f', line: 2 }),
    ]);
    expect(err.problems).toHaveLength(2);
    expect(err.message).toBe('Template has problems (2 problems):\n  - f:1: a\n  - f:2: b');
  });

  it('collects every input problem in one pass: fallback values, aggregates unpacked, other errors thrown', () => {
    const { problems, attempt } = collectProblems();
    expect(attempt(() => 'ok', 'fallback')).toBe('ok');
    expect(
      attempt(() => {
        throw new ActionError('bad cluster', { input: 'cluster' });
      }, 'fallback'),
    ).toBe('fallback');
    expect(
      attempt(() => {
        throw aggregate('x', [new ActionError('a'), new ActionError('b')]);
      }),
    ).toBeUndefined();
    expect(problems.map((p) => p.message)).toEqual(['bad cluster', 'a', 'b']);
    expect(() =>
      attempt(() => {
        throw new TypeError('a bug');
      }),
    ).toThrow(TypeError);
  });

  it('aggregate of one problem is that problem', () => {
    const only = new ActionError('only');
    expect(aggregate('x', [only])).toBe(only);
  });
});
