import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeployLock, HEARTBEAT_MS, STALE_MS, withDeployLock } from '../../actions/deploy-static/lock.js';
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

describe('deploy lock: acquiring on the edges', () => {
  const KEY = 'app/.deploy-static/lock.json';
  let bucket: ReturnType<typeof conditionalS3>;
  beforeEach(() => {
    s3.restore();
    bucket = conditionalS3();
  });
  afterEach(() => bucket.mock.restore());
  const newLock = (clock: { t: number }, lines: string[], owner = 'run-2') =>
    new DeployLock({ s3: bucket.client, now: () => clock.t, sleep: async (ms) => void (clock.t += ms), log: (l) => lines.push(l) }, 'site', 'app/', owner, 'https://github.com/acme/web/actions/runs/8');
  const holder = (owner: string, beatAt: number) => JSON.stringify({ owner, where: 'https://github.com/acme/web/actions/runs/7', acquiredAt: new Date(beatAt).toISOString(), heartbeatAt: new Date(beatAt).toISOString() });

  it('writes who holds it and since when into the lock, and logs the acquisition', async () => {
    const lines: string[] = [];
    const lock = newLock({ t: 1_000_000 }, lines);
    await lock.acquire(0);
    expect(JSON.parse(bucket.objects.get(KEY)!.body)).toEqual({ owner: 'run-2', where: 'https://github.com/acme/web/actions/runs/8', acquiredAt: new Date(1_000_000).toISOString(), heartbeatAt: new Date(1_000_000).toISOString() });
    expect(lines).toEqual(['deploy lock s3://site/app/.deploy-static/lock.json acquired by run-2']);
    await lock.release();
    expect(lines[1]).toBe('deploy lock s3://site/app/.deploy-static/lock.json released');
  });

  it('a live lock released while waiting: acquired at the next poll, the wait line printed once per holder', async () => {
    const clock = { t: 1_000_000 };
    const lines: string[] = [];
    bucket.others.put(KEY, holder('run-1', clock.t - 2000));
    let polls = 0;
    // The holder releases its lock during the third poll.
    const sleep = async (ms: number) => {
      polls += 1;
      if (polls === 3) bucket.objects.delete(KEY);
      clock.t += ms;
    };
    const lock = new DeployLock({ s3: bucket.client, now: () => clock.t, sleep, log: (l) => lines.push(l) }, 'site', 'app/', 'run-2', '');
    await lock.acquire(60_000);
    expect(lock.held).toBe(true);
    expect(polls).toBe(3);
    expect(clock.t).toBe(1_015_000); // three 5 s polls
    expect(lines.filter((l) => l.startsWith('waiting for'))).toEqual(['waiting for the deploy lock s3://site/app/.deploy-static/lock.json: held by run-1 (https://github.com/acme/web/actions/runs/7), heartbeat 2 s ago']);
    await lock.release();
  });

  it('the last poll before the deadline sleeps only up to the deadline', async () => {
    const clock = { t: 1_000_000 };
    bucket.others.put(KEY, holder('run-1', clock.t));
    const slept: number[] = [];
    const lock = new DeployLock({ s3: bucket.client, now: () => clock.t, sleep: async (ms) => void (slept.push(ms), (clock.t += ms)), log: () => {} }, 'site', 'app/', 'run-2', '');
    await expect(lock.acquire(12_000)).rejects.toThrow(/Waited 12 s\./);
    expect(slept).toEqual([5000, 5000, 2000]);
  });

  it('a lock whose heartbeat is exactly the stale age is still live', async () => {
    const clock = { t: 10 * STALE_MS };
    bucket.others.put(KEY, holder('run-1', clock.t - STALE_MS));
    await expect(newLock(clock, []).acquire(0)).rejects.toThrow(/run-1 .* holds .*heartbeat 300 s ago/);
    expect(JSON.parse(bucket.objects.get(KEY)!.body).owner).toBe('run-1');
  });

  it('an unreadable lock is named so, and not taken over while S3 says it is new', async () => {
    const clock = { t: Date.parse('2026-12-01T00:00:00Z') };
    bucket.others.put(KEY, 'not json');
    bucket.mock.on(GetObjectCommand).callsFake(() => ({ ETag: bucket.objects.get(KEY)!.etag, LastModified: new Date(clock.t - 1000), Body: { transformToString: async () => 'not json' } }));
    await expect(newLock(clock, []).acquire(0)).rejects.toThrow(/an unknown run \(unreadable lock\) holds .* \(heartbeat 1 s ago\)/);
  });

  it('fails with the fix: the input to raise and when a lock is taken over', async () => {
    const clock = { t: 1_000_000 };
    bucket.others.put(KEY, holder('run-1', clock.t));
    const err = await newLock(clock, []).acquire(0).then(
      () => undefined,
      (e: unknown) => e as { location: { input?: string }; fix?: string },
    );
    expect(err!.location.input).toBe('lock-wait-seconds');
    expect(err!.fix).toBe('Let that run finish and re-run this one, or raise lock-wait-seconds. A lock whose heartbeat stops for 5 minutes is taken over automatically; delete s3://site/app/.deploy-static/lock.json by hand only if you are sure no deploy is running.');
  });

  it('an error other than a conflict on create is passed on', async () => {
    bucket.mock.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));
    await expect(newLock({ t: 0 }, []).acquire(60_000)).rejects.toThrow('Access Denied');
  });

  it('a 409 on create (a racing create in flight) is waited on like a 412', async () => {
    const clock = { t: 1_000_000 };
    bucket.others.put(KEY, holder('run-1', clock.t));
    bucket.mock.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'ConditionalRequestConflict', $fault: 'client', $metadata: { httpStatusCode: 409 }, message: 'conflict' }));
    await expect(newLock(clock, []).acquire(0)).rejects.toThrow(/Another deploy to s3:\/\/site\/app\/ is running: run-1/);
  });

  it('release that fails is logged, never thrown; release without the lock does nothing', async () => {
    const lines: string[] = [];
    const lock = newLock({ t: 0 }, lines);
    await lock.release();
    expect(bucket.mock.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    await lock.acquire(0);
    bucket.others.put(KEY, holder('run-3', 0));
    await lock.release();
    expect(lines.at(-1)).toMatch(/^could not release the deploy lock s3:\/\/site\/app\/\.deploy-static\/lock\.json: .*; it is taken over once stale \(5 min\)$/);
    expect(lock.held).toBe(false);
  });
});

