import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ActionError } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import { serverTimeOf } from './answers.js';
import { lockBody, lost, putLock, readLock, type LockBody, type LockVersion } from './lock-document.js';
import { fencedClient } from './lock-fence.js';
import { lockKey, stateLabel, type StateLocation } from './state.js';

/**
 * One deploy at a time per bucket prefix, with S3 conditional writes
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
 * the lock is `lock.json` in the target's state location (state.ts), created with
 * `If-None-Match: *` (exactly one creator wins; the others get 412, or 409
 * while a racing create is in flight).
 *
 * - A second deploy WAITS for the lock (up to `lock-wait-seconds`, a progress
 *   line each poll), then fails naming the run that holds it. Waiting, not
 *   failing at once, because overlapping runs (two merges a minute apart) are
 *   the normal case and the later build should still go out; it re-plans from
 *   what the first run left, so it never deletes an asset the live HTML uses.
 * - The holder rewrites the lock every HEARTBEAT_MS (`If-Match` its own
 *   ETag), one heartbeat at a time: the next is scheduled when the last has
 *   answered. A lock unchanged for STALE_MS belongs to a run that was killed
 *   or stopped: it is taken over with `If-Match` on the stale lock's ETag, so
 *   two waiters cannot both take it.
 * - Age is measured on S3's clock, never a runner's: the lock's LastModified
 *   against the `Date` of S3's answer to the create attempt, or, without one,
 *   how long this waiter has seen the same lock version unchanged (its own
 *   clock's elapsed time, which an offset clock does not distort).
 * - The holder fences itself: every write it makes while holding the lock
 *   (each upload, copy, delete batch, record write) first checks that its last
 *   confirmed heartbeat was sent less than STALE_MS / 2 ago on its own clock;
 *   else it stops without writing. A waiter takes over only after STALE_MS, so
 *   a holder that stalled (a paused runner, a lost network) has stopped
 *   writing before anyone else starts.
 * - A 412 or 404 on a heartbeat may be S3 answering the SDK's retry of a
 *   heartbeat it applied (the first answer was lost): the lock is read, and a
 *   body with our owner token is still ours.
 * - It is released (DeleteObject `If-Match` our ETag: never someone else's
 *   lock) on success, on failure, and on cancel (SIGINT/SIGTERM, see run.ts).
 */
export const HEARTBEAT_MS = 30_000;
export const STALE_MS = 5 * 60_000;
/** The holder writes nothing once its last confirmed heartbeat is older than this. */
export const FENCE_MS = STALE_MS / 2;
const POLL_MS = 5_000;

/** Runs `fn` after `ms`; returns a cancel. The default timer does not keep the process alive. */
type Timer = (ms: number, fn: () => void) => () => void;
const unrefTimer: Timer = (ms, fn) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export interface LockDeps {
  s3: S3Client;
  sleep: Sleep;
  now: Clock;
  log: (line: string) => void;
  timer?: Timer;
  token?: string;
}

