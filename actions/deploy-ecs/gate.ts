/**
 * The test-traffic gate: is the new revision healthy, judged by real
 * requests, before users get it? Either URL probes (GET/HEAD, no body, redirects
 * not followed unless asked, a timeout per request, N successes in a row for every
 * URL within an overall timeout) or a shell command (exit 0 = healthy, killed at
 * the timeout). fetch, spawn, clock and sleep are injected; nothing here talks to AWS.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { deadlineSignal } from '../../lib/deadline.js';
import { code, markdownTable } from '../../lib/markdown.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import type { GateInputs } from './gate-inputs.js';
import { abortableSleep } from './wait.js';

export interface GateDeps {
  fetch: typeof fetch;
  spawn: (command: string, options: SpawnOptions) => ChildProcess;
  sleep: Sleep;
  now: Clock;
  report: Pick<Reporter, 'info' | 'setSecret'>;
  env?: NodeJS.ProcessEnv;
}

export interface GateContext {
  service: string;
  taskDefinitionArn: string;
  /** Stops the gate early (the deployment ended, another service failed): the result is `skipped`. */
  signal?: AbortSignal;
}

export interface ProbeAttempt {
  status?: number;
  error?: string;
  ms: number;
}

interface UrlReport {
  /** Printable form: query values and passwords replaced by ***. */
  url: string;
  attempts: ProbeAttempt[];
  passed: boolean;
}

interface CommandReport {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  lastLines: string[];
}

export interface GateResult {
  service: string;
  /** expired: the pause ended (its timeout, or someone else's CONTINUE) before the gate passed; a failure. */
  status: 'passed' | 'failed' | 'skipped' | 'expired';
  reason: string;
  durationMs: number;
  urls: UrlReport[];
  command?: CommandReport;
  /** Where the gate ran, e.g. "POST_TEST_TRAFFIC_SHIFT pause hook" or "after COMPLETED". */
  stage?: string;
}

/**
 * Why a gate was stopped from outside other than by the workflow's cancel (e.g. the pause it checked
 * ended): the abort reason of the gate's signal, so the log does not say "cancel" when nothing was cancelled.
 */
export class GateStop extends Error {}

const stoppedWhy = (signal: AbortSignal): string =>
  signal.reason instanceof GateStop ? `stopped: ${signal.reason.message}` : 'stopped by the cancel';

const MAX_ATTEMPTS_KEPT = 200;
const LAST_LINES = 20;
const KILL_GRACE_MS = 2000;
const CANCEL_KILL_GRACE_MS = 1000;
/** How long output written just before the command's exit may take to arrive. */
const OUTPUT_DRAIN_MS = 200;

/** The URL as it may be printed: every query value and any password replaced by ***. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
    const keys = [...u.searchParams.keys()];
    const query = keys.length ? `?${keys.map((k) => `${encodeURIComponent(k)}=***`).join('&')}` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}${query}`;
  } catch {
    return '***';
  }
}

/** Values that must never reach the log: query values (tokens travel there) and passwords. */
function urlSecrets(raw: string): string[] {
  try {
    const u = new URL(raw);
    const out = [...u.searchParams.values(), decodeURIComponent(u.password)].filter((v) => v.length >= 3);
    // The Basic credentials sent in the Authorization header, should anything echo the header.
    if (u.password) out.push(basicAuth(u).slice('Basic '.length));
    return [...new Set(out)];
  } catch {
    return [];
  }
}

/** Masks every secret of every URL with the runner (add-mask) and returns a redactor for free text. */
function maskUrls(urls: string[], report: Pick<Reporter, 'setSecret'>): (text: string) => string {
  const secrets = [...new Set(urls.flatMap(urlSecrets))].sort((a, b) => b.length - a.length);
  for (const s of secrets) {
    report.setSecret(s);
    if (encodeURIComponent(s) !== s) report.setSecret(encodeURIComponent(s));
  }
  return (text) => secrets.reduce((t, s) => t.split(s).join('***').split(encodeURIComponent(s)).join('***'), text);
}

const expected = (gate: GateInputs, status: number): boolean =>
  gate.expectStatus.length ? gate.expectStatus.includes(status) : status >= 200 && status < 300;

const expectText = (gate: GateInputs): string => (gate.expectStatus.length ? gate.expectStatus.join('/') : '2xx');

