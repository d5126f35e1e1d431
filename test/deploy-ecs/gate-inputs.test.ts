/** gate-* inputs: the per-service URL syntax and every bad value named by its input, before any AWS call. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { GATE_DEFAULTS, parseExpectStatus, readGateInputs } from '../../actions/deploy-ecs/gate-inputs.js';
import { getInputs } from '../../actions/deploy-ecs/inputs.js';
import { ActionError } from '../../lib/errors.js';
import { Inputs } from '../../lib/inputs.js';

const read = (values: Record<string, string>, services = ['api', 'worker']) => readGateInputs(new Inputs((n) => values[n] ?? ''), services);

describe('gate inputs', () => {
  it('no gate-url and no gate-command: no gate', () => {
    expect(read({})).toEqual({ problems: [] });
  });

  // The runner sets INPUT_<NAME> for every input with a default in action.yml, given or not
  // (a deploy without any gate once failed with "gate-successes ... set without gate-url").
  it("action.yml's defaults, as the runner passes them, are not a gate setting", () => {
    const yml = parseYaml(readFileSync(new URL('../../actions/deploy-ecs/action.yml', import.meta.url), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    const defaults = Object.fromEntries(
      Object.entries(yml.inputs)
        .filter(([n]) => n.startsWith('gate-') && n !== 'gate-url' && n !== 'gate-command')
        .map(([n, i]) => [n, i.default ?? '']),
    );
    expect(defaults).toEqual(GATE_DEFAULTS);
    expect(read(defaults)).toEqual({ problems: [] });
    // The default per-request timeout still shrinks to a shorter gate.
    expect(read({ ...defaults, 'gate-url': 'https://x.example.com', 'gate-timeout-seconds': '3' }).gate).toMatchObject({
      timeoutMs: 3000,
      requestTimeoutMs: 3000,
    });
  });

  it('unprefixed URLs apply to every service, service= lines to one; a query with = is not a prefix', () => {
    const { gate, problems } = read({ 'gate-url': 'https://test.example.com/health?x=1\nworker=http://worker-test.internal:8080/ping' });
    expect(problems).toEqual([]);
    expect(gate!.urls.get('api')).toEqual(['https://test.example.com/health?x=1']);
    expect(gate!.urls.get('worker')).toEqual(['https://test.example.com/health?x=1', 'http://worker-test.internal:8080/ping']);
    expect(gate).toMatchObject({
      successes: 3,
      timeoutMs: 300_000,
      requestTimeoutMs: 5000,
      followRedirects: false,
      method: 'GET',
      expectStatus: [],
    });
  });

  it('with only service= lines, a service without one is an error naming it', () => {
    const { problems } = read({ 'gate-url': 'api=https://api-test.example.com/health' });
    expect(problems.map((p) => [p.location.input, p.message])).toEqual([['gate-url', 'gate-url has no URL for service(s) worker.']]);
  });

  it('a gate-command needs no URL for every service (TEST_URL is then empty)', () => {
    const { gate, problems } = read({ 'gate-command': './smoke.sh', 'gate-url': 'api=https://api-test.example.com' });
    expect(problems).toEqual([]);
    expect(gate!.urls.get('worker')).toEqual([]);
  });

  it.each([
    [{ 'gate-url': 'ftp://example.com/x' }, 'gate-url', "'ftp:' URLs cannot be probed"],
    [{ 'gate-url': 'not a url' }, 'gate-url', "'not a url' is not a URL"],
    [{ 'gate-url': 'billing=https://x.example.com' }, 'gate-url', "names service 'billing', which is not in 'services'"],
    [{ 'gate-url': 'https://x.example.com', 'gate-timeout-seconds': '0' }, 'gate-timeout-seconds', 'above 0'],
    [{ 'gate-url': 'https://x.example.com', 'gate-timeout-seconds': '-5' }, 'gate-timeout-seconds', 'above 0'],
    [{ 'gate-url': 'https://x.example.com', 'gate-request-timeout-seconds': '0' }, 'gate-request-timeout-seconds', 'above 0'],
    [
      { 'gate-url': 'https://x.example.com', 'gate-timeout-seconds': '2', 'gate-request-timeout-seconds': '10' },
      'gate-request-timeout-seconds',
      'longer than gate-timeout-seconds',
    ],
    [{ 'gate-url': 'https://x.example.com', 'gate-successes': '0' }, 'gate-successes', 'whole number'],
    [{ 'gate-url': 'https://x.example.com', 'gate-expect-status': '2xx,99' }, 'gate-expect-status', "'99' is not an HTTP status"],
    [{ 'gate-url': 'https://x.example.com', 'gate-method': 'POST' }, 'gate-method', 'GET, HEAD'],
    [{ 'gate-successes': '5' }, 'gate-successes', 'without gate-url or gate-command'],
  ])('%o is rejected naming %s', (values, input, text) => {
    const { problems } = read(values);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.location.input).toBe(input);
    expect(problems[0]!.message).toContain(text);
  });

  it('the default per-request timeout shrinks to a shorter gate', () => {
    expect(read({ 'gate-url': 'https://x.example.com', 'gate-timeout-seconds': '2' }).gate!.requestTimeoutMs).toBe(2000);
  });

  it('gate-expect-status takes codes and classes', () => {
    expect(parseExpectStatus('204, 3xx').slice(0, 3)).toEqual([204, 300, 301]);
    expect(parseExpectStatus('3xx')).toHaveLength(100);
  });

  it('getInputs reports gate problems with the others, before any AWS call', () => {
    const env: Record<string, string> = {
      'task-definition': 'api:3',
      cluster: 'delivery-test',
      services: 'api',
      'gate-url': 'gopher://x',
      'poll-interval-seconds': 'soon',
    };
    let err: unknown;
    try {
      getInputs((n) => env[n] ?? '', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect((err as ActionError).problems.map((p) => p.location.input).sort()).toEqual(['gate-url', 'poll-interval-seconds']);
  });
});
