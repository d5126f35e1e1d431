import { describe, expect, it } from 'vitest';
import { poll, rampInterval } from '../../lib/poll.js';

/** A fake clock that only moves when the poller sleeps. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

describe('poll', () => {
  it('returns the value as soon as a check is done, sleeping the fixed interval between checks', async () => {
    const time = fakeTime();
    const result = await poll({
      check: async (n) => (n === 3 ? { done: true, value: 'stable' } : { done: false }),
      interval: 5000,
      timeoutMs: 60_000,
      ...time,
    });
    expect(result).toEqual({ status: 'done', value: 'stable', attempts: 3, elapsedMs: 10_000 });
    expect(time.sleeps).toEqual([5000, 5000]);
  });

  it('times out with a last check right at the deadline, never sleeping past it', async () => {
    const time = fakeTime();
    const result = await poll({ check: async () => ({ done: false }), interval: 4000, timeoutMs: 10_000, ...time });
    expect(result.status).toBe('timeout');
    expect(time.sleeps).toEqual([4000, 4000, 2000]);
    expect(result.elapsedMs).toBe(10_000);
  });

  it('stops when aborted (workflow cancelled)', async () => {
    const time = fakeTime();
    const ctl = new AbortController();
    const result = await poll({
      check: async (n) => {
        if (n === 2) ctl.abort();
        return { done: false };
      },
      interval: 1000,
      timeoutMs: 60_000,
      signal: ctl.signal,
      ...time,
    });
    expect(result.status).toBe('aborted');
    expect(result.attempts).toBe(2);
  });

  it('propagates an error thrown by a check', async () => {
    await expect(
      poll({ check: async () => Promise.reject(new Error('AccessDenied')), interval: 1, timeoutMs: 10, ...fakeTime() }),
    ).rejects.toThrow('AccessDenied');
  });

  it('ramps short first intervals up to the steady interval', () => {
    const ramp = rampInterval(5000);
    expect([1, 2, 3, 4, 5, 6, 10].map(ramp)).toEqual([1000, 2000, 3000, 4000, 5000, 5000, 5000]);
  });
});
