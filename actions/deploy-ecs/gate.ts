/**
 * The test-traffic gate: is the new revision healthy, judged by real
 * requests, before users get it? Either URL probes (GET/HEAD, no body, redirects
 * not followed unless asked, a timeout per request, N successes in a row for every
 * URL within an overall timeout) or a shell command (exit 0 = healthy, killed at
 * the timeout). fetch, spawn, clock and sleep are injected; nothing here talks to AWS.
 */
import { deadlineSignal } from '../../lib/deadline.js';
import { runCommand } from './gate-command.js';
import type { GateInputs } from './gate-inputs.js';
import { GateStop, type GateContext, type GateDeps, type GateResult, type ProbeAttempt } from './gate-types.js';
import { maskUrls, redactUrl, requestOf } from './gate-url.js';
import { abortableSleep } from './wait.js';

const stoppedWhy = (signal: AbortSignal): string =>
  signal.reason instanceof GateStop ? `stopped: ${signal.reason.message}` : 'stopped by the cancel';

const MAX_ATTEMPTS_KEPT = 200;

const expected = (gate: GateInputs, status: number): boolean =>
  gate.expectStatus.length ? gate.expectStatus.includes(status) : status >= 200 && status < 300;

const expectText = (gate: GateInputs): string => (gate.expectStatus.length ? gate.expectStatus.join('/') : '2xx');

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
    `gate ${ctx.service}: ${gate.method} ${reports.map((r) => r.report.url).join(', ')} until ${gate.successes} answer(s) in a row are ` +
      `${expectText(gate)} (timeout ${gate.timeoutMs / 1000} s)`,
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
