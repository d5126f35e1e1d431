import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ActionError } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import { BOOKKEEPING_DIR } from './record.js';

/**
 * One deploy at a time per bucket prefix, with S3 conditional writes
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
 * the lock is `<prefix>.deploy-static/lock.json`, created with
 * `If-None-Match: *` (exactly one creator wins; the others get 412, or 409
 * while a racing create is in flight).
 *
 * - A second deploy WAITS for the lock (up to `lock-wait-seconds`, a progress
 *   line each poll), then fails naming the run that holds it. Waiting, not
 *   failing at once, because overlapping runs (two merges a minute apart) are
 *   the normal case and the later build should still go out; it re-plans from
 *   what the first run left, so it never deletes an asset the live HTML uses.
 * - The holder rewrites the lock every HEARTBEAT_MS (`If-Match` its own
 *   ETag). A lock whose heartbeat is older than STALE_MS belongs to a run that
 *   was killed (runner lost, SIGKILL): it is taken over with `If-Match` on the
 *   stale lock's ETag, so two waiters cannot both take it.
 * - It is released (DeleteObject `If-Match` our ETag: never someone else's
 *   lock) on success, on failure, and on cancel (SIGINT/SIGTERM, see main.ts).
 */
export const LOCK_REL = `${BOOKKEEPING_DIR}lock.json`;
export const HEARTBEAT_MS = 30_000;
export const STALE_MS = 5 * 60_000;
const POLL_MS = 5_000;

export interface LockBody {
  owner: string;
  /** Where the owner runs, for the "waiting for" line: repository and run URL. */
  where: string;
  acquiredAt: string;
  heartbeatAt: string;
}

export interface LockDeps {
  s3: S3Client;
  sleep: Sleep;
  now: Clock;
  log: (line: string) => void;
}

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const lost = (err: unknown): boolean => [404, 409, 412].includes(statusOf(err) ?? 0) || (err as { name?: string }).name === 'NoSuchKey';

function parseBody(text: string | undefined): LockBody | undefined {
  try {
    const b = JSON.parse(text ?? '') as Partial<LockBody>;
    return typeof b.owner === 'string' && typeof b.heartbeatAt === 'string' ? (b as LockBody) : undefined;
  } catch {
    return undefined;
  }
}

export class DeployLock {
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private acquiredAt = '';
  /** Set when a heartbeat finds the lock no longer ours (taken over as stale). */
  lostReason: string | undefined;

  constructor(
    private readonly deps: LockDeps,
    readonly bucket: string,
    readonly prefix: string,
    readonly owner: string,
    readonly where: string,
  ) {}

  get key(): string {
    return this.prefix + LOCK_REL;
  }

  get held(): boolean {
    return this.etag !== undefined;
  }

  private body(): Buffer {
    const now = new Date(this.deps.now()).toISOString();
    const b: LockBody = { owner: this.owner, where: this.where, acquiredAt: this.acquiredAt || now, heartbeatAt: now };
    return Buffer.from(JSON.stringify(b));
  }

