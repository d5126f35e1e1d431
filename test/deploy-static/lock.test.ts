import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeployLock, HEARTBEAT_MS, STALE_MS } from '../../actions/deploy-static/lock.js';
import { conditionalS3 } from './conditional-s3.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const preconditionFailed = () => new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' });
/** A GetObject answer with the lock body (only transformToString is read). */
const body = (owner: string, beatAt: number) => {
  const text = JSON.stringify({ owner, where: 'https://github.com/acme/web/actions/runs/7', acquiredAt: new Date(beatAt).toISOString(), heartbeatAt: new Date(beatAt).toISOString() });
  return { ETag: '"held"', Body: { transformToString: async () => text } as never };
};

function lockWith(clock: { t: number }, lines: string[]) {
  const deps = { s3: new S3Client({ region: 'eu-west-1' }), now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms), log: (l: string) => lines.push(l) };
  return new DeployLock(deps, 'site', 'app/', 'run-2', 'https://github.com/acme/web/actions/runs/8');
}

describe('deploy lock', () => {
  it('creates the lock with If-None-Match: * and releases it with If-Match on its own ETag', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"mine"' });
    s3.on(DeleteObjectCommand).resolves({});
    const lock = lockWith({ t: 0 }, []);
    await lock.acquire(1000);
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Key: 'app/.deploy-static/lock.json', IfNoneMatch: '*' });
    await lock.release();
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toMatchObject({ Key: 'app/.deploy-static/lock.json', IfMatch: '"mine"' });
  });

  it('waits for a live lock, then fails naming its owner and the input to raise', async () => {
    const clock = { t: 1_000_000 };
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    s3.on(GetObjectCommand).callsFake(() => body('run-1', clock.t - 1000));
    const lines: string[] = [];
    await expect(lockWith(clock, lines).acquire(20_000)).rejects.toThrow(/Another deploy to s3:\/\/site\/app\/ is running: run-1 \(https:\/\/github.com\/acme\/web\/actions\/runs\/7\)/);
    expect(lines[0]).toMatch(/waiting for the deploy lock s3:\/\/site\/app\/\.deploy-static\/lock\.json: held by run-1/);
    expect(clock.t).toBeGreaterThanOrEqual(1_020_000);
  });

  it('takes over a lock whose heartbeat is older than the stale age, conditioned on that lock\'s ETag', async () => {
    const clock = { t: 10 * STALE_MS };
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed());
    s3.on(PutObjectCommand, { IfMatch: '"held"' }).resolves({ ETag: '"mine"' });
    s3.on(GetObjectCommand).resolves(body('run-1', clock.t - STALE_MS - 1000));
    const lines: string[] = [];
    const lock = lockWith(clock, lines);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
    expect(lines.join('\n')).toMatch(/taken over from run-1 .*: its last heartbeat was 301 s ago/);
    await lock.release();
  });

  it('adopts its own lock when the create landed but the SDK retry of it got 412', async () => {
    const clock = { t: 5_000_000 };
    const lock = lockWith(clock, []);
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    s3.on(GetObjectCommand).callsFake(() => {
      const text = JSON.stringify({ owner: 'run-2', where: '', acquiredAt: new Date(clock.t).toISOString(), heartbeatAt: new Date(clock.t).toISOString() });
      return { ETag: '"ours"', Body: { transformToString: async () => text } as never };
    });
    await lock.acquire(0);
    expect(lock.held).toBe(true);
  });

  it('two waiters on one stale lock: the one whose takeover loses (412) keeps waiting', async () => {
    const clock = { t: 10 * STALE_MS };
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    s3.on(GetObjectCommand).resolvesOnce(body('run-1', clock.t - STALE_MS - 1000)).callsFake(() => body('run-3', clock.t));
    await expect(lockWith(clock, []).acquire(6000)).rejects.toThrow(/run-3/);
  });
});

describe('deploy lock heartbeat (fake timers)', () => {
  const KEY = 'app/.deploy-static/lock.json';
  let bucket: ReturnType<typeof conditionalS3>;
  beforeEach(() => {
    s3.restore();
    vi.useFakeTimers();
    bucket = conditionalS3();
  });
  afterEach(() => {
    vi.useRealTimers();
    bucket.mock.restore();
  });
  const newLock = (lines: string[]) =>
    new DeployLock({ s3: bucket.client, now: () => Date.now(), sleep: async () => {}, log: (l) => lines.push(l) }, 'site', 'app/', 'run-2', 'https://github.com/acme/web/actions/runs/8');
  const lockPuts = () => bucket.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

  it('rewrites the lock every heartbeat, each time If-Match the ETag of the last write', async () => {
    const lock = newLock([]);
    await lock.acquire(0);
    await vi.advanceTimersByTimeAsync(2 * HEARTBEAT_MS);
    expect(lockPuts().map((p) => [p.IfNoneMatch, p.IfMatch])).toEqual([
      ['*', undefined],
      [undefined, '"v1"'],
      [undefined, '"v2"'],
    ]);
    expect(lock.lostReason).toBeUndefined();
    await lock.release();
    expect(bucket.objects.has(KEY)).toBe(false);
  });

  it('a lock taken over by another run: the heartbeat fails, leaves theirs, sets lostReason and stops beating', async () => {
    const lines: string[] = [];
    const lock = newLock(lines);
    await lock.acquire(0);
    bucket.others.put(KEY, JSON.stringify({ owner: 'run-3', where: '', acquiredAt: '', heartbeatAt: '' }));
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(lock.lostReason).toBe('the deploy lock s3://site/app/.deploy-static/lock.json was taken over by another run');
    expect(lock.held).toBe(false);
    expect(JSON.parse(bucket.objects.get(KEY)!.body).owner).toBe('run-3');
    await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
    expect(lockPuts()).toHaveLength(2); // the create and the one failed heartbeat
    await lock.release();
    expect(JSON.parse(bucket.objects.get(KEY)!.body).owner).toBe('run-3');
  });

  it('a heartbeat that fails for another reason keeps the lock and beats again', async () => {
    const lock = newLock([]);
    await lock.acquire(0);
    bucket.mock.on(PutObjectCommand).rejectsOnce(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }));
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(lock.held).toBe(true);
    expect(lock.lostReason).toBeUndefined();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(lockPuts().map((p) => p.IfMatch)).toEqual([undefined, '"v1"', '"v1"']);
    await lock.release();
    expect(bucket.objects.has(KEY)).toBe(false);
  });
});