/**
 * The URL fetch is given and the headers credentials become: fetch refuses a URL with `user:pass@`
 * (RFC 9110 deprecates userinfo in http URLs), so they travel as HTTP Basic authentication instead,
 * the way curl sends them. The header value is masked (maskUrls).
 */
function requestOf(raw: string): { url: string; authorization?: string } {
  const u = new URL(raw);
  if (!u.username && !u.password) return { url: raw };
  const authorization = basicAuth(u);
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization };
}

const basicAuth = (u: URL): string =>
  `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`, 'utf8').toString('base64')}`;

/** One request: the status, or the error (timeout, refused, TLS); the body is never read. */
async function probe(deps: GateDeps, gate: GateInputs, raw: string, cancel?: AbortSignal): Promise<ProbeAttempt> {
  const started = deps.now();
  const { url, authorization } = requestOf(raw);
  try {
    const res = await deps.fetch(url, {
      method: gate.method,
      redirect: gate.followRedirects ? 'follow' : 'manual',
      // A cancel of the workflow ends a request in flight too (the runner kills the step 10 s after SIGINT).
      signal: deadlineSignal(gate.requestTimeoutMs, cancel),
      headers: { 'user-agent': 'aws-deploy-actions-gate', accept: '*/*', ...(authorization ? { authorization } : {}) },
    });
    // Release the connection without downloading the body.
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, ms: deps.now() - started };
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const why = cancel?.aborted
      ? stoppedWhy(cancel)
      : e.name === 'TimeoutError' || e.name === 'AbortError'
        ? `no answer within ${gate.requestTimeoutMs / 1000} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
    return { error: why, ms: deps.now() - started };
  }
}

async function runProbes(
  deps: GateDeps,
  gate: GateInputs,
  urls: string[],
  ctx: GateContext,
  redact: (t: string) => string,
): Promise<Omit<GateResult, 'service' | 'durationMs' | 'stage'>> {
  const deadline = deps.now() + gate.timeoutMs;
  const reports = urls.map((u) => ({
    raw: u,
    report: { url: redactUrl(u), attempts: [] as ProbeAttempt[], passed: false },
    streak: 0,
    last: '',
  }));
  deps.report.info(
    `gate ${ctx.service}: ${gate.method} ${reports.map((r) => r.report.url).join(', ')} until ${gate.successes} answer(s) in a row are ${expectText(gate)} (timeout ${gate.timeoutMs / 1000} s)`,
  );
  for (;;) {
    const open = reports.filter((r) => !r.report.passed);
    await Promise.all(
      open.map(async (r) => {
        const a = await probe(deps, gate, r.raw, ctx.signal);
        if (r.report.attempts.length < MAX_ATTEMPTS_KEPT) r.report.attempts.push(a);
        const ok = a.status !== undefined && expected(gate, a.status);
        r.streak = ok ? r.streak + 1 : 0;
        if (r.streak >= gate.successes) r.report.passed = true;
        const what = a.status !== undefined ? String(a.status) : redact(a.error ?? 'error');
        // A line per change, and per step of a success streak; a failure that repeats is not repeated.
        if (what !== r.last || ok)
          deps.report.info(`gate ${ctx.service}: ${r.report.url} → ${what} (${a.ms} ms)${ok ? ` [${r.streak}/${gate.successes}]` : ''}`);
        r.last = what;
      }),
    );
    if (reports.every((r) => r.report.passed)) {
      return {
        status: 'passed',
        reason: `every URL answered ${expectText(gate)} ${gate.successes} time(s) in a row`,
        urls: reports.map((r) => r.report),
      };
    }
    const remaining = deadline - deps.now();
    if (ctx.signal?.aborted || remaining <= 0) {
      const failing = reports.filter((r) => !r.report.passed).map((r) => `${r.report.url} last answered ${r.last}`);
      // Stopped from outside (the deployment ended without us): the gate judged nothing, so it is skipped, not failed.
      if (ctx.signal?.aborted)
        return { status: 'skipped', reason: `stopped before it passed: ${failing.join('; ')}`, urls: reports.map((r) => r.report) };
      return {
        status: 'failed',
        reason: `not healthy within ${gate.timeoutMs / 1000} s: ${failing.join('; ')} (expected ${expectText(gate)} ${gate.successes}× in a row)`,
        urls: reports.map((r) => r.report),
      };
    }
    await abortableSleep(deps.sleep, ctx.signal)(Math.min(gate.intervalMs, remaining));
  }
}

