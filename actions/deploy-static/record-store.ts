import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ActionError } from '../../lib/errors.js';
import { mapLimit } from '../../lib/pool.js';
import { bodyText, contentMd5, isNotFound, statusOf } from './answers.js';
import {
  filesBody,
  parseFiles,
  parseHead,
  RECORD_VERSION,
  snapCount,
  withFiles,
  type Manifest,
  type ParsedHead,
  type ParsedRecord,
  type RecordHead,
  type ReleaseRef,
  type ReleaseFile,
} from './record.js';
import { deleteKeys } from './s3.js';
import { filesKey, recordFilesFolder, recordKey, stateOf, type Located, type StateLocation } from './state.js';

/** File lists fetched or written at once (there are keep-releases of them, ≤ 100). */
const FILES_CONCURRENCY = 8;

/**
 * The record of one target (layout in record.ts): the head, with the ETag
 * every write is conditioned on, and the release file lists read so far.
 */
export class RecordStore {
  /** ETag of the head as we last read or wrote it; undefined: there is none yet. */
  etag: string | undefined;
  /** The head's text as read, until it is validated (parsedHead). */
  private raw: string | undefined;
  /**
   * The validation of the head last read or written, made once per version. A valid head's text is not
   * kept: every caller uses the parsed head, and at 100,000 files the text is 17 MB.
   */
  private head: { parsed: ParsedHead; text?: string } | undefined;
  /** Release file lists by SHA-256: read, written, or inline in a version 2 record. */
  private readonly files = new Map<string, Record<string, ReleaseFile>>();
  /** File lists S3 holds (named by a version 3 head we read, or written by us): never written again. */
  private readonly stored = new Set<string>();
  /** The SHA-256 of a file list object we already hashed: a release that did not change is not serialized again. */
  private readonly shaOf = new WeakMap<object, string>();
  /** Why a release's file list could not be read (missing, or not what its name says). */
  private filesProblem: string | undefined;
  /** The file lists being read ahead (prefetchReleases); settled, never rejected. */
  private prefetching: Promise<void> | undefined;
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

  /** The head as last read or written, validated; undefined when there is none. */
  parsedHead(): ParsedHead | undefined {
    if (this.raw !== undefined) {
      const parsed = parseHead(this.raw);
      if (parsed.ok)
        for (const [sha, files] of parsed.inline) {
          this.files.set(sha, files);
          this.shaOf.set(files, sha);
        }
      if (parsed.ok && parsed.head.version === RECORD_VERSION) for (const r of parsed.head.releases ?? []) this.stored.add(r.files.sha256);
      this.head = parsed.ok ? { parsed } : { parsed, text: this.raw };
      this.raw = undefined;
    }
    return this.head?.parsed;
  }

  /** The head as JSON: as read until validated, then serialized again from the parsed head; undefined when there is none. */
  get text(): string | undefined {
    if (this.raw !== undefined || this.head === undefined) return this.raw;
    const { parsed, text } = this.head;
    return text ?? (parsed.ok ? JSON.stringify(parsed.head) : undefined);
  }

  /** The releases the head lists, oldest first, with how many files and snapshot copies each has; empty when the head is absent or unreadable. */
  releaseList(): ReleaseRef[] {
    const h = this.parsedHead();
    return h?.ok ? (h.head.releases ?? []) : [];
  }

  /** Whether every release's file list is in memory (read(), or loadReleases() after readHead()). */
  get loaded(): boolean {
    const h = this.parsedHead();
    return !h?.ok || this.filesProblem !== undefined || (h.head.releases ?? []).every((r) => this.files.has(r.files.sha256));
  }

  /**
   * The whole record, every release with its files; undefined when there is none.
   * Not ok when the head or a release's file list is unreadable. Call read() (or
   * loadReleases()) first: the head alone does not hold the release files.
   */
  parsed(): ParsedRecord | undefined {
    const h = this.parsedHead();
    if (!h?.ok) return h;
    if (this.filesProblem) return { ok: false, problem: this.filesProblem };
    const releases = (h.head.releases ?? []).map((r) => {
      const files = this.files.get(r.files.sha256);
      if (!files) throw new Error(`internal: the file list of release ${r.id} was not read before the record was used`);
      return withFiles(r, files);
    });
    const { releases: _r, ...rest } = h.head;
    const manifest: Manifest = { ...rest, version: rest.version, entries: rest.entries };
    if (h.head.releases) manifest.releases = releases;
    return { ok: true, manifest };
  }

