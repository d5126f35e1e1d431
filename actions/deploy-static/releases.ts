import type { S3Client } from '@aws-sdk/client-s3';
import { copyObject } from './copy.js';
import { code, markdownTable } from '../../lib/markdown.js';
import { mapLimit } from '../../lib/pool.js';
import type { Manifest, Release, ReleaseFile, ReleaseRef } from './record.js';
import type { RecordStore } from './record-store.js';
import { deleteKeys } from './s3.js';
import { DEFAULT_KEEP_RELEASES } from './inputs.js';
import { copySource, needsSnapshot, snapshotKeys, staleSnapshots } from './snapshots.js';
import { releasesFolder, snapshotKey, stateRel } from './state.js';

/**
 * Releases. Every deploy that changes the site is a release: the record
 * lists every key it left live (ETag, MD5, header hash). Files a later build
 * overwrites in place (entry files and any other name without a fingerprint)
 * are kept as server-side copies under `releases/<id>/` of the state location;
 * fingerprinted assets are never overwritten by another build (a new content
 * is a new name), so keeping them live while a kept release references them
 * is enough. A rollback copies the snapshots back with CopyObject and uploads
 * no asset byte. Nothing here uses object versions, so it works with bucket
 * versioning on or off.
 *
 * When the copies are made:
 * - the first release of a prefix is not copied at all (a cold deploy pays no
 *   CopyObject per file): its files are still live. The first later write
 *   that would overwrite or delete one copies it aside first (`planPreserve`);
 * - every later release copies its changed files right after it is live, so a
 *   rollback from it, the emergency path, has nothing to copy aside and only
 *   restores.
 */

export interface Who {
  commit: string;
  actor?: string;
  runId?: string;
}

/** `<short sha>-<UTC time>`, e.g. `0123456-20261127T151305Z`: sortable and readable. */
export function releaseIdFor(commit: string, at: Date): string {
  const time = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${(commit || 'local').slice(0, 7)}-${time}`;
}

/** The same commit deployed twice in one second still gets a unique id. */
export function uniqueId(id: string, releases: readonly Release[]): string {
  let out = id;
  for (let n = 2; releases.some((r) => r.id === out); n++) out = `${id}-${n}`;
  return out;
}

/**
 * How many releases to keep: the input when given (it then replaces the
 * stored value), else the value stored with the history, else 5. A rollback
 * run without the input must not prune a history someone kept at 10.
 */
export function keepOf(inputs: { keepReleases?: number | undefined }, m: Manifest | undefined): number {
  return inputs.keepReleases ?? m?.keepReleases ?? DEFAULT_KEEP_RELEASES;
}

/**
 * Rels that must stay live though the current build does not have them:
 * fingerprinted assets of the releases still kept after this run records one
 * more (so a tab open on an older release keeps working, and a rollback has
 * them). `extra` adds a release being restored.
 */
export function protectedRels(m: Manifest | undefined, keep: number, extra?: Release): Set<string> {
  const older = keep > 1 ? (m?.releases ?? []).slice(-(keep - 1)) : [];
  const out = new Set<string>();
  for (const r of [...older, ...(extra ? [extra] : [])]) for (const rel of Object.keys(r.files)) if (!needsSnapshot(rel)) out.add(rel);
  return out;
}

/**
 * Splits planned deletes (site keys) into those that can go now and those a
 * release still in the record needs live (its assets, or a file it has no
 * snapshot of). The latter belong to releases this run prunes (the kept ones
 * protect theirs): they are deleted only after the record without those
 * releases is written (recordRelease `afterRecord`), so every release the
 * record names can be restored at every moment. A crash in between leaves
 * them live and `pending` in the record: owned, so the next run deletes them.
 */
export function splitDeletes(m: Manifest | undefined, keys: readonly string[], prefix: string): { now: string[]; afterRecord: string[] } {
  const needed = new Set<string>();
  for (const r of m?.releases ?? []) for (const [rel, f] of Object.entries(r.files)) if (!f.snap) needed.add(rel);
  const out = { now: [] as string[], afterRecord: [] as string[] };
  for (const k of keys) (needed.has(k.slice(prefix.length)) ? out.afterRecord : out.now).push(k);
  return out;
}

export interface RecordReleaseOptions {
  /** The record as the run leaves it, written together with the release; default: the record as last read or written. */
  base?: Manifest;
  id: string;
  keep: number;
  who: Who;
  now: Date;
  kind: Release['kind'];
  /** The release restored (rollback): its snapshots are reused, nothing is copied. */
  restored?: Release;
  /** Content-Type / Cache-Control per rel, for the record's readers. */
  describe?: ReadonlyMap<string, { type?: string; cache?: string }>;
  /** Site keys deleted once the record no longer lists a release that needs them (splitDeletes); `pending` in `base`. */
  afterRecord?: readonly string[];
  concurrency: number;
  log: (line: string) => void;
}

export interface RecordedRelease {
  release: Release;
  previous?: string;
  pruned: string[];
  snapshots: number;
}

/**
 * Records what is live now (the record's entries, just written by the apply)
 * as a new release: snapshot copies of the files that need one (reused from
 * the previous release when the object did not change), then the record with
 * the last `keep` releases, then deletes snapshot copies no kept release uses.
 * Runs under the deploy lock, after the site is live.
 */
export async function recordRelease(s3: S3Client, store: RecordStore, opts: RecordReleaseOptions): Promise<RecordedRelease | undefined> {
  const parsed = opts.base ? { ok: true as const, manifest: opts.base } : store.parsed();
  if (!parsed?.ok) return undefined;
  const m = parsed.manifest;
  const releases = m.releases ?? [];
  const previous = releases.at(-1);
  const basis = opts.restored ?? previous;
  const id = uniqueId(opts.id, releases);
  const files: Record<string, ReleaseFile> = {};
  const copies: string[] = [];
  // The first release is not copied (see the top of this file); nor is anything when no other release is kept.
  const copyChanged = previous !== undefined && opts.keep > 1;
  for (const rel of Object.keys(m.entries).sort()) {
    const e = m.entries[rel]!;
    const d = opts.describe?.get(rel) ?? basis?.files[rel];
    const f: ReleaseFile = {
      etag: e.etag,
      md5: e.md5,
      headers: e.headers,
      ...(d?.type ? { type: d.type } : {}),
      ...(d?.cache ? { cache: d.cache } : {}),
    };
    if (needsSnapshot(rel)) {
      const b = basis?.files[rel];
      if (b && b.etag === e.etag && b.headers === e.headers) {
        // Unchanged: its snapshot, or none yet (still live; copied aside before an overwrite).
        if (b.snap) f.snap = b.snap;
      } else if (copyChanged) {
        f.snap = id;
        copies.push(rel);
      }
    }
    files[rel] = f;
  }
  const { bucket, prefix } = store.site;
  const { state } = store;
  // MetadataDirective COPY keeps Content-Type, Cache-Control and metadata: the snapshot restores them too.
  await mapLimit(copies, opts.concurrency, async (rel) => {
    await copyObject(s3, {
      Bucket: state.bucket,
      Key: snapshotKey(state, id, rel),
      CopySource: copySource(bucket, prefix + rel),
      MetadataDirective: 'COPY',
    });
  });
  if (copies.length > 0)
    opts.log(`release ${id}: ${copies.length} entry files copied to s3://${state.bucket}/${releasesFolder(state)}${id}/ (server-side)`);
  const release: Release = {
    id,
    commit: opts.who.commit,
    at: opts.now.toISOString(),
    ...(opts.who.actor ? { actor: opts.who.actor } : {}),
    ...(opts.who.runId ? { runId: opts.who.runId } : {}),
    kind: opts.kind,
    ...(opts.restored ? { restored: opts.restored.id } : {}),
    files,
  };
  const kept = [...releases, release].slice(-Math.max(1, opts.keep));
  const pruned = releases.filter((r) => !kept.includes(r)).map((r) => r.id);
  const written: Manifest = { ...m, releases: kept, keepReleases: Math.max(1, opts.keep) };
  // Snapshot folders no kept release points at (pruned releases, or a run that failed before its record).
  // Looked at only when something may have become stale: a rollback inside keep-releases copies and prunes nothing.
  // Listed while the record is written (a read, under the lock; what is stale depends only on `kept`), deleted after it.
  const listing = copies.length + pruned.length === 0 ? Promise.resolve([]) : staleSnapshots(s3, state, snapshotKeys(kept, state));
  listing.catch(() => undefined);
  await store.write(written);
  const later = opts.afterRecord ?? [];
  if (later.length > 0) {
    await deleteKeys(s3, bucket, prefix, later);
    opts.log(
      `deleted ${later.length} objects only the pruned releases (${pruned.join(', ')}) used, now that the record no longer lists them`,
    );
    const done = new Set(later.map((k) => k.slice(prefix.length)));
    const { pending, ...rest } = written;
    const left = (pending ?? []).filter((rel) => !done.has(rel));
    await store.write({ ...rest, ...(left.length > 0 ? { pending: left } : {}) });
  }
  const stale = await listing;
  if (stale.length > 0) {
    await deleteKeys(s3, state.bucket, releasesFolder(state), stale);
    opts.log(`pruned ${stale.length} snapshot copies of releases older than keep-releases (${pruned.join(', ') || 'none recorded'})`);
  }
  return { release, ...(previous ? { previous: previous.id } : {}), pruned, snapshots: copies.length };
}