/** The shell a GitHub runner uses for `run:` steps when it exists (bash), else sh. */
const shell = (): string | boolean => (existsSync('/bin/bash') ? '/bin/bash' : true);

function runCommand(
  deps: GateDeps,
  gate: GateInputs,
  testUrl: string | undefined,
  ctx: GateContext,
  redact: (t: string) => string,
): Promise<Omit<GateResult, 'service' | 'durationMs' | 'stage'>> {
  const command = gate.command!;
  deps.report.info(
    `gate ${ctx.service}: running the gate command (timeout ${gate.timeoutMs / 1000} s)${testUrl ? ` with TEST_URL=${redactUrl(testUrl)}` : ''}`,
  );
  const env = { ...(deps.env ?? process.env), SERVICE: ctx.service, TASK_DEFINITION_ARN: ctx.taskDefinitionArn, TEST_URL: testUrl ?? '' };
  // Its own process group, so the timeout kills what the command started too (curl in a loop, sleep).
  const child = deps.spawn(command, { shell: shell(), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const last: string[] = [];
  const onData = (buffered: { rest: string }) => (chunk: Buffer) => {
    const text = buffered.rest + chunk.toString('utf8');
    const lines = text.split(/\r?\n/);
    buffered.rest = lines.pop() ?? '';
    for (const l of lines) emit(l);
  };
  const emit = (line: string) => {
    const safe = redact(line);
    deps.report.info(`  │ ${safe}`);
    last.push(safe);
    if (last.length > LAST_LINES) last.shift();
  };
  const out = { rest: '' };
  const err = { rest: '' };
  child.stdout?.on('data', onData(out));
  child.stderr?.on('data', onData(err));
  let timedOut = false;
  let stopped = false;
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  const stop = (graceMs: number) => {
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), graceMs).unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop(KILL_GRACE_MS);
  }, gate.timeoutMs);
  // A cancel kills the command's process group at once, with a shorter grace: the rollback needs the runner's remaining seconds.
  const onAbort = () => {
    stopped = true;
    stop(CANCEL_KILL_GRACE_MS);
  };
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      for (const b of [out, err]) if (b.rest) emit(b.rest);
      const report: CommandReport = { exitCode, ...(signal ? { signal } : {}), timedOut, lastLines: last };
      if (spawnError)
        resolve({ status: 'failed', reason: `the gate command could not start: ${spawnError.message}`, urls: [], command: report });
      else if (exitCode === 0 && !timedOut && !stopped)
        resolve({ status: 'passed', reason: 'the gate command exited 0', urls: [], command: report });
      else if (timedOut)
        resolve({
          status: 'failed',
          reason: `the gate command did not finish within ${gate.timeoutMs / 1000} s and was killed`,
          urls: [],
          command: report,
        });
      else if (stopped)
        resolve({
          status: 'skipped',
          reason: `the gate command was ${ctx.signal && ctx.signal.reason instanceof GateStop ? `stopped before it finished (${ctx.signal.reason.message})` : 'stopped before it finished'}`,
          urls: [],
          command: report,
        });
      else resolve({ status: 'failed', reason: `the gate command exited ${exitCode ?? `on ${signal}`}`, urls: [], command: report });
    };
    child.once('error', (e) => finish(null, null, e));
    // Judged on exit, not on 'close': a daemon the command started (setsid, nohup … &) can keep its
    // stdout open for ever, and 'close' waits for every holder of the pipe. The output still in
    // flight gets a moment (the pipe usually drains within it), then our end of the pipes is closed.
    child.once('exit', (c, s) => {
      clearTimeout(timer);
      const drained = new Promise<void>((r) => {
        child.once('close', () => r());
        setTimeout(r, OUTPUT_DRAIN_MS).unref();
      });
      void drained.then(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(c, s);
      });
    });
  });
}