  /** The head and every release's file list. */
  async read(): Promise<string | undefined> {
    const text = await this.readHead();
    await this.loadReleases();
    return text;
  }

  /** The head only: enough for a run that changes nothing. */
  async readHead(): Promise<string | undefined> {
    this.filesProblem = undefined;
    let text: string | undefined;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      text = await bodyText(res.Body);
      this.etag = res.ETag;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.etag = undefined;
    }
    this.raw = text;
    this.head = undefined;
    return text;
  }

  /**
   * Reads the file lists the head names and does not have yet. One missing may
   * have been removed by a run that rewrote the head since ours was read: the
   * head is read again, and only a list still missing then is a problem.
   */
  async loadReleases(attempt = 0): Promise<void> {
    // A prefetch in flight: its lists are not asked for twice.
    await this.prefetching;
    const h = this.parsedHead();
    if (!h?.ok) return;
    const wanted = (h.head.releases ?? []).filter((r) => !this.files.has(r.files.sha256));
    let missing: string | undefined;
    await mapLimit(wanted, FILES_CONCURRENCY, async (r) => {
      const key = filesKey(this.state, r.files.sha256);
      const name = `the file list of release ${r.id}, s3://${this.bucket}/${key}`;
      let text: string | undefined;
      try {
        const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        text = (await bodyText(res.Body)) ?? '';
      } catch (err) {
        if (!isNotFound(err)) throw err;
        missing = `${name}, is missing`;
        return;
      }
      const files = parseFiles(text, r.files.sha256);
      if (!files.ok) this.filesProblem ??= `${name}: ${files.problem}`;
      else {
        this.files.set(r.files.sha256, files.files);
        this.shaOf.set(files.files, r.files.sha256);
      }
    });
    if (missing === undefined || this.filesProblem) return;
    const seen = this.etag;
    if (attempt < 2) {
      await this.readHead();
      if (this.etag !== seen) return this.loadReleases(attempt + 1);
    }
    this.filesProblem = missing;
  }

  /**
   * Starts reading the file lists the head names, for a run that is sure to
   * read them (it changes something): they arrive while the site is still
   * being listed. Only fills the cache: a list missing or unreadable here is
   * read again, and judged, by loadReleases.
   */
  prefetchReleases(): void {
    const h = this.parsedHead();
    if (!h?.ok || this.prefetching) return;
    const wanted = (h.head.releases ?? []).filter((r) => !this.files.has(r.files.sha256));
    this.prefetching = mapLimit(wanted, FILES_CONCURRENCY, async (r) => {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: filesKey(this.state, r.files.sha256) }));
      const files = parseFiles((await bodyText(res.Body)) ?? '', r.files.sha256);
      // Named by their SHA-256 (checked by parseFiles): a list read for an older head is still that list.
      if (files.ok) {
        this.files.set(r.files.sha256, files.files);
        this.shaOf.set(files.files, r.files.sha256);
      }
    }).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Reads the head again only when its ETag moved (a HEAD otherwise); release file lists it already has are not read again. */
  async refresh(): Promise<void> {
    if (this.etag === undefined) {
      await this.read();
      return;
    }
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key }));
      if (h.ETag === this.etag) return this.loadReleases();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.read();
  }

  /**
   * Writes the release file lists S3 does not hold yet (each named by its
   * SHA-256, `If-None-Match: *`: an existing one has the same bytes), then the
   * head as a compare-and-swap: `If-Match` the ETag we read, or
   * `If-None-Match: *` when there was none
   * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
   * A 412 may be S3 answering the SDK's retry of this very write, applied
   * the first time (its answer was lost): the head is read back, and when it
   * holds what we wrote the write stands. Otherwise another run wrote the
   * record since: stop rather than guess. File lists the old head named and
   * the new one does not are deleted afterwards (a purged name leaves no copy).
   */
  async write(manifest: Manifest): Promise<void> {
    this.fence?.(`writing the deploy record s3://${this.bucket}/${this.key}`);
    const before = this.parsedHead();
    const releases = (manifest.releases ?? []).map((r) => {
      let sha = this.shaOf.get(r.files);
      let body: string | undefined;
      if (sha === undefined) {
        ({ body, sha256: sha } = filesBody(r.files));
        this.shaOf.set(r.files, sha);
      }
      this.files.set(sha, r.files);
      const { files, ...meta } = r;
      return { ref: { ...meta, files: { sha256: sha, count: Object.keys(files).length, snapshots: snapCount(files) } }, body, files };
    });
    const news = [...new Map(releases.filter((r) => !this.stored.has(r.ref.files.sha256)).map((r) => [r.ref.files.sha256, r])).values()];
    await mapLimit(news, FILES_CONCURRENCY, async (r) => {
      const bytes = Buffer.from(r.body ?? filesBody(r.files).body);
      this.fence?.(`writing a release file list under s3://${this.bucket}/${recordFilesFolder(this.state)}`);
      await this.put(filesKey(this.state, r.ref.files.sha256), bytes, { IfNoneMatch: '*' }, true);
      this.stored.add(r.ref.files.sha256);
    });
    const { releases: _r, ...rest } = manifest;
    const head: RecordHead = { ...rest, version: RECORD_VERSION, ...(manifest.releases ? { releases: releases.map((r) => r.ref) } : {}) };
    const body = JSON.stringify(head);
    let etag: string | undefined;
    try {
      etag = await this.put(this.key, Buffer.from(body), this.etag ? { IfMatch: this.etag } : { IfNoneMatch: '*' }, false);
    } catch (err) {
      const status = statusOf(err);
      if (!(status === 412 || status === 409 || (status === 404 && this.etag))) throw err;
      etag = await this.readBack(body);
      if (!etag)
        throw new ActionError(
          `The deploy record s3://${this.bucket}/${this.key} was changed by someone else during this run (${status}).`,
          {
            fix:
              'Another deploy wrote to this prefix without holding the deploy lock (an older version of this action, or a stale lock taken over). ' +
              'Re-run this deploy; it re-plans from what is in the bucket now.',
          },
        );
    }
    this.etag = etag;
    this.raw = undefined;
    this.filesProblem = undefined;
    // What we wrote is typed already: no need to validate it again.
    this.head = { parsed: { ok: true, head, inline: new Map() } };
    const kept = new Set(releases.map((r) => r.ref.files.sha256));
    const gone = before?.ok && before.head.version === RECORD_VERSION ? (before.head.releases ?? []).map((r) => r.files.sha256) : [];
    const garbage = [...new Set(gone)].filter((sha) => !kept.has(sha));
    if (garbage.length > 0) {
      // The head write may have taken long (a stalled request): the lock is checked again before deleting.
      this.fence?.(`deleting file lists under s3://${this.bucket}/${recordFilesFolder(this.state)}`);
      for (const sha of garbage) this.stored.delete(sha);
      await deleteKeys(
        this.s3,
        this.bucket,
        recordFilesFolder(this.state),
        garbage.map((sha) => filesKey(this.state, sha)),
      );
    }
  }

  /** A PutObject with Content-MD5 (buckets with Object Lock require it); `exists`: a 412 means the object is there already. */
  private async put(key: string, bytes: Buffer, condition: { IfMatch?: string; IfNoneMatch?: string }, exists: boolean) {
    try {
      const res = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentMD5: contentMd5(bytes),
          ContentType: 'application/json; charset=utf-8',
          CacheControl: 'no-cache',
          ...condition,
        }),
      );
      return res.ETag;
    } catch (err) {
      if (exists && (statusOf(err) === 412 || statusOf(err) === 409)) return undefined;
      throw err;
    }
  }

  /** The head's ETag when S3 holds exactly `body` (our write landed), else undefined. */
  private async readBack(body: string): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      return (await res.Body?.transformToString()) === body ? res.ETag : undefined;
    } catch {
      return undefined;
    }
  }
}
