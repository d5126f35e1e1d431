import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeployLock } from '../../actions/deploy-static/lock.js';
import { withDeployLock } from '../../actions/deploy-static/locked-run.js';
import { RecordStore } from '../../actions/deploy-static/record-store.js';
import { conditionalS3 } from './conditional-s3.js';

const LOCK = 'app/.deploy-static/lock.json';
const HEAD = 'app/.deploy-static/manifest.json';
const record = JSON.stringify({ version: 3, entries: {} });

let bucket: ReturnType<typeof conditionalS3>;
afterEach(() => bucket.mock.restore());

function setup() {
  bucket = conditionalS3();
  const store = new RecordStore(bucket.client, { bucket: 'site', prefix: 'app/' });
  const lines: string[] = [];
  const timers: number[] = [];
  const locks: DeployLock[] = [];
  const deps = {
    s3: bucket.client,
    sleep: async () => {},
    now: () => 0,
    runId: 'run-2',
    token: 'tok',
    locks,
    timer: (ms: number) => {
      timers.push(ms);
      return () => {};
    },
    reporter: { info: (l: string) => void lines.push(l) },
  };
  return { store, lines, timers, locks, deps };
}

describe('withDeployLock', () => {
  it('runs fn holding the lock (owner, token, where), with every write fenced, then releases it and un-fences', async () => {
    const { store, lines, timers, locks, deps } = setup();
    const outer = deps.s3;
    const seen = await withDeployLock(
      { label: 's3://site/app/' },
      store,
      0,
      { ...deps, where: 'https://ci/runs/8' },
      async (lock, changed) => {
        expect(locks).toEqual([lock]);
        expect(JSON.parse(bucket.objects.get(LOCK)!.body)).toMatchObject({ owner: 'run-2', token: 'tok', where: 'https://ci/runs/8' });
        expect(store.fence).toBeTypeOf('function');
        return { changed, held: lock.held };
      },
    );
    expect(seen).toEqual({ changed: false, held: true });
    expect(bucket.objects.has(LOCK)).toBe(false);
    expect(store.fence).toBeUndefined();
    expect(deps.s3).toBe(outer);
    // The injected timer schedules the heartbeat.
    expect(timers).toEqual([30_000]);
    expect(lines).toEqual([
      'deploy lock s3://site/app/.deploy-static/lock.json acquired by run-2',
      'deploy lock s3://site/app/.deploy-static/lock.json released',
    ]);
  });

  it('the writes made through deps.s3 and the record pass the fence; once the lock is lost they stop', async () => {
    const { store, deps } = setup();
    await expect(
      withDeployLock({ label: 's3://site/app/' }, store, 0, deps, async (lock) => {
        await deps.s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/a.js', Body: 'x' }));
        lock.lostReason = 'the deploy lock was taken over by run-9';
        await expect(deps.s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'app/b.js', Body: 'x' }))).rejects.toThrow(
          /taken over by run-9/,
        );
        await store.write({ version: 3, entries: {} });
      }),
    ).rejects.toThrow(/Stopped before writing the deploy record .*taken over by run-9/);
    expect(bucket.objects.has('app/a.js')).toBe(true);
    expect(bucket.objects.has('app/b.js')).toBe(false);
    expect(bucket.objects.has(HEAD)).toBe(false);
  });

  it('reads the record again once the lock is held: a record another run rewrote meanwhile is reported', async () => {
    const { store, lines, deps } = setup();
    bucket.others.put(HEAD, record);
    await store.readHead();
    bucket.others.put(HEAD, record);
    const changed = await withDeployLock({ label: 's3://site/app/' }, store, 0, deps, async (_lock, c) => c);
    expect(changed).toBe(true);
    expect(lines).toContain('the deploy record of s3://site/app/ changed while this run waited; planning again');
  });

  it('releases the lock when fn throws, and when the lock cannot be taken nothing runs', async () => {
    const { store, deps } = setup();
    await expect(
      withDeployLock({ label: 's3://site/app/' }, store, 0, deps, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(bucket.objects.has(LOCK)).toBe(false);
    bucket.others.put(LOCK, JSON.stringify({ owner: 'run-1', where: 'w', acquiredAt: 'x', heartbeatAt: 'x' }));
    let ran = false;
    await expect(
      withDeployLock({ label: 's3://site/app/' }, store, 0, deps, async () => {
        ran = true;
      }),
    ).rejects.toThrow(/Another deploy to s3:\/\/site\/app\/ is running: run-1 \(w\)/);
    expect(ran).toBe(false);
    expect(bucket.objects.has(LOCK)).toBe(true);
  });

  it('without where, the lock body says an empty where; without a list of locks, nothing is kept for a cancel', async () => {
    const { store, deps } = setup();
    const { locks: _locks, ...withoutLocks } = deps;
    await withDeployLock({ label: 's3://site/app/' }, store, 0, withoutLocks, async () => {
      expect(JSON.parse(bucket.objects.get(LOCK)!.body).where).toBe('');
    });
  });
});
