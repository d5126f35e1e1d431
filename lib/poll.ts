/**
 * The suite's own poll loop. The SDK waiters back off up to 600 s between
 * polls, so a deploy that finished a second after a poll is noticed minutes late;
 * we poll on a fixed (or short-then-steady) schedule and own the timeout.
 */
export type Sleep = (ms: number) => Promise<void>;
export type Clock = () => number;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const realClock: Clock = () => Date.now();

export type PollStep<T> = { done: true; value: T } | { done: false };

export interface PollOptions<T> {
  /** One poll; returns `{done:true,value}` to stop. Throwing stops the loop and propagates. */
  check: (attempt: number) => Promise<PollStep<T>>;
  /** Milliseconds between polls; a function gives short first intervals, then steady ones. */
  interval: number | ((attempt: number) => number);
  timeoutMs: number;
  sleep?: Sleep;
  now?: Clock;
  /** Aborts the wait early (e.g. the workflow was cancelled). */
  signal?: AbortSignal;
}

export type PollResult<T> =
  | { status: 'done'; value: T; attempts: number; elapsedMs: number }
  | { status: 'timeout'; attempts: number; elapsedMs: number }
  | { status: 'aborted'; attempts: number; elapsedMs: number };

export async function poll<T>(opts: PollOptions<T>): Promise<PollResult<T>> {
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? realClock;
  const start = now();
  let attempt = 0;
  for (;;) {
    if (opts.signal?.aborted) return { status: 'aborted', attempts: attempt, elapsedMs: now() - start };
    attempt += 1;
    const step = await opts.check(attempt);
    const elapsedMs = now() - start;
    if (step.done) return { status: 'done', value: step.value, attempts: attempt, elapsedMs };
    if (elapsedMs >= opts.timeoutMs) return { status: 'timeout', attempts: attempt, elapsedMs };
    const wanted = typeof opts.interval === 'function' ? opts.interval(attempt) : opts.interval;
    // Never sleep past the deadline: the last poll happens right at the timeout.
    await sleep(Math.max(0, Math.min(wanted, opts.timeoutMs - elapsedMs)));
  }
}

/** Short first intervals (1 s, 2 s, …) up to a steady interval: fast for quick tasks, cheap for long ones. */
export function rampInterval(steadyMs: number, firstMs = 1000): (attempt: number) => number {
  return (attempt) => Math.min(steadyMs, firstMs * attempt);
}
