/**
 * deadlineSignal: the run's deadline must abort even after a garbage collection (a timeout signal
 * inside AbortSignal.any() does not survive one in Node), and a source signal's abort passes through.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { boundCalls, CallDeadline, deadlineSignal, graceAfter } from '../../lib/deadline.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('deadlineSignal', () => {
  it('aborts at its timeout even when a garbage collection runs before it', async () => {
    const cancel = new AbortController();
    const signal = deadlineSignal(50, cancel.signal);
    const reason = aborted(signal);
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    expect(await reason).toMatchObject({ name: 'TimeoutError' });
    expect(cancel.signal.aborted).toBe(false);
  });

  it('aborts with the reason of a source signal that aborts first', async () => {
    const cancel = new AbortController();
    const signal = deadlineSignal(60_000, undefined, cancel.signal);
    const reason = aborted(signal);
    cancel.abort(new Error('cancelled (SIGINT)'));
    expect(await reason).toMatchObject({ message: 'cancelled (SIGINT)' });
  });

  it('is aborted at once when a source already is', () => {
    const signal = deadlineSignal(60_000, AbortSignal.abort(new Error('gone')));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ message: 'gone' });
  });
});

describe('graceAfter', () => {
  it('never aborts while its source does not, and aborts the grace after the source aborts', () => {
    vi.useFakeTimers();
    try {
      const cancel = new AbortController();
      const grace = graceAfter(cancel.signal, 8000)!;
      vi.advanceTimersByTime(60_000);
      expect(grace.aborted).toBe(false);
      cancel.abort(new Error('cancelled (SIGINT)'));
      vi.advanceTimersByTime(7999);
      expect(grace.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(grace.aborted).toBe(true);
      expect((grace.reason as Error).message).toMatch(/8 s after the cancel/);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('boundCalls', () => {
  it('lets many calls in flight share one deadline without a MaxListenersExceededWarning in the log', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const settle: (() => void)[] = [];
      // Listens to the call's abortSignal as the SDK's HTTP handler does, until the call settles.
      const client = {
        send: (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
          new Promise<void>((resolve) => {
            const onAbort = () => {};
            options?.abortSignal?.addEventListener('abort', onAbort);
            settle.push(() => {
              options?.abortSignal?.removeEventListener('abort', onAbort);
              resolve();
            });
          }),
      };
      const bound = boundCalls(client, new CallDeadline(new AbortController().signal));
      const calls = Array.from({ length: 20 }, () => bound.send({}));
      for (const done of settle) done();
      await Promise.all(calls);
      // process.emitWarning emits on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