/**
 * The site listing leaves out the state folder when it is under the prefix and
 * the record says it is large (s3.ts listRemote); state kept elsewhere is not
 * in the site listing at all. The keys the record's head names are where the
 * listing can be cut into ranges listed side by side.
 */
export function bookkeeping(store: Pick<RecordStore, 'releaseList' | 'site' | 'state' | 'parsedHead'>): {
  skip?: string;
  skipSize: number;
  known: string[];
} {
  const head = store.parsedHead();
  const known = head?.ok ? Object.keys(head.head.entries).map((rel) => store.site.prefix + rel) : [];
  const skip = stateRel({ ...store.site, state: store.state });
  if (skip === undefined) return { skipSize: 0, known };
  // Snapshot copies (an upper bound: releases share unchanged ones) and one file list per release.
  return { skip, skipSize: store.releaseList().reduce((n, r) => n + r.files.snapshots + 1, 0), known };
}

/** The release list for the step summary, newest first. */
export function releasesMarkdown(where: string, releases: readonly ReleaseRef[], current?: string): string {
  if (releases.length === 0) return '';
  const rows = [...releases]
    .reverse()
    .map((r) => [
      r.id === current ? `**${code(r.id)}** (live)` : code(r.id),
      r.commit ? code(r.commit.slice(0, 12)) : '—',
      r.at,
      r.files.count,
      `${r.actor ?? '—'}${r.runId ? ` (run ${r.runId})` : ''}`,
      r.kind === 'rollback' ? `rollback to ${code(r.restored ?? '?')}` : 'deploy',
    ]);
  const table = markdownTable(['release', 'commit', 'time (UTC)', 'files', 'triggered by', 'kind'], rows);
  return `\n**Releases of ${where}** (kept: ${releases.length})\n\n${table}\n`;
}
