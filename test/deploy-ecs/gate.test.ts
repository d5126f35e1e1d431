/**
 * The gate runner against a real HTTP server on 127.0.0.1 and real child processes:
 * status sequences, redirects, per-request and overall timeouts, masking, command exit codes.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateInputs } from '../../actions/deploy-ecs/gate-inputs.js';
import { runGate } from '../../actions/deploy-ecs/gate.js';
import { gateDiagnosis, gateMarkdown, gateOutput, statusRuns } from '../../actions/deploy-ecs/gate-report.js';
import type { GateDeps } from '../../actions/deploy-ecs/gate-types.js';
import { redactUrl } from '../../actions/deploy-ecs/gate-url.js';
import type { Clock, Sleep } from '../../lib/poll.js';

let server: Server;
let base: string;
/** Per path: the statuses to answer in order (the last one repeats). */
const scripts = new Map<string, number[]>();
const seen: { path: string; method: string; bodyBytes: number }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    let body = 0;
    req.on('data', (c: Buffer) => (body += c.length));
    req.on('end', () => {
      seen.push({ path, method: req.method ?? '', bodyBytes: body });
      if (path === '/hang') return; // never answers
      if (path === '/redirect') {
        res.writeHead(302, { location: '/ok' });
        return res.end();
      }
      const list = scripts.get(path);
      const status = list ? (list.length > 1 ? list.shift()! : list[0]!) : 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('x'.repeat(100_000));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function gate(over: Partial<GateInputs> & { url?: string | string[] }): GateInputs {
  const urls = over.url === undefined ? [] : Array.isArray(over.url) ? over.url : [over.url];
  return {
    urls: new Map([['api', urls]]),
    expectStatus: [],
    successes: 3,
    // Overall timeouts and intervals run on the virtual clock below (whole rounds of probes, however
    // slow the machine); the per-request timeout is real time, generous because only /hang relies on it.
    timeoutMs: 3000,
    requestTimeoutMs: 20_000,
    intervalMs: 20,
    followRedirects: false,
    method: 'GET',
    ...over,
    stage: over.stage ?? 'POST_TEST_TRAFFIC_SHIFT',
  };
}

/**
 * A clock that moves only when the gate sleeps: an overall timeout of T ms with an interval of I ms
 * is T / I rounds of probes whatever the machine's speed (a slow request takes no virtual time).
 */
function virtualTime(): { sleep: Sleep; now: Clock } {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

function deps() {
  const lines: string[] = [];
  const secrets: string[] = [];
  const d: GateDeps = {
    fetch,
    spawn,
    ...virtualTime(),
    report: { info: (l) => void lines.push(l), setSecret: (s) => void secrets.push(s) },
  };
  return { d, lines, secrets };
}

const ctx = { service: 'api', taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7' };

describe('URL probes', () => {
  it('passes after N successes in a row; a failure resets the streak', async () => {
    scripts.set('/warm', [503, 200, 503, 200, 200, 200]);
    const { d } = deps();
    const r = await runGate(d, gate({ url: `${base}/warm` }), ctx);
    expect(r.status).toBe('passed');
    expect(r.urls[0]!.attempts.map((a) => a.status)).toEqual([503, 200, 503, 200, 200, 200]);
    expect(statusRuns(r.urls[0]!.attempts)).toBe('503, 200, 503, 200×3');
  });

  it('fails at the overall timeout when a URL never gets healthy, naming it and its last status', async () => {
    scripts.set('/down', [503]);
    const { d } = deps();
    const r = await runGate(d, gate({ url: [`${base}/ok`, `${base}/down`], timeoutMs: 200 }), ctx);
    expect(r.status).toBe('failed');
    expect(r.reason).toContain(`${base}/down last answered 503`);
    expect(r.urls.map((u) => u.passed)).toEqual([true, false]);
    expect(gateOutput([r])).toBe('failed');
    const md = gateMarkdown([r]);
    expect(md).toMatch(/\/down`.*❌ failed \| 503×\d+/);
    expect(gateDiagnosis(r).join('\n')).toMatch(/\/down: failed; 503×\d+/);
  });

  it('accepts only the expected statuses when gate-expect-status is set', async () => {
    scripts.set('/teapot', [418]);
    const { d } = deps();
    expect((await runGate(d, gate({ url: `${base}/teapot`, expectStatus: [418], successes: 2 }), ctx)).status).toBe('passed');
    expect((await runGate(d, gate({ url: `${base}/ok`, expectStatus: [418], timeoutMs: 200 }), ctx)).status).toBe('failed');
  });

  it('does not follow redirects unless asked', async () => {
    const { d } = deps();
    const notFollowed = await runGate(d, gate({ url: `${base}/redirect`, timeoutMs: 200 }), ctx);
    expect(notFollowed.status).toBe('failed');
    expect(notFollowed.urls[0]!.attempts[0]!.status).toBe(302);
    const followed = await runGate(d, gate({ url: `${base}/redirect`, followRedirects: true }), ctx);
    expect(followed.status).toBe('passed');
  });

  it('gives up on a request after the per-request timeout', async () => {
    const { d } = deps();
    const r = await runGate(d, gate({ url: `${base}/hang`, requestTimeoutMs: 150, timeoutMs: 150, intervalMs: 150 }), ctx);
    expect(r.status).toBe('failed');
    expect(r.urls[0]!.attempts[0]!.error).toBe('no answer within 0.15 s');
  });

  it('sends GET or HEAD without a body', async () => {
    const { d } = deps();
    seen.length = 0;
    await runGate(d, gate({ url: `${base}/m`, method: 'HEAD', successes: 1 }), ctx);
    await runGate(d, gate({ url: `${base}/m`, successes: 1 }), ctx);
    expect(seen.map((s) => [s.method, s.bodyBytes])).toEqual([
      ['HEAD', 0],
      ['GET', 0],
    ]);
  });

  it('masks query-string secrets: add-mask for the value, redacted in every printed line and in the summary', async () => {
    scripts.set('/secret', [401]);
    const { d, lines, secrets } = deps();
    const url = `${base}/secret?token=tok-9f8e7d6c&env=prod`;
    const r = await runGate(d, gate({ url, timeoutMs: 150 }), ctx);
    expect(secrets).toContain('tok-9f8e7d6c');
    const printed = [...lines, gateMarkdown([r]), ...gateDiagnosis(r), r.reason].join('\n');
    expect(printed).not.toContain('tok-9f8e7d6c');
    expect(printed).toContain(`${base}/secret?token=***&env=***`);
    expect(redactUrl('https://u:pw@h.example/p?a=1')).toBe('https://u:***@h.example/p?a=***');
  });

  it('is skipped for a service without URL or command', async () => {
    const { d } = deps();
    expect((await runGate(d, gate({}), ctx)).status).toBe('skipped');
  });
});

describe('gate command', () => {
  // The command's timeout is real time (a timer in the runner): generous where the command must finish.
  const COMMAND_TIMEOUT_MS = 20_000;

  it('exit 0 passes; the command sees TEST_URL, SERVICE and TASK_DEFINITION_ARN; output is streamed', async () => {
    const { d, lines } = deps();
    const r = await runGate(
      d,
      gate({ url: `${base}/ok`, command: 'echo "checking $SERVICE $TASK_DEFINITION_ARN at $TEST_URL"', timeoutMs: COMMAND_TIMEOUT_MS }),
      ctx,
    );
    expect(r.status).toBe('passed');
    expect(lines).toContain(`  │ checking api ${ctx.taskDefinitionArn} at ${base}/ok`);
  });

  it('a non-zero exit fails with the exit code and the last lines', async () => {
    const { d } = deps();
    const r = await runGate(
      d,
      gate({
        command: 'for i in $(seq 1 30); do echo "line $i"; done; echo "smoke test failed: /orders 500" >&2; exit 3',
        timeoutMs: COMMAND_TIMEOUT_MS,
      }),
      ctx,
    );
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('the gate command exited 3');
    expect(r.command!.exitCode).toBe(3);
    expect(r.command!.lastLines).toHaveLength(20);
    expect(r.command!.lastLines.at(-1)).toBe('smoke test failed: /orders 500');
    expect(gateMarkdown([r])).toContain('exit 3');
  });

  it('is killed at the timeout, with what it started', async () => {
    const { d } = deps();
    // Not killed, `sleep 600` would outlive the test. The command is started before the gate and has
    // printed 'started' (still unread in its pipe) when the gate's timer starts, so a slow shell start
    // cannot leave the output empty; the gate gets that process from its spawn.
    const command = 'echo started; sleep 600 & wait';
    const child = spawn(command, { shell: '/bin/bash', detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((r) => child.stdout!.once('readable', () => r()));
    const given: string[] = [];
    const r = await runGate(
      {
        ...d,
        spawn: (c) => {
          given.push(c);
          return child;
        },
      },
      gate({ command, timeoutMs: 400 }),
      ctx,
    );
    expect(given).toEqual([command]);
    expect(r.status).toBe('failed');
    expect(r.command!.timedOut).toBe(true);
    expect(r.reason).toContain('did not finish within 0.4 s and was killed');
    expect(r.command!.lastLines).toEqual(['started']);
  });

  it('redacts URL secrets from command output', async () => {
    const { d, lines } = deps();
    const r = await runGate(
      d,
      gate({ url: `${base}/ok?key=abc123secret`, command: 'echo "$TEST_URL"', timeoutMs: COMMAND_TIMEOUT_MS }),
      ctx,
    );
    expect(r.status).toBe('passed');
    expect(lines.join('\n')).not.toContain('abc123secret');
  });
});
