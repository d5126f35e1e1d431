import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import { FENCE_MS, HEARTBEAT_MS, STALE_MS } from '../../actions/deploy-static/lock.js';
import { DeployLock } from '../../actions/deploy-static/lock.js';
import { stateOf } from '../../actions/deploy-static/state.js';
import { beat, body, lockWith, preconditionFailed, serverError, settle } from './lock-fixtures.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const notFound = () =>
  Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
const LOCK = 's3://site/app/.deploy-static/lock.json';
const sentBody = (i: number) => JSON.parse(String(s3.commandCalls(PutObjectCommand)[i]!.args[0].input.Body)) as Record<string, string>;

describe('deploy lock: acquiring', () => {
  it('says who acquired it, and schedules the first heartbeat after HEARTBEAT_MS', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"v1"' });
    const lines: string[] = [];
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith({ t: 0 }, lines, timers);
    expect(lock.held).toBe(false);
    await lock.acquire(0);
    expect(lock.key).toBe('app/.deploy-static/lock.json');
    expect(lines).toEqual([`deploy lock ${LOCK} acquired by run-2`]);
    expect(timers.map((t) => t.ms)).toEqual([HEARTBEAT_MS]);
    expect(sentBody(0)).toMatchObject({ owner: 'run-2', token: 'mine', acquiredAt: '1970-01-01T00:00:00.000Z' });
  });

  it('adopting its own lock after a lost answer says so too, and heartbeats on the ETag read back', async () => {
    const clock = { t: 5_000_000 };
    const lines: string[] = [];
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith(clock, lines, timers);
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed(clock.t));
    s3.on(GetObjectCommand).resolves({ ...body('run-2', clock.t, clock.t, 'mine'), ETag: '"ours"' });
    s3.on(PutObjectCommand, { IfMatch: '"ours"' }).resolves({ ETag: '"v2"' });
    await lock.acquire(0);
    expect(lines).toEqual([`deploy lock ${LOCK} acquired by run-2`]);
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'site', Key: 'app/.deploy-static/lock.json' });
    await beat(timers);
    expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"ours"' })).toHaveLength(1);
  });

  it('a lock of the same run from another attempt (another token), or another run with our token, is not ours', async () => {
    for (const [owner, token] of [
      ['run-2', 'other'],
      ['run-1', 'mine'],
    ] as const) {
      s3.reset();
      const clock = { t: 1_000_000 };
      s3.on(PutObjectCommand).callsFake(() => Promise.reject(preconditionFailed(clock.t)));
      s3.on(GetObjectCommand).callsFake(() => body(owner, clock.t, clock.t, token));
      const lock = lockWith(clock, []);
      await expect(lock.acquire(0)).rejects.toThrow(new RegExp(`${owner} \\(https://github.com/acme/web/actions/runs/7\\) holds`));
      expect(lock.held).toBe(false);
    }
  });

  it('a lock deleted between the failed create and the read: creates it again', async () => {
    s3.on(PutObjectCommand).rejectsOnce(preconditionFailed(0)).resolves({ ETag: '"v1"' });
    s3.on(GetObjectCommand).rejects(notFound());
    const lock = lockWith({ t: 0 }, []);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('a create refused for another reason (not a conflict) is passed on, without reading the lock', async () => {
    s3.on(PutObjectCommand).rejects(serverError());
    const lock = lockWith({ t: 0 }, []);
    await expect(lock.acquire(60_000)).rejects.toThrow(/internal error/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(lock.held).toBe(false);
  });

  it('a create answered without an ETag holds the lock, but no heartbeat or delete is sent on an unknown version', async () => {
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith({ t: 0 }, [], timers);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
    await beat(timers);
    await lock.release();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('without an injected timer, the heartbeat runs on a real timer every HEARTBEAT_MS', async () => {
    vi.useFakeTimers();
    try {
      s3.on(PutObjectCommand, { IfNoneMatch: '*' }).resolves({ ETag: '"v1"' });
      s3.on(PutObjectCommand, { IfMatch: '"v1"' }).resolves({ ETag: '"v2"' });
      const lock = new DeployLock(
        { s3: new S3Client({ region: 'eu-west-1' }), now: () => 0, sleep: async () => {}, log: () => {} },
        stateOf({ bucket: 'site', prefix: 'app/' }),
        'run-2',
        'w',
      );
      await lock.acquire(0);
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS - 1);
      expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"v1"' })).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"v1"' })).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls every 5 s, prints the "waiting" line once per holder, and fails naming the wait and the input', async () => {
    const clock = { t: 1_000_000 };
    s3.on(PutObjectCommand).callsFake(() => Promise.reject(preconditionFailed(clock.t)));
    s3.on(GetObjectCommand).callsFake(() =>
      clock.t < 1_010_000 ? body('run-1', clock.t - 2000) : { ...body('run-3', clock.t - 2000), ETag: '"held-3"' },
    );
    const lines: string[] = [];
    const err = (await lockWith(clock, lines)
      .acquire(22_000)
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as ActionError;
    // Reads at 0, 5, 10, 15, 20 and 22 s: the last sleep is cut to the deadline.
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(6);
    expect(clock.t).toBe(1_022_000);
    expect(lines).toEqual([
      `waiting for the deploy lock ${LOCK}: held by run-1 (https://github.com/acme/web/actions/runs/7), unchanged for 2 s`,
      `waiting for the deploy lock ${LOCK}: held by run-3 (https://github.com/acme/web/actions/runs/7), unchanged for 2 s`,
    ]);
    expect(err.message).toBe(
      `Another deploy to s3://site/app/ is running: run-3 (https://github.com/acme/web/actions/runs/7) holds ${LOCK} (unchanged for 12 s). Waited 22 s.`,
    );
    expect(err.location.input).toBe('lock-wait-seconds');
    expect(err.fix).toContain('heartbeat stops for 5 minutes');
    expect(err.fix).toContain(`delete ${LOCK} by hand`);
  });

  it('a lock without a readable body is named as such, and its age counts from when the waiter first saw that version', async () => {
    const clock = { t: 0 };
    s3.on(PutObjectCommand).rejects(preconditionFailed(60_000));
    s3.on(GetObjectCommand).resolves({ ETag: '"held"', Body: { transformToString: async () => '{"owner":' } as never });
    await expect(lockWith(clock, []).acquire(12_000)).rejects.toThrow(
      `Another deploy to s3://site/app/ is running: an unknown run (unreadable lock) holds ${LOCK} (unchanged for 12 s)`,
    );
  });

  it("a new version of the lock restarts the waiter's own count of its age", async () => {
    const clock = { t: 0 };
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    s3.on(GetObjectCommand).callsFake(() => ({ ...body('run-1', 0), ETag: clock.t < 10_000 ? '"a"' : '"b"' }));
    await expect(lockWith(clock, []).acquire(15_000)).rejects.toThrow(/\(unchanged for 5 s\)/);
  });

  it('not stale at exactly the stale age; a takeover refused with another error is passed on and nothing is held', async () => {
    const server = 10 * STALE_MS;
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed(server));
    s3.on(GetObjectCommand).resolves(body('run-1', 0, server - STALE_MS));
    await expect(lockWith({ t: 0 }, []).acquire(0)).rejects.toThrow(/run-1 .* holds .* \(unchanged for 300 s\)/);
    expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"held"' })).toHaveLength(0);

    s3.on(GetObjectCommand).resolves(body('run-1', 0, server - STALE_MS - 1));
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).rejects(serverError());
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith({ t: 0 }, [], timers);
    await expect(lock.acquire(0)).rejects.toThrow(/internal error/);
    expect(lock.held).toBe(false);
    expect(timers).toHaveLength(0);
  });

  it("a takeover says from whom, how long the lock was unchanged and the stale age; the body keeps the takeover's time as acquiredAt", async () => {
    const server = 10 * STALE_MS;
    const clock = { t: 7_000 };
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed(server));
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"mine"' });
    s3.on(GetObjectCommand).resolves(body('run-1', 0, server - 400_000));
    const lines: string[] = [];
    await lockWith(clock, lines).acquire(0);
    expect(lines).toEqual([
      `deploy lock ${LOCK} taken over from run-1 (https://github.com/acme/web/actions/runs/7): unchanged for 400 s on S3's clock (stale after 300 s)`,
    ]);
    expect(sentBody(1)).toMatchObject({ owner: 'run-2', acquiredAt: new Date(7_000).toISOString() });
  });

  it('a takeover whose answer was lost (412 on the retry) is read back and adopted', async () => {
    const server = 10 * STALE_MS;
    const clock = { t: 0 };
    s3.on(PutObjectCommand).rejects(preconditionFailed(server));
    s3.on(GetObjectCommand)
      .resolvesOnce(body('run-1', 0, server - STALE_MS - 1000))
      .resolves({ ...body('run-2', 0, server, 'mine'), ETag: '"taken"' });
    const lock = lockWith(clock, []);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
  });
});