describe('withDeployLock', () => {
  let bucket: ReturnType<typeof conditionalS3>;
  beforeEach(() => {
    s3.restore();
    bucket = conditionalS3();
  });
  afterEach(() => bucket.mock.restore());
  const deps = (lines: string[], locks: DeployLock[] = []) => ({ s3: bucket.client, now: () => 0, sleep: async () => {}, runId: 'run-2', locks, reporter: { info: (l: string) => void lines.push(l) } });
  const where = { bucket: 'site', prefix: 'app/', label: 's3://site/app/' };

  it.each([
    ['the record unchanged while waiting', '"a"', false],
    ['the record rewritten while waiting', '"b"', true],
  ])('%s: recordChanged is %s, and the lock is released after', async (_label, after, changed) => {
    const lines: string[] = [];
    const store = { etag: '"a"' as string | undefined, refresh: async () => void (store.etag = after) };
    const locks: DeployLock[] = [];
    const seen = await withDeployLock(where, store, 0, deps(lines, locks), async (lock, recordChanged) => {
      expect(lock.held).toBe(true);
      return recordChanged;
    });
    expect(seen).toBe(changed);
    expect(locks).toHaveLength(1);
    expect(locks[0]!.held).toBe(false);
    expect(bucket.objects.size).toBe(0);
    expect(lines.includes('the deploy record of s3://site/app/ changed while this run waited; planning again')).toBe(changed);
  });

  it('releases the lock when the run fails', async () => {
    const store = { etag: undefined, refresh: async () => {} };
    await expect(withDeployLock(where, store, 0, deps([]), async () => Promise.reject(new Error('upload failed')))).rejects.toThrow('upload failed');
    expect(bucket.objects.size).toBe(0);
  });
});

