import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ActionError } from '../../lib/errors.js';
import { contentMd5, statusOf } from './answers.js';
import { recordKey, releasesFolder, stateOf, type Located, type StateLocation } from './state.js';

/**
 * The deploy record: what this action wrote under a prefix, kept in
 * `manifest.json` of the target's state location (state.ts). It is the only
 * authority for three decisions:
 * - skipping a file without a HEAD: an entry is trusted only while the
 *   listing shows the same ETag AND LastModified (a console "edit metadata"
 *   keeps the ETag and changes LastModified);
 * - deleting: only keys the record owns (entries and pending) are ever
 *   deleted, unless `delete: all`;
 * - invalidating after a failure: `pending` is written before the first
 *   upload and cleared only once the invalidation exists.
 * Every write is a compare-and-swap on the record's ETag (S3 conditional
 * writes), so two runs can never silently overwrite each other's record.
 * Releases extend this record with a release list; unknown
 * top-level fields are kept on rewrite for that reason.
 */
const entrySchema = z.object({
  /** The ETag S3 returned when we last wrote (or verified) the object. */
  etag: z.string().min(1),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  /** headerHash() of the headers we set. */
  headers: z.string().min(1),
  /** LastModified as the listing showed it after our write (ISO, whole seconds). */
  lastModified: z.string().optional(),
});

/** One file of a release; `snap` names the release folder holding its snapshot copy. */
const releaseFileSchema = z.object({
  etag: z.string().min(1),
  md5: z.string(),
  headers: z.string().min(1),
  /** Content-Type and Cache-Control as set, for people reading the record. */
  type: z.string().optional(),
  cache: z.string().optional(),
  snap: z.string().optional(),
});

/** What one deploy or rollback left live. */
const releaseSchema = z.object({
  id: z.string().min(1),
  commit: z.string(),
  at: z.string(),
  actor: z.string().optional(),
  runId: z.string().optional(),
  kind: z.enum(['deploy', 'rollback']),
  /** For a rollback (or roll forward): the release it restored. */
  restored: z.string().optional(),
  files: z.record(z.string(), releaseFileSchema),
});

/** The newest record layout this code reads and writes; a newer one is never rewritten (it would lose what this code does not know). */
export const RECORD_VERSION = 2;

const recordSchema = z.looseObject({
  version: z.union([z.literal(1), z.literal(2)]),
  /** keep-releases as last given: a run without the input keeps this history length. */
  keepReleases: z.number().int().min(1).max(100).optional(),
  entries: z.record(z.string(), entrySchema),
  /** Relative paths written (or about to be) and not yet invalidated; also owned. */
  pending: z.array(z.string()).optional(),
  /** Who wrote the record last: for the log and, later, for releases. */
  run: z.object({ id: z.string(), at: z.string() }).optional(),
  /** The last keep-releases releases, oldest first. */
  releases: z.array(releaseSchema).optional(),
});

export type Release = z.infer<typeof releaseSchema>;
export type ReleaseFile = z.infer<typeof releaseFileSchema>;

export type Manifest = z.infer<typeof recordSchema>;

/** `newer`: the version of a record written by a newer deploy-static. */
export type ParsedRecord = { ok: true; manifest: Manifest } | { ok: false; problem: string; newer?: number };

/**
 * Validates a record read from S3. The record is the only list of releases
 * and of the keys this action owns: a run that ignored an unreadable one would
 * write a record of one release and prune every older snapshot, so callers
 * stop before any write instead (recordUnreadable).
 */
export function parseRecord(text: string): ParsedRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not JSON (${(err as Error).message})` };
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > RECORD_VERSION) {
    return {
      ok: false,
      problem: `written by a newer deploy-static (record version ${version}; this version reads up to ${RECORD_VERSION})`,
      newer: version,
    };
  }
  const res = recordSchema.safeParse(json);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    return { ok: false, problem: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, manifest: res.data };
}

/**
 * The error that stops a run (before any write) on a record it cannot read.
 * A newer record is never rewritten by older code, repair included.
 */
export function recordUnreadable(where: { state: StateLocation }, parsed: Extract<ParsedRecord, { ok: false }>): ActionError {
  const name = `s3://${where.state.bucket}/${recordKey(where.state)}`;
  if (parsed.newer !== undefined) {
    return new ActionError(
      `The deploy record ${name} was ${parsed.problem}. Nothing was written: rewriting it here would drop what this version does not understand.`,
      {
        fix: 'Use the newer version of deploy-static (the one that wrote this record) in this workflow; repair-record does not downgrade a record.',
      },
    );
  }
  return new ActionError(
    `The deploy record ${name} is unreadable: ${parsed.problem}. Nothing was written: the record lists the releases and the keys this action owns, and a run without it would forget that history.`,
    {
      input: 'repair-record',
      fix: `Run deploy-static once with repair-record: true (same bucket and prefix): it rebuilds the record from the live objects and the release snapshots under ${releasesFolder(where.state)}, keeps every snapshot, and says in the summary what it recovered. Or restore a good copy of ${name} (bucket versioning) and re-run.`,
    },
  );
}

