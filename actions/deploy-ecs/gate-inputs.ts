/**
 * The test-traffic gate inputs, read and checked before any AWS call.
 *
 * `gate-url` syntax, one entry per line:
 *   https://test.example.com/health          every service is checked with this URL
 *   api=https://api-test.example.com/health  only service `api` (a service name, `=`, the URL)
 * A service gets the unprefixed URLs plus its own. With several services and only
 * `service=` lines, every service needs one: a gate that silently skips one
 * service is worse than no gate. A URL never reads as a prefix: the text before the
 * first `=` of `https://x/?a=b` contains `:` and `/`, which service names cannot.
 *
 * With `gate-command`, the command is the check and the URLs are not probed: the
 * service's first URL is passed to it as TEST_URL.
 */
import { ActionError, collectProblems } from '../../lib/errors.js';
import type { Inputs as InputReaderHelper } from '../../lib/inputs.js';
import { GATE_STAGES, type GateStage } from './gate-stage.js';

type HttpMethod = 'GET' | 'HEAD';

export interface GateInputs {
  /** Service name → the URLs it is checked with (in input order). */
  urls: Map<string, string[]>;
  command?: string;
  /** Expected statuses; empty = any 2xx. */
  expectStatus: number[];
  successes: number;
  timeoutMs: number;
  requestTimeoutMs: number;
  intervalMs: number;
  followRedirects: boolean;
  method: HttpMethod;
  /** The PAUSE-hook stage the gate answers (one with test traffic on the new revision); other pauses are left alone. */
  stage: GateStage;
}

const SERVICE_PREFIX = /^([A-Za-z0-9][A-Za-z0-9_-]{0,254})=(.+)$/;