describe('deploy lock: what is read back and written', () => {
  const KEY = 'app/.deploy-static/lock.json';
  let bucket: ReturnType<typeof conditionalS3>;
  beforeEach(() => {
    s3.restore();
    bucket = conditionalS3();
  });
  afterEach(() => {
    vi.useRealTimers();
    bucket.mock.restore();
  });
  const deps = (clock: { t: number }, lines: string[]) => ({ s3: bucket.client, now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms), log: (l: string) => lines.push(l) });
  const newLock = (clock: { t: number }, lines: string[]) => new DeployLock(deps(clock, lines), 'site', 'app/', 'run-2', '');
  const conflict = () => new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'pre-conditions' });

  it.each([
    ['an owner without a heartbeat', { owner: 'run-1', where: '', acquiredAt: '' }],
    ['a heartbeat without an owner', { heartbeatAt: new Date(0).toISOString() }],
  ])('a lock body with %s is unreadable', async (_label, body) => {
    const clock = { t: 1_000_000 };
    bucket.others.put(KEY, JSON.stringify(body));
    bucket.mock.on(GetObjectCommand).callsFake(() => ({ ETag: bucket.objects.get(KEY)!.etag, LastModified: new Date(clock.t - 2000), Body: { transformToString: async () => JSON.stringify(body) } }));
    await expect(newLock(clock, []).acquire(0)).rejects.toThrow(/an unknown run \(unreadable lock\) holds .*heartbeat 2 s ago/);
  });

  it('an unreadable lock without LastModified or body is taken over as stale', async () => {
    const clock = { t: 1_000_000 };
    bucket.others.put(KEY, 'x');
    bucket.mock.on(GetObjectCommand).callsFake(() => ({ ETag: bucket.objects.get(KEY)!.etag }));
    const lines: string[] = [];
    const lock = newLock(clock, lines);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
    expect(lines[0]).toBe('deploy lock s3://site/app/.deploy-static/lock.json taken over from an unknown run (unreadable lock): its last heartbeat was 1000 s ago (stale after 300 s)');
  });

  it('a takeover refused for another reason than a conflict is passed on', async () => {
    const clock = { t: 10 * STALE_MS };
    bucket.others.put(KEY, JSON.stringify({ owner: 'run-1', where: '', acquiredAt: '', heartbeatAt: new Date(0).toISOString() }));
    bucket.mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(conflict());
    bucket.mock.on(PutObjectCommand, { IfMatch: '"v1"' }).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));
    await expect(newLock(clock, []).acquire(60_000)).rejects.toThrow('Access Denied');
  });

  it('a lock released between the refused create and the read: the create is tried again', async () => {
    bucket.others.put(KEY, JSON.stringify({ owner: 'run-1', where: '', acquiredAt: '', heartbeatAt: new Date(0).toISOString() }));
    // The holder releases its lock after our create was refused and before we read it.
    bucket.mock.on(GetObjectCommand).callsFake(() => {
      bucket.objects.delete(KEY);
      throw new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    });
    const lines: string[] = [];
    const lock = newLock({ t: 0 }, lines);
    await lock.acquire(0);
    expect(lock.held).toBe(true);
    expect(bucket.mock.commandCalls(PutObjectCommand)).toHaveLength(2);
    expect(lines).toEqual(['deploy lock s3://site/app/.deploy-static/lock.json acquired by run-2']);
  });

  it('a read error other than a missing lock is passed on', async () => {
    bucket.mock.on(PutObjectCommand).rejects(conflict());
    bucket.mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));
    await expect(newLock({ t: 0 }, []).acquire(60_000)).rejects.toThrow('Access Denied');
  });

  it('a lock of the same owner name from an earlier attempt (another acquiredAt) is not adopted', async () => {
    const clock = { t: 1_000_000 };
    bucket.others.put(KEY, JSON.stringify({ owner: 'run-2', where: '', acquiredAt: new Date(clock.t - 60_000).toISOString(), heartbeatAt: new Date(clock.t - 2000).toISOString() }));
    await expect(newLock(clock, []).acquire(0)).rejects.toThrow(/run-2 \(\) holds .*heartbeat 2 s ago/);
  });

  it('adopting its own lock logs the acquisition', async () => {
    const clock = { t: 1_000_000 };
    const lines: string[] = [];
    bucket.mock.on(PutObjectCommand).callsFake(() => {
      // The create lands; its answer is lost and the SDK's retry gets 412.
      bucket.others.put(KEY, JSON.stringify({ owner: 'run-2', where: '', acquiredAt: new Date(clock.t).toISOString(), heartbeatAt: new Date(clock.t).toISOString() }));
      throw conflict();
    });
    const lock = newLock(clock, lines);
    await lock.acquire(0);
    expect(lines).toEqual(['deploy lock s3://site/app/.deploy-static/lock.json acquired by run-2']);
  });

  it('the lock is JSON that no cache keeps; a heartbeat keeps acquiredAt and moves heartbeatAt', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lock = new DeployLock({ s3: bucket.client, now: () => Date.now(), sleep: async () => {}, log: () => {} }, 'site', 'app/', 'run-2', 'here');
    await lock.acquire(0);
    expect(bucket.mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'site', Key: KEY, ContentType: 'application/json', CacheControl: 'no-cache' });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(JSON.parse(bucket.objects.get(KEY)!.body)).toEqual({ owner: 'run-2', where: 'here', acquiredAt: new Date(1_000_000).toISOString(), heartbeatAt: new Date(1_000_000 + HEARTBEAT_MS).toISOString() });
    await lock.release();
  });

  it('a heartbeat answered NoSuchKey (the lock deleted by hand) is a lost lock', async () => {
    vi.useFakeTimers();
    const lock = new DeployLock({ s3: bucket.client, now: () => Date.now(), sleep: async () => {}, log: () => {} }, 'site', 'app/', 'run-2', '');
    await lock.acquire(0);
    bucket.mock.on(PutObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(lock.lostReason).toMatch(/was taken over by another run/);
    expect(lock.held).toBe(false);
  });

  it('withDeployLock logs through the reporter and writes where the run is; locks is optional', async () => {
    const lines: string[] = [];
    let body = '';
    await withDeployLock({ bucket: 'site', prefix: 'app/', label: 'x' }, { etag: undefined, refresh: async () => {} }, 0, { s3: bucket.client, now: () => 0, sleep: async () => {}, runId: 'run-2', where: 'https://ci/run/8', reporter: { info: (l) => void lines.push(l) } }, async () => {
      body = bucket.objects.get(KEY)!.body;
    });
    expect(JSON.parse(body).where).toBe('https://ci/run/8');
    expect(lines).toEqual(['deploy lock s3://site/app/.deploy-static/lock.json acquired by run-2', 'deploy lock s3://site/app/.deploy-static/lock.json released']);
    await withDeployLock({ bucket: 'site', prefix: 'app/', label: 'x' }, { etag: undefined, refresh: async () => {} }, 0, { s3: bucket.client, now: () => 0, sleep: async () => {}, runId: 'run-2', reporter: { info: () => {} } }, async () => {
      body = bucket.objects.get(KEY)!.body;
    });
    expect(JSON.parse(body).where).toBe('');
  });
});