/** Keys (relative to the prefix) this action has written and may delete. */
export function ownedRels(m: Manifest | undefined): Set<string> {
  // Files of recorded releases stay ours after they leave source.
  return new Set([...Object.keys(m?.entries ?? {}), ...(m?.pending ?? []), ...(m?.releases ?? []).flatMap((r) => Object.keys(r.files))]);
}

/** ISO time in whole seconds: the listing and HEAD agree on nothing finer. */
export function normalizeTime(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

/** The record of one target, with the ETag every write is conditioned on. */
export class RecordStore {
  /** ETag of the record as we last read or wrote it; undefined: there is none yet. */
  etag: string | undefined;
  text: string | undefined;
  /** The validation of `text`, made once per version: a record of 2,000 files × 5 releases is megabytes of JSON. */
  private cache: { text: string; parsed: ParsedRecord } | undefined;
  /** Set while the deploy lock is held: checked before every record write (DeployLock.fence). */
  fence: ((what: string) => void) | undefined;

  /** Where the record lives (state.ts); `site` is what it describes. */
  readonly state: StateLocation;
  readonly site: { bucket: string; prefix: string };
  readonly key: string;
  private readonly bucket: string;

  constructor(
    private readonly s3: S3Client,
    target: Located,
  ) {
    this.state = stateOf(target);
    this.site = { bucket: target.bucket, prefix: target.prefix };
    this.key = recordKey(this.state);
    this.bucket = this.state.bucket;
  }

  /** The record as last read or written, validated; undefined when there is none. */
  parsed(): ParsedRecord | undefined {
    if (this.text === undefined) return undefined;
    if (this.cache?.text !== this.text) this.cache = { text: this.text, parsed: parseRecord(this.text) };
    return this.cache.parsed;
  }

  async read(): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      this.text = await res.Body?.transformToString();
      this.etag = res.ETag;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'NoSuchKey' && name !== 'NotFound' && statusOf(err) !== 404) throw err;
      this.text = undefined;
      this.etag = undefined;
    }
    return this.text;
  }

  /** Reads the record again only when its ETag moved (a HEAD otherwise): a record with releases is megabytes. */
  async refresh(): Promise<void> {
    if (this.etag === undefined) {
      await this.read();
      return;
    }
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key }));
      if (h.ETag === this.etag) return;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'NotFound' && name !== 'NoSuchKey' && statusOf(err) !== 404) throw err;
    }
    await this.read();
  }

  /**
   * Compare-and-swap: `If-Match` the ETag we read, or `If-None-Match: *` when
   * there was none (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
   * A 412 may be S3 answering the SDK's retry of this very write, applied
   * the first time (its answer was lost): the record is read back, and when it
   * holds what we wrote the write stands. Otherwise another run wrote the
   * record since: stop rather than guess.
   */
  async write(manifest: Manifest): Promise<void> {
    this.fence?.(`writing the deploy record s3://${this.bucket}/${this.key}`);
    const body = JSON.stringify(manifest);
    const bytes = Buffer.from(body);
    const wrote = (etag: string | undefined) => {
      this.etag = etag;
      this.text = body;
      // What we wrote is typed already: no need to validate it again.
      this.cache = { text: body, parsed: { ok: true, manifest } };
    };
    try {
      const res = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: bytes,
          ContentMD5: contentMd5(bytes),
          ContentType: 'application/json; charset=utf-8',
          CacheControl: 'no-cache',
          ...(this.etag ? { IfMatch: this.etag } : { IfNoneMatch: '*' }),
        }),
      );
      wrote(res.ETag);
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 409 || (status === 404 && this.etag)) {
        const mine = await this.readBack(body);
        if (mine) return wrote(mine);
        throw new ActionError(
          `The deploy record s3://${this.bucket}/${this.key} was changed by someone else during this run (${status}).`,
          {
            fix: 'Another deploy wrote to this prefix without holding the deploy lock (an older version of this action, or a stale lock taken over). Re-run this deploy; it re-plans from what is in the bucket now.',
          },
        );
      }
      throw err;
    }
  }

  /** The record's ETag when S3 holds exactly `body` (our write landed), else undefined. */
  private async readBack(body: string): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      return (await res.Body?.transformToString()) === body ? res.ETag : undefined;
    } catch {
      return undefined;
    }
  }
}
