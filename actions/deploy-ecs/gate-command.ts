/**
 * The gate command: a shell command run in its own process group, judged on exit (not on its pipes
 * closing), its output streamed to the log with secrets redacted, the whole group killed at the
 * timeout or on a cancel.
 */
import { existsSync } from 'node:fs';
import type { GateInputs } from './gate-inputs.js';
import { GateStop, type CommandReport, type GateContext, type GateDeps, type GateResult } from './gate-types.js';
import { redactUrl } from './gate-url.js';

const LAST_LINES = 20;
const KILL_GRACE_MS = 2000;
const CANCEL_KILL_GRACE_MS = 1000;
/** How long output written just before the command's exit may take to arrive. */
const OUTPUT_DRAIN_MS = 200;

/** The shell a GitHub runner uses for `run:` steps when it exists (bash), else sh. */
const shell = (): string | boolean => (existsSync('/bin/bash') ? '/bin/bash' : true);

export function runCommand(
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
          reason:
            ctx.signal && ctx.signal.reason instanceof GateStop
              ? `the gate command was stopped before it finished (${ctx.signal.reason.message})`
              : 'the gate command was stopped before it finished',
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