/** Runs the gate for one service's new revision. */
export async function runGate(deps: GateDeps, gate: GateInputs, ctx: GateContext & { stage?: string }): Promise<GateResult> {
  const started = deps.now();
  const urls = gate.urls.get(ctx.service) ?? [];
  const redact = maskUrls(urls, deps.report);
  let r: Omit<GateResult, 'service' | 'durationMs' | 'stage'>;
  if (ctx.signal?.aborted) r = { status: 'skipped', reason: 'the run was cancelled before the gate started', urls: [] };
  else if (gate.command) r = await runCommand(deps, gate, urls[0], ctx, redact);
  else if (urls.length) r = await runProbes(deps, gate, urls, ctx, redact);
  else r = { status: 'skipped', reason: 'no gate URL or command for this service', urls: [] };
  const result: GateResult = { service: ctx.service, ...r, durationMs: deps.now() - started, ...(ctx.stage ? { stage: ctx.stage } : {}) };
  deps.report.info(`gate ${ctx.service}: ${result.status.toUpperCase()}: ${result.reason}`);
  return result;
}

/** "503×4, 200×3": the statuses in order, repeats folded. */
export function statusRuns(attempts: ProbeAttempt[]): string {
  const runs: [string, number][] = [];
  for (const a of attempts) {
    const v = a.status !== undefined ? String(a.status) : 'error';
    const lastRun = runs.at(-1);
    if (lastRun && lastRun[0] === v) lastRun[1] += 1;
    else runs.push([v, 1]);
  }
  return runs.map(([v, n]) => (n > 1 ? `${v}×${n}` : v)).join(', ');
}

function timings(attempts: ProbeAttempt[]): string {
  if (!attempts.length) return '';
  const ms = attempts.map((a) => a.ms);
  return `${Math.min(...ms)} / ${Math.round(ms.reduce((a, b) => a + b, 0) / ms.length)} / ${Math.max(...ms)} ms`;
}

/** Lines for the log and the failure's diagnosis. */
export function gateDiagnosis(r: GateResult): string[] {
  const lines = [`gate ${r.status}${r.stage ? ` (${r.stage})` : ''}: ${r.reason}`];
  for (const u of r.urls) {
    const lastError = [...u.attempts].reverse().find((a) => a.error)?.error;
    lines.push(
      `  ${u.url}: ${u.passed ? 'passed' : 'failed'}; ${statusRuns(u.attempts)}${lastError ? ` (last error: ${lastError})` : ''}; min/avg/max ${timings(u.attempts)}`,
    );
  }
  if (r.command) {
    lines.push(`  command: exit ${r.command.exitCode ?? r.command.signal ?? 'none'}${r.command.timedOut ? ', killed at the timeout' : ''}`);
    for (const l of r.command.lastLines.slice(-10)) lines.push(`  │ ${l}`);
  }
  return lines;
}

const ICON = { passed: '✅ passed', failed: '❌ failed', skipped: '➖ skipped', expired: '⌛ expired' } as const;

/** The step-summary section: per URL its status codes and timings, or the command's exit code and last lines. */
export function gateMarkdown(results: GateResult[]): string {
  if (!results.length) return '';
  const parts = ['\n#### Test-traffic gate'];
  const rows = results.flatMap((r) =>
    r.urls.length
      ? r.urls.map((u) => [
          r.service,
          r.stage ?? '',
          code(u.url),
          u.passed ? ICON.passed : r.status === 'failed' ? ICON.failed : ICON[r.status],
          statusRuns(u.attempts),
          timings(u.attempts),
        ])
      : [
          [
            r.service,
            r.stage ?? '',
            r.command ? 'command' : '',
            ICON[r.status],
            r.command
              ? `exit ${r.command.exitCode ?? r.command.signal ?? '–'}${r.command.timedOut ? ' (killed at timeout)' : ''}`
              : r.reason,
            `${Math.round(r.durationMs / 100) / 10} s`,
          ],
        ],
  );
  parts.push(markdownTable(['service', 'stage', 'check', 'result', 'status codes / exit', 'min / avg / max'], rows));
  for (const r of results.filter((x) => x.status === 'failed' || x.status === 'expired')) {
    parts.push(`**${r.service}:** ${r.reason.replace(/[<>]/g, '')}`);
    if (r.command?.lastLines.length) parts.push(`\`\`\`text\n${r.command.lastLines.join('\n').replace(/```/g, "'''")}\n\`\`\``);
  }
  return `${parts.join('\n\n')}\n`;
}

/** The `gate` output: failed if any failed, expired if a pause ended before its gate passed, passed if any ran and all passed, else skipped. */
export function gateOutput(results: GateResult[]): GateResult['status'] {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  if (results.some((r) => r.status === 'expired')) return 'expired';
  return results.some((r) => r.status === 'passed') ? 'passed' : 'skipped';
}
