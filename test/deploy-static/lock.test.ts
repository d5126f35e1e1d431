import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { FENCE_MS, HEARTBEAT_MS, STALE_MS } from '../../actions/deploy-static/lock.js';
import { beat, body, lockWith, preconditionFailed, serverError } from './lock-fixtures.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

describe('deploy lock', () => {
  it('creates the lock with If-None-Match: * and a Content-MD5, and releases it with If-Match on its own ETag', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"mine"' });
    s3.on(DeleteObjectCommand).resolves({});
    const lock = lockWith({ t: 0 }, []);
    await lock.acquire(1000);
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Key: 'app/.deploy-static/lock.json', IfNoneMatch: '*' });
    expect(put.ContentMD5).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    await lock.release();
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toMatchObject({
      Key: 'app/.deploy-static/lock.json',
      IfMatch: '"mine"',
    });
  });

  it('waits for a live lock, then fails naming its owner and the input to raise', async () => {
    const clock = { t: 1_000_000 };
    s3.on(PutObjectCommand).callsFake(() => Promise.reject(preconditionFailed(clock.t)));
    s3.on(GetObjectCommand).callsFake(() => body('run-1', clock.t - 1000));
    const lines: string[] = [];
    await expect(lockWith(clock, lines).acquire(20_000)).rejects.toThrow(
      /Another deploy to s3:\/\/site\/app\/ is running: run-1 \(https:\/\/github.com\/acme\/web\/actions\/runs\/7\)/,
    );
    expect(lines[0]).toMatch(/waiting for the deploy lock s3:\/\/site\/app\/\.deploy-static\/lock\.json: held by run-1/);
    expect(clock.t).toBeGreaterThanOrEqual(1_020_000);
  });

  it("takes over a lock unchanged for longer than the stale age on S3's clock, conditioned on that lock's ETag", async () => {
    const server = 10 * STALE_MS;
    // The waiter's own clock is 10 minutes behind S3's: it does not matter.
    const clock = { t: server - 10 * 60_000 };
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed(server));
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"mine"' });
    s3.on(GetObjectCommand).resolves(body('run-1', 0, server - STALE_MS - 1000));
    const lines: string[] = [];
    const lock = lockWith(clock, lines);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
    expect(lines.join('\n')).toMatch(/taken over from run-1 .*: unchanged for 301 s on S3's clock/);
    await lock.release();
  });

  it('a waiter whose clock is 6 minutes ahead does not take over a lock S3 saw written just now', async () => {
    const server = 10 * STALE_MS;
    const clock = { t: server + 6 * 60_000 };
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).callsFake(() =>
      Promise.reject(preconditionFailed(server + (clock.t - server - 6 * 60_000))),
    );
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"mine"' });
    // The holder's body carries its own (correct) clock; S3 wrote it 2 s ago.
    s3.on(GetObjectCommand).callsFake(() => body('run-1', server - 2000));
    await expect(lockWith(clock, []).acquire(10_000)).rejects.toThrow(/run-1/);
    expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"held"' })).toHaveLength(0);
  });

  it('without a Date on the answer, takes over only after watching the same lock version for the stale age', async () => {
    const clock = { t: 0 };
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed());
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"mine"' });
    s3.on(GetObjectCommand).resolves(body('run-1', -60 * 60_000));
    const lock = lockWith(clock, []);
    await lock.acquire(STALE_MS + 10_000);
    expect(lock.held).toBe(true);
    expect(clock.t).toBeGreaterThan(STALE_MS);
  });

  it('adopts its own lock when the create landed but the SDK retry of it got 412 (same owner token)', async () => {
    const clock = { t: 5_000_000 };
    const lock = lockWith(clock, []);
    s3.on(PutObjectCommand).rejects(preconditionFailed(clock.t));
    s3.on(GetObjectCommand).resolves(body('run-2', clock.t, clock.t, 'mine'));
    await lock.acquire(0);
    expect(lock.held).toBe(true);
  });

  it('two waiters on one stale lock: the one whose takeover loses (412) keeps waiting', async () => {
    const clock = { t: 10 * STALE_MS };
    s3.on(PutObjectCommand).callsFake(() => Promise.reject(preconditionFailed(clock.t)));
    s3.on(GetObjectCommand)
      .resolvesOnce(body('run-1', 0, clock.t - STALE_MS - 1000))
      .callsFake(() => body('run-3', clock.t));
    await expect(lockWith(clock, []).acquire(6000)).rejects.toThrow(/run-3/);
  });

  it('a heartbeat S3 applied whose answer was lost (the retry got 412) keeps the lock: the body read back is ours', async () => {
    const clock = { t: 0 };
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith(clock, [], timers);
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).resolves({ ETag: '"v1"' });
    await lock.acquire(0);
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(preconditionFailed(clock.t));
    s3.on(GetObjectCommand).callsFake(() => ({ ...body('run-2', clock.t, clock.t, 'mine'), ETag: '"v2"' }));
    clock.t += HEARTBEAT_MS;
    await beat(timers);
    expect(lock.lostReason).toBeUndefined();
    expect(lock.fresh).toBe(true);
    // The next heartbeat is conditioned on the ETag read back.
    s3.on(PutObjectCommand, { IfMatch: '"v2"' }).resolves({ ETag: '"v3"' });
    clock.t += HEARTBEAT_MS;
    await beat(timers);
    expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"v2"' })).toHaveLength(1);
  });

  it('a heartbeat that finds another owner marks the lock lost and fences every write', async () => {
    const clock = { t: 0 };
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith(clock, [], timers);
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).resolves({ ETag: '"v1"' });
    await lock.acquire(0);
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(preconditionFailed(clock.t));
    s3.on(GetObjectCommand).resolves(body('run-9', clock.t, clock.t, 'theirs'));
    clock.t += HEARTBEAT_MS;
    await beat(timers);
    expect(lock.lostReason).toMatch(/taken over by run-9/);
    const site = lock.fenced(new S3Client({ region: 'eu-west-1' }));
    await expect(site.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/index.html', Body: 'x' }))).rejects.toThrow(
      /Stopped before writing app\/index\.html: the deploy lock .* was taken over by run-9/,
    );
    expect(s3.commandCalls(PutObjectCommand, { Key: 'app/index.html' })).toHaveLength(0);
  });

  it('stops writing once no heartbeat was confirmed for half the stale age (heartbeats failing)', async () => {
    const clock = { t: 0 };
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith(clock, [], timers);
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).resolves({ ETag: '"v1"' });
    await lock.acquire(0);
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(serverError());
    s3.on(PutObjectCommand, { Key: 'app/a.js' }).resolves({ ETag: '"a"' });
    const site = lock.fenced(new S3Client({ region: 'eu-west-1' }));
    while (clock.t + HEARTBEAT_MS < FENCE_MS) {
      clock.t += HEARTBEAT_MS;
      await beat(timers);
      await site.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/a.js', Body: 'x' }));
    }
    clock.t = FENCE_MS;
    expect(lock.fresh).toBe(false);
    await expect(site.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/a.js', Body: 'x' }))).rejects.toThrow(
      /no heartbeat .* was confirmed for 150 s \(limit 150 s\)/,
    );
  });

  it('sends one heartbeat at a time: a slow one is not overlapped by the next', async () => {
    const clock = { t: 0 };
    const timers: { ms: number; fn: () => void }[] = [];
    const lock = lockWith(clock, [], timers);
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).resolves({ ETag: '"v1"' });
    await lock.acquire(0);
    let answer: (v: { ETag: string }) => void = () => {};
    s3.on(PutObjectCommand, { IfMatch: '"v1"' }).callsFake(() => new Promise((resolve) => (answer = resolve)));
    await beat(timers);
    // The heartbeat has not answered: no timer is scheduled for the next one.
    expect(timers).toHaveLength(0);
    answer({ ETag: '"v2"' });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(timers).toHaveLength(1);
    expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"v1"' })).toHaveLength(1);
  });
});