export class DeployLock {
  private etag: string | undefined;
  private cancelBeat: (() => void) | undefined;
  private beating: Promise<void> | undefined;
  private acquiredAt = '';
  private readonly token: string;
  /** Own clock: when the last heartbeat (or the create) that S3 confirmed was sent. */
  private confirmedAt = 0;
  /** Set when a heartbeat finds the lock no longer ours (taken over as stale), or on cancel. */
  lostReason: string | undefined;
  /** Writes sent through `fenced` and not yet answered. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: LockDeps,
    readonly state: StateLocation,
    readonly owner: string,
    readonly where: string,
    /** What the lock guards, for messages: the site location. */
    readonly site: string = stateLabel(state),
  ) {
    this.token = deps.token ?? randomUUID();
  }

  get key(): string {
    return lockKey(this.state);
  }

  private get bucket(): string {
    return this.state.bucket;
  }

  get held(): boolean {
    return this.etag !== undefined;
  }

  /** True while this run may write: the lock is ours and its last confirmed heartbeat is recent enough. */
  get fresh(): boolean {
    return this.etag !== undefined && !this.lostReason && this.deps.now() - this.confirmedAt < FENCE_MS;
  }

  /** Throws (before a write) unless `fresh`. */
  fence(what: string): void {
    if (this.fresh) return;
    const why =
      this.lostReason ??
      (this.etag === undefined
        ? `the deploy lock s3://${this.bucket}/${this.key} is not held`
        : `no heartbeat of the deploy lock s3://${this.bucket}/${this.key} was confirmed for ` +
          `${Math.round((this.deps.now() - this.confirmedAt) / 1000)} s (limit ${FENCE_MS / 1000} s): another run may take it over`);
    throw new ActionError(`Stopped before ${what}: ${why}.`, { fix: 'Re-run the deploy; it re-plans from what is in the bucket now.' });
  }

  /**
   * The S3 client for the work done under this lock: every write (but the
   * lock's own) passes `fence` first.
   */
  fenced(s3: S3Client): S3Client {
    return fencedClient(s3, { bucket: this.bucket, key: this.key }, (what) => this.fence(what), this.inFlight);
  }

  private async put(cond: { IfNoneMatch: '*' } | { IfMatch: string }): Promise<string | undefined> {
    const body = lockBody(this.owner, this.token, this.where, this.acquiredAt, this.deps.now());
    return putLock(this.deps.s3, { bucket: this.bucket, key: this.key }, body, cond);
  }

  private current(): Promise<LockVersion | undefined> {
    return readLock(this.deps.s3, { bucket: this.bucket, key: this.key });
  }

  private ours(body: LockBody | undefined): boolean {
    return body?.owner === this.owner && body.token === this.token;
  }

  private took(etag: string | undefined, sentAt: number): void {
    this.etag = etag ?? '';
    this.confirmedAt = sentAt;
    this.lostReason = undefined;
    this.scheduleBeat();
  }

  async acquire(waitMs: number): Promise<void> {
    const label = `s3://${this.bucket}/${this.key}`;
    const deadline = this.deps.now() + waitMs;
    let lastOwner = '';
    /** The version of the lock we keep seeing, and since when (own clock). */
    let seen: { etag: string; since: number } | undefined;
    for (;;) {
      let serverNow: number | undefined;
      let sentAt = this.deps.now();
      try {
        this.acquiredAt = new Date(sentAt).toISOString();
        this.took(await this.put({ IfNoneMatch: '*' }), sentAt);
        this.deps.log(`deploy lock ${label} acquired by ${this.owner}`);
        return;
      } catch (err) {
        if (!lost(err)) throw err;
        serverNow = serverTimeOf(err);
      }
      const cur = await this.current();
      if (!cur) continue;
      // Our own create landed but its answer was lost (the SDK retried it and got 412): it is ours.
      if (cur.etag && this.ours(cur.body)) {
        this.took(cur.etag, sentAt);
        this.deps.log(`deploy lock ${label} acquired by ${this.owner}`);
        return;
      }
      const observedAt = this.deps.now();
      if (!seen || seen.etag !== cur.etag) seen = { etag: cur.etag ?? '', since: observedAt };
      // S3's clock: the answer's Date minus the lock's LastModified; never below how long we have watched it unchanged.
      const serverAge = serverNow !== undefined && cur.lastModified ? serverNow - cur.lastModified.getTime() : 0;
      const age = Math.max(serverAge, observedAt - seen.since);
      const who = cur.body ? `${cur.body.owner} (${cur.body.where})` : 'an unknown run (unreadable lock)';
      if (age > STALE_MS && cur.etag) {
        try {
          sentAt = this.deps.now();
          this.acquiredAt = new Date(sentAt).toISOString();
          this.took(await this.put({ IfMatch: cur.etag }), sentAt);
          this.deps.log(
            `deploy lock ${label} taken over from ${who}: unchanged for ${Math.round(age / 1000)} s on S3's clock (stale after ${STALE_MS / 1000} s)`,
          );
          return;
        } catch (err) {
          this.etag = undefined;
          this.stop();
          if (!lost(err)) throw err;
          // Another waiter took it first, or our takeover landed and its answer was lost: the next read tells.
          continue;
        }
      }
      if (this.deps.now() >= deadline) {
        throw new ActionError(
          `Another deploy to ${this.site} is running: ${who} holds ${label} (unchanged for ${Math.round(age / 1000)} s). Waited ` +
            `${Math.round(waitMs / 1000)} s.`,
          {
            input: 'lock-wait-seconds',
            fix:
              `Let that run finish and re-run this one, or raise lock-wait-seconds. A lock whose heartbeat stops for ${STALE_MS / 60_000} minutes ` +
              `is taken over automatically; delete ${label} by hand only if you are sure no deploy is running.`,
          },
        );
      }
      if (who !== lastOwner)
        this.deps.log(`waiting for the deploy lock ${label}: held by ${who}, unchanged for ${Math.round(age / 1000)} s`);
      lastOwner = who;
      await this.deps.sleep(Math.min(POLL_MS, Math.max(0, deadline - this.deps.now())));
    }
  }

  private scheduleBeat(): void {
    this.cancelBeat?.();
    this.cancelBeat = (this.deps.timer ?? unrefTimer)(HEARTBEAT_MS, () => {
      this.cancelBeat = undefined;
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        if (this.etag !== undefined && !this.lostReason) this.scheduleBeat();
      });
    });
  }

  private async beat(): Promise<void> {
    const etag = this.etag;
    if (!etag) return;
    const sentAt = this.deps.now();
    try {
      const next = await this.put({ IfMatch: etag });
      if (this.etag === etag) {
        this.etag = next ?? etag;
        this.confirmedAt = sentAt;
      }
    } catch (err) {
      if (!lost(err) || this.etag !== etag) return; // other errors: keep the lock; the next beat retries, the fence decides.
      // A 412/404 after a lost answer (the SDK retried a heartbeat S3 had applied): read who holds it.
      let cur: LockVersion | undefined;
      try {
        cur = await this.current();
      } catch {
        return;
      }
      if (this.etag !== etag) return;
      if (cur?.etag && this.ours(cur.body)) {
        this.etag = cur.etag;
        this.confirmedAt = sentAt;
        return;
      }
      this.lostReason = `the deploy lock s3://${this.bucket}/${this.key} was taken over by ${cur?.body ? cur.body.owner : 'another run'}`;
      this.etag = undefined;
      this.stop();
    }
  }

  private stop(): void {
    this.cancelBeat?.();
    this.cancelBeat = undefined;
  }

  /**
   * Cancel: no new write passes the fence; the lock is released once the writes
   * in flight have answered (or after `maxWaitMs`), so the next run never plans
   * against a write still landing.
   */
  async cancel(maxWaitMs: number): Promise<void> {
    this.lostReason ??= 'the workflow was cancelled';
    let timeout: (() => void) | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => (timeout = (this.deps.timer ?? unrefTimer)(maxWaitMs, resolve))),
    ]);
    timeout?.();
    await this.release();
  }

  /** Deletes the lock only while it is still ours (If-Match our ETag); waits for a heartbeat in flight; never throws. */
  async release(): Promise<void> {
    this.stop();
    if (this.beating) await this.beating;
    this.stop();
    const etag = this.etag;
    this.etag = undefined;
    if (!etag) return;
    try {
      await this.deps.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key, IfMatch: etag }));
      this.deps.log(`deploy lock s3://${this.bucket}/${this.key} released`);
    } catch (err) {
      this.deps.log(
        `could not release the deploy lock s3://${this.bucket}/${this.key}: ${(err as Error).message}; it is taken over once stale (${STALE_MS / 60_000} min)`,
      );
    }
  }
}