describe('deploy lock: heartbeat, fence and release', () => {
  async function held(lines: string[] = []) {
    const clock = { t: 0 };
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith(clock, lines, timers);
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).resolves({ ETag: '"v1"' });
    await lock.acquire(0);
    return { clock, timers, lock };
  }

  it('fences a write while the lock is not held; is fresh until exactly half the stale age', async () => {
    const lock = lockWith({ t: 0 }, []);
    expect(() => lock.fence('writing x')).toThrow(`Stopped before writing x: the deploy lock ${LOCK} is not held.`);
    const { clock, lock: h } = await held();
    clock.t = FENCE_MS - 1;
    expect(h.fresh).toBe(true);
    expect(() => h.fence('writing x')).not.toThrow();
    clock.t = FENCE_MS;
    expect(h.fresh).toBe(false);
  });

  it('the fence names how long ago the last heartbeat was confirmed, and the way out', async () => {
    const { clock, timers, lock } = await held();
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).resolves({ ETag: '"v2"' });
    clock.t = 100_000;
    await beat(timers);
    clock.t = 100_000 + FENCE_MS + 20_000;
    const err = (() => {
      try {
        lock.fence('writing x');
      } catch (e) {
        return e as ActionError;
      }
    })();
    expect(err?.message).toBe(
      `Stopped before writing x: no heartbeat of the deploy lock ${LOCK} was confirmed for 170 s (limit 150 s): another run may take it over.`,
    );
    expect(err?.fix).toBe('Re-run the deploy; it re-plans from what is in the bucket now.');
  });

  it('writes to the lock object itself are not fenced (its own protocol guards them); other keys are', async () => {
    const { timers, lock } = await held();
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(preconditionFailed());
    s3.on(GetObjectCommand).rejects(notFound());
    await beat(timers);
    expect(lock.fresh).toBe(false);
    s3.on(DeleteObjectCommand).resolves({});
    const site = lock.fenced(new S3Client({ region: 'eu-west-1' }));
    await site.send(new DeleteObjectCommand({ Bucket: 'site', Key: 'app/.deploy-static/lock.json' }));
    await expect(site.send(new DeleteObjectCommand({ Bucket: 'site', Key: 'app/a.js' }))).rejects.toThrow(/Stopped before/);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });

  it('a heartbeat moves the ETag and the fence forward, rewrites heartbeatAt and keeps acquiredAt', async () => {
    const { clock, timers, lock } = await held();
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).resolves({ ETag: '"v2"' });
    s3.on(PutObjectCommand, { IfMatch: '"v2"' }).resolves({});
    clock.t = HEARTBEAT_MS;
    await beat(timers);
    expect(sentBody(1)).toMatchObject({ acquiredAt: new Date(0).toISOString(), heartbeatAt: new Date(HEARTBEAT_MS).toISOString() });
    clock.t = HEARTBEAT_MS + FENCE_MS - 1;
    expect(lock.fresh).toBe(true);
    // An answer without an ETag keeps the one we had.
    await beat(timers);
    s3.on(DeleteObjectCommand).resolves({});
    await lock.release();
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input.IfMatch).toBe('"v2"');
  });

  it('a failed heartbeat keeps the lock and the next one is still sent', async () => {
    const { clock, timers, lock } = await held();
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(serverError());
    // Not a conflict: the lock is not read back (had it been, this body would say it is lost).
    s3.on(GetObjectCommand).resolves(body('run-9', clock.t, clock.t, 'theirs'));
    clock.t = HEARTBEAT_MS;
    await beat(timers);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(lock.held).toBe(true);
    expect(lock.lostReason).toBeUndefined();
    expect(timers).toHaveLength(1);
  });

  it('a 412 on a heartbeat whose read-back fails keeps the lock', async () => {
    const { clock, timers, lock } = await held();
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(preconditionFailed());
    s3.on(GetObjectCommand).rejects(serverError());
    clock.t = HEARTBEAT_MS;
    await beat(timers);
    expect(lock.held).toBe(true);
    expect(lock.lostReason).toBeUndefined();
    expect(timers).toHaveLength(1);
  });

  it('a lock gone at a heartbeat is lost to "another run": no more heartbeats, nothing to release', async () => {
    const { clock, timers, lock } = await held();
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(preconditionFailed());
    s3.on(GetObjectCommand).rejects(notFound());
    clock.t = HEARTBEAT_MS;
    await beat(timers);
    expect(lock.lostReason).toBe(`the deploy lock ${LOCK} was taken over by another run`);
    expect(lock.held).toBe(false);
    expect(timers).toHaveLength(0);
    await lock.release();
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('release waits for a heartbeat in flight and deletes with the ETag it got; no heartbeat follows', async () => {
    const lines: string[] = [];
    const { timers, lock } = await held(lines);
    let answer: (v: { ETag: string }) => void = () => {};
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).callsFake(() => new Promise((resolve) => (answer = resolve)));
    s3.on(DeleteObjectCommand).resolves({});
    await beat(timers);
    const released = lock.release();
    answer({ ETag: '"v2"' });
    await released;
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'site', IfMatch: '"v2"' });
    expect(timers).toHaveLength(0);
    expect(lock.held).toBe(false);
    expect(lines.at(-1)).toBe(`deploy lock ${LOCK} released`);
  });

  it('a release that fails is logged, not thrown: the lock is taken over once stale', async () => {
    const lines: string[] = [];
    const { lock } = await held(lines);
    s3.on(DeleteObjectCommand).rejects(serverError());
    await lock.release();
    expect(lines.at(-1)).toBe(
      `could not release the deploy lock ${LOCK}: We encountered an internal error; it is taken over once stale (5 min)`,
    );
  });

  it('cancel fences new writes at once, waits for the writes in flight, then releases', async () => {
    const { timers, lock } = await held();
    let answer: (v: object) => void = () => {};
    s3.on(PutObjectCommand, { Key: 'app/a.js' }).callsFake(() => new Promise((resolve) => (answer = resolve)));
    s3.on(DeleteObjectCommand).resolves({});
    const site = lock.fenced(new S3Client({ region: 'eu-west-1' }));
    const write = site.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/a.js', Body: 'x' }));
    const cancelled = lock.cancel(60_000);
    await expect(site.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/b.js', Body: 'x' }))).rejects.toThrow(
      'Stopped before writing app/b.js: the workflow was cancelled.',
    );
    await settle();
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    answer({});
    await write;
    await cancelled;
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
    // The cancel's own timer is cleared once the writes answered.
    expect(timers.filter((t) => t.ms === 60_000)).toHaveLength(0);
  });

  it('cancel releases after maxWaitMs when a write in flight never answers; a lost lock keeps its reason', async () => {
    const { timers, lock } = await held();
    s3.on(PutObjectCommand, { Key: 'app/a.js' }).callsFake(() => new Promise(() => {}));
    s3.on(DeleteObjectCommand).resolves({});
    void lock.fenced(new S3Client({ region: 'eu-west-1' })).send(new PutObjectCommand({ Bucket: 'site', Key: 'app/a.js', Body: 'x' }));
    lock.lostReason = 'the deploy lock was taken over by run-9';
    const cancelled = lock.cancel(60_000);
    await settle();
    const wait = timers.find((t) => t.ms === 60_000);
    expect(wait).toBeDefined();
    wait!.fn();
    await cancelled;
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
    expect(lock.lostReason).toBe('the deploy lock was taken over by run-9');
  });
});