/** Parses one URL; only http(s), no credentials in clear text of the log (they are masked, but a token belongs in the query or a header of the command). */
function parseGateUrl(raw: string, input = 'gate-url'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ActionError(`'${raw}' is not a URL.`, {
      input,
      fix: 'Write a full URL such as https://test.example.com/health, or service=https://… for one service.',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ActionError(`'${url.protocol}' URLs cannot be probed ('${raw}').`, {
      input,
      fix: "Use an http:// or https:// URL (the load balancer's test listener).",
    });
  }
  return url.toString();
}

/** `gate-expect-status`: codes (200), lists (200,204) and classes (2xx, 3xx). */
export function parseExpectStatus(raw: string | undefined, input = 'gate-expect-status'): number[] {
  if (!raw) return [];
  const out = new Set<number>();
  for (const part of raw.split(/[\s,]+/).filter(Boolean)) {
    const cls = /^([1-5])xx$/i.exec(part);
    if (cls) {
      for (let c = Number(cls[1]) * 100; c < Number(cls[1]) * 100 + 100; c++) out.add(c);
      continue;
    }
    const n = Number(part);
    if (!/^\d{3}$/.test(part) || n < 100 || n > 599) {
      throw new ActionError(`'${part}' is not an HTTP status.`, {
        input,
        fix: 'Use codes from 100 to 599 (e.g. 200 or 200,204) or a class such as 2xx.',
      });
    }
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

function positiveSeconds(inp: InputReaderHelper, name: string, fallback: number, max: number): number {
  const raw = inp.string(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    throw new ActionError(`Input '${name}' must be a number of seconds above 0 and at most ${max}, got '${raw}'.`, {
      input: name,
      fix: `Use e.g. ${fallback}, or remove the input for the default (${fallback}).`,
    });
  }
  return n;
}

/**
 * Reads the gate inputs. Returns no gate when neither `gate-url` nor `gate-command` is set;
 * every problem is returned (not thrown) so getInputs reports them with the others.
 */
/** The defaults in action.yml (a test keeps them equal). */
export const GATE_DEFAULTS = {
  'gate-expect-status': '',
  'gate-successes': '3',
  'gate-timeout-seconds': '300',
  'gate-request-timeout-seconds': '5',
  'gate-follow-redirects': 'false',
  'gate-interval-seconds': '2',
  'gate-method': 'GET',
  'gate-stage': 'POST_TEST_TRAFFIC_SHIFT',
} as const;

/** `gate-stage`: only a stage where the test listener routes to the new revision (gate-stage.ts). */
function parseGateStage(raw: string | undefined, input = 'gate-stage'): GateStage {
  const v = (raw ?? '').trim().toUpperCase() || 'POST_TEST_TRAFFIC_SHIFT';
  if ((GATE_STAGES as readonly string[]).includes(v)) return v as GateStage;
  throw new ActionError(`'${raw}' is not a stage where the new revision receives test traffic.`, {
    input,
    fix:
      `Use ${GATE_STAGES.join(' or ')} (the lifecycle-hook reference: no test traffic before TEST_TRAFFIC_SHIFT, and users already ` +
      `get the new revision at POST_PRODUCTION_TRAFFIC_SHIFT), and put a PAUSE hook there.`,
  });
}

export function readGateInputs(inp: InputReaderHelper, services: string[]): { gate?: GateInputs; problems: ActionError[] } {
  // Collect every problem in one pass so a user fixes them all at once.
  const { problems, attempt } = collectProblems();
  const lines = inp.lines('gate-url');
  const command = inp.string('gate-command');
  const shared: string[] = [];
  const own = new Map<string, string[]>();
  /** Services (or '*' for all) whose URL was invalid: that error says enough, no "missing URL" on top. */
  const badFor = new Set<string>();
  for (const line of lines) {
    const m = SERVICE_PREFIX.exec(line);
    if (m) {
      const [, service, rest] = m;
      if (!services.includes(service!)) {
        problems.push(
          new ActionError(`gate-url names service '${service}', which is not in 'services' (${services.join(', ')}).`, {
            input: 'gate-url',
            fix: 'Prefix each URL with one of the deployed services, or drop the prefix to check every service with it.',
          }),
        );
        continue;
      }
      const url = attempt(() => parseGateUrl(rest!.trim()), undefined);
      if (url) own.set(service!, [...(own.get(service!) ?? []), url]);
      else badFor.add(service!);
    } else {
      const url = attempt(() => parseGateUrl(line), undefined);
      if (url) shared.push(url);
      else badFor.add('*');
    }
  }
  // The runner passes action.yml's defaults as inputs too, so "set" means "differs from the default".
  const setByUser = (name: keyof typeof GATE_DEFAULTS) => {
    const v = inp.string(name);
    return v !== undefined && v.trim() !== GATE_DEFAULTS[name];
  };
  const expectStatus = attempt(() => parseExpectStatus(inp.string('gate-expect-status')), []);
  const successes = attempt(() => inp.number('gate-successes', 3, { min: 1, max: 100, integer: true }), 3);
  const timeoutMs = attempt(() => positiveSeconds(inp, 'gate-timeout-seconds', 300, 6 * 3600), 300) * 1000;
  // The default per-request timeout (5 s) shrinks to fit a shorter gate; a longer one set by hand is an error.
  const requestTimeoutSet = setByUser('gate-request-timeout-seconds');
  const requestTimeoutMs = Math.min(
    attempt(() => positiveSeconds(inp, 'gate-request-timeout-seconds', 5, 300), 5) * 1000,
    requestTimeoutSet ? Infinity : timeoutMs,
  );
  const intervalMs = attempt(() => positiveSeconds(inp, 'gate-interval-seconds', 2, 300), 2) * 1000;
  const followRedirects = attempt(() => inp.bool('gate-follow-redirects', false), false);
  const method = attempt(() => inp.oneOf('gate-method', ['GET', 'HEAD'] as const, 'GET'), 'GET' as HttpMethod);
  const stage = attempt(() => parseGateStage(inp.string('gate-stage')), 'POST_TEST_TRAFFIC_SHIFT' as GateStage);

  if (lines.length === 0 && !command) {
    // Gate settings without a gate are a mistake the user would not notice otherwise.
    const stray = (Object.keys(GATE_DEFAULTS) as (keyof typeof GATE_DEFAULTS)[]).filter(setByUser);
    if (stray.length)
      problems.push(
        new ActionError(`${stray.join(', ')} set without gate-url or gate-command.`, {
          input: stray[0],
          fix: 'Set gate-url (URLs to probe) or gate-command (a check to run), or remove the gate settings.',
        }),
      );
    return { problems };
  }
  if (requestTimeoutSet && requestTimeoutMs > timeoutMs) {
    problems.push(
      new ActionError(
        `gate-request-timeout-seconds (${requestTimeoutMs / 1000}) is longer than gate-timeout-seconds (${timeoutMs / 1000}).`,
        { input: 'gate-request-timeout-seconds', fix: 'Keep one request shorter than the whole gate.' },
      ),
    );
  }
  const urls = new Map<string, string[]>();
  const missing: string[] = [];
  for (const service of services) {
    const list = [...shared, ...(own.get(service) ?? [])];
    urls.set(service, list);
    if (list.length === 0) missing.push(service);
  }
  // Without a command, a service without a URL would be "checked" by nothing.
  const unexplained = badFor.has('*') ? [] : missing.filter((m) => !badFor.has(m));
  if (!command && unexplained.length) {
    problems.push(
      new ActionError(`gate-url has no URL for service(s) ${unexplained.join(', ')}.`, {
        input: 'gate-url',
        fix: `Add a line ${unexplained[0]}=https://… for each, or a line without a service prefix that applies to every service.`,
      }),
    );
  }
  return {
    gate: { urls, command, expectStatus, successes, timeoutMs, requestTimeoutMs, intervalMs, followRedirects, method, stage },
    problems,
  };
}