  private async put(cond: { IfNoneMatch: '*' } | { IfMatch: string }): Promise<string | undefined> {
    const res = await this.deps.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: this.body(), ContentType: 'application/json', CacheControl: 'no-cache', ...cond }));
    return res.ETag;
  }

  private async current(): Promise<{ etag?: string; body?: LockBody; lastModified?: Date } | undefined> {
    try {
      const res = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      return { etag: res.ETag, body: parseBody(await res.Body?.transformToString()), lastModified: res.LastModified };
    } catch (err) {
      if (statusOf(err) === 404 || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async acquire(waitMs: number): Promise<void> {
    const label = `s3://${this.bucket}/${this.key}`;
    const deadline = this.deps.now() + waitMs;
    let lastOwner = '';
    for (;;) {
      try {
        this.acquiredAt = new Date(this.deps.now()).toISOString();
        this.etag = await this.put({ IfNoneMatch: '*' });
        this.deps.log(`deploy lock ${label} acquired by ${this.owner}`);
        this.startHeartbeat();
        return;
      } catch (err) {
        if (!lost(err)) throw err;
      }
      const cur = await this.current();
      if (!cur) continue;
      // Our own create landed but its answer was lost (the SDK retried it and got 412): it is ours.
      if (cur.etag && cur.body?.owner === this.owner && cur.body.acquiredAt === this.acquiredAt) {
        this.etag = cur.etag;
        this.deps.log(`deploy lock ${label} acquired by ${this.owner}`);
        this.startHeartbeat();
        return;
      }
      // The holder's own clock wrote heartbeatAt; an unreadable lock falls back to S3's LastModified.
      const beat = cur.body ? Date.parse(cur.body.heartbeatAt) : (cur.lastModified?.getTime() ?? 0);
      const age = this.deps.now() - beat;
      const who = cur.body ? `${cur.body.owner} (${cur.body.where})` : 'an unknown run (unreadable lock)';
      if (age > STALE_MS && cur.etag) {
        try {
          this.acquiredAt = new Date(this.deps.now()).toISOString();
          this.etag = await this.put({ IfMatch: cur.etag });
          this.deps.log(`deploy lock ${label} taken over from ${who}: its last heartbeat was ${Math.round(age / 1000)} s ago (stale after ${STALE_MS / 1000} s)`);
          this.startHeartbeat();
          return;
        } catch (err) {
          if (!lost(err)) throw err;
          continue; // another waiter took it first
        }
      }
      if (this.deps.now() >= deadline) {
        throw new ActionError(`Another deploy to s3://${this.bucket}/${this.prefix} is running: ${who} holds ${label} (heartbeat ${Math.round(age / 1000)} s ago). Waited ${Math.round(waitMs / 1000)} s.`, {
          input: 'lock-wait-seconds',
          fix: `Let that run finish and re-run this one, or raise lock-wait-seconds. A lock whose heartbeat stops for ${STALE_MS / 60_000} minutes is taken over automatically; delete ${label} by hand only if you are sure no deploy is running.`,
        });
      }
      if (who !== lastOwner) this.deps.log(`waiting for the deploy lock ${label}: held by ${who}, heartbeat ${Math.round(age / 1000)} s ago`);
      lastOwner = who;
      await this.deps.sleep(Math.min(POLL_MS, Math.max(0, deadline - this.deps.now())));
    }
  }

  private startHeartbeat(): void {
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (!this.etag) return;
    try {
      this.etag = await this.put({ IfMatch: this.etag });
    } catch (err) {
      if (lost(err)) {
        this.lostReason = `the deploy lock s3://${this.bucket}/${this.key} was taken over by another run`;
        this.stop();
        this.etag = undefined;
      }
      // Other errors: keep the lock; the next beat retries.
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes the lock only while it is still ours (If-Match our ETag); never throws. */
  async release(): Promise<void> {
    this.stop();
    const etag = this.etag;
    this.etag = undefined;
    if (!etag) return;
    try {
      await this.deps.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key, IfMatch: etag }));
      this.deps.log(`deploy lock s3://${this.bucket}/${this.key} released`);
    } catch (err) {
      this.deps.log(`could not release the deploy lock s3://${this.bucket}/${this.key}: ${(err as Error).message}; it is taken over once stale (${STALE_MS / 60_000} min)`);
    }
  }
}

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
  where: { bucket: string; prefix: string; label: string },
  store: { etag?: string; refresh(): Promise<unknown> },
  waitMs: number,
  deps: LockedRunDeps,
  fn: (lock: DeployLock, recordChanged: boolean) => Promise<T>,
): Promise<T> {
  const lock = new DeployLock({ s3: deps.s3, sleep: deps.sleep, now: deps.now, log: (l) => deps.reporter.info(l) }, where.bucket, where.prefix, deps.runId, deps.where ?? '');
  deps.locks?.push(lock);
  try {
    await lock.acquire(waitMs);
    const seen = store.etag;
    await store.refresh();
    const recordChanged = store.etag !== seen;
    if (recordChanged) deps.reporter.info(`the deploy record of ${where.label} changed while this run waited; planning again`);
    return await fn(lock, recordChanged);
  } finally {
    await lock.release();
  }
}
