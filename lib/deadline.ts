import { setMaxListeners } from 'node:events';

/**
 * One deadline for every AWS call of a run. The SDK's retries (adaptive mode: backoff plus a
 * client-side rate limiter) can hold a single `send` for a minute under sustained throttling, so a
 * poll loop that checks its own timeout between calls still overruns it. Every call made through
 * a bounded client gets the current signal as its `abortSignal` (the SDK aborts the HTTP request)
 * and ends the moment the signal aborts, even while the SDK sleeps between retries.
 */
export class CallDeadline {
  private current: AbortSignal | undefined;
  constructor(signal?: AbortSignal) {
    this.set(signal);
  }

  /** The signal calls started from now on get (e.g. a fresh budget for the rollback after a cancel). */
  set(signal: AbortSignal | undefined): void {
    // Every call in flight listens to the one signal (boundCalls, and the SDK's HTTP handler and
    // retry sleep), and removes its listeners when it settles: a dozen services deployed at once
    // are not a leak, so Node's "MaxListenersExceededWarning" (at 10) must not reach the log.
    if (signal) setMaxListeners(0, signal);
    this.current = signal;
  }

  get signal(): AbortSignal | undefined {
    return this.current;
  }
}

/**
 * A signal that aborts after `ms` (reason: a TimeoutError DOMException, as AbortSignal.timeout) or
 * when any of `signals` aborts. Not `AbortSignal.any([..., AbortSignal.timeout(ms)])`: Node holds
 * the sources of an `any()` signal only weakly and the timeout signal's timer only weakly too, so
 * after a garbage collection the timeout is gone and the combined signal never aborts
 * (nodejs/node#57736). Here the timer holds the controller; it is unref'd so it alone does not
 * keep the process up, and cleared once the signal aborts.
 */
export function deadlineSignal(ms: number, ...signals: (AbortSignal | undefined)[]): AbortSignal {
  const controller = new AbortController();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const already = sources.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return controller.signal;
  }
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    Math.max(1, ms),
  );
  timer.unref();
  const listeners = sources.map((s) => {
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    return () => s.removeEventListener('abort', onAbort);
  });
  controller.signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      for (const remove of listeners) remove();
    },
    { once: true },
  );
  return controller.signal;
}

/**
 * A signal that aborts `ms` after `signal` aborts, and never while it does not: the end of the grace
 * a cancel leaves (the runner kills the step 10 s after its SIGINT). Unref'd like deadlineSignal.
 */
export function graceAfter(signal: AbortSignal | undefined, ms: number): AbortSignal | undefined {
  if (!signal) return undefined;
  const controller = new AbortController();
  const start = () => {
    const timer = setTimeout(() => controller.abort(new Error(`the ${Math.round(ms / 100) / 10} s after the cancel ran out`)), ms);
    timer.unref();
  };
  if (signal.aborted) start();
  else signal.addEventListener('abort', start, { once: true });
  return controller.signal;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  const err = new Error(`AWS call abandoned: ${reason instanceof Error ? reason.message : 'the run deadline passed'}`);
  err.name = 'AbortError';
  return err;
}

interface Sender {
  send(command: unknown, options?: Record<string, unknown>): Promise<unknown>;
}

/** The client, with every `send` bounded by `deadline`'s signal at the time of the call. */
export function boundCalls<T extends object>(client: T, deadline: CallDeadline): T {
  const target = client as unknown as Sender;
  return new Proxy(client, {
    get(obj, prop, receiver) {
      if (prop !== 'send') return Reflect.get(obj, prop, receiver) as unknown;
      return (command: unknown, options?: Record<string, unknown>) => {
        const signal = deadline.signal;
        if (!signal) return target.send(command, options);
        if (signal.aborted) return Promise.reject(abortError(signal));
        return new Promise((resolve, reject) => {
          const onAbort = () => reject(abortError(signal));
          signal.addEventListener('abort', onAbort, { once: true });
          target
            .send(command, { ...options, abortSignal: signal })
            .then(resolve, reject)
            .finally(() => signal.removeEventListener('abort', onAbort));
        });
      };
    },
  });
}
