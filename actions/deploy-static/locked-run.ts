import type { StateLocation } from './state.js';
import { DeployLock, type LockDeps } from './lock.js';

/**
 * Running work under the deploy lock (lock.ts is the lock's own protocol):
 * take it, read the record again, fence every write, release it whatever
 * happens.
 */

/** What `withDeployLock` needs from the action's dependencies. */
export interface LockedRunDeps extends Omit<LockDeps, 'log'> {
  runId: string;
  where?: string;
  locks?: DeployLock[];
  reporter: { info(line: string): void };
}

/**
 * Runs `fn` while holding the deploy lock of one bucket prefix. The plan was made without the
 * lock (a no-op run takes none), so once it is held the record is read again: `recordChanged`
 * tells `fn` that another run rewrote it meanwhile and the plan must be made again from the bucket.
 * The lock is released whatever `fn` does; `deps.locks` lets the cancel handler release it too.
 */
export async function withDeployLock<T>(
  where: { label: string },
  store: { state: StateLocation; etag?: string; refresh(): Promise<unknown>; fence?: ((what: string) => void) | undefined },
  waitMs: number,
  deps: LockedRunDeps,
  fn: (lock: DeployLock, recordChanged: boolean) => Promise<T>,
): Promise<T> {
  const lock = new DeployLock(
    {
      s3: deps.s3,
      sleep: deps.sleep,
      now: deps.now,
      log: (l) => deps.reporter.info(l),
      ...(deps.timer ? { timer: deps.timer } : {}),
      ...(deps.token ? { token: deps.token } : {}),
    },
    store.state,
    deps.runId,
    deps.where ?? '',
    where.label,
  );
  deps.locks?.push(lock);
  const s3 = deps.s3;
  try {
    await lock.acquire(waitMs);
    const seen = store.etag;
    await store.refresh();
    const recordChanged = store.etag !== seen;
    if (recordChanged) deps.reporter.info(`the deploy record of ${where.label} changed while this run waited; planning again`);
    // Every write made under the lock, through deps.s3 or the record, is fenced (DeployLock.fence).
    deps.s3 = lock.fenced(s3);
    store.fence = (what) => lock.fence(what);
    return await fn(lock, recordChanged);
  } finally {
    deps.s3 = s3;
    store.fence = undefined;
    await lock.release();
  }
}
