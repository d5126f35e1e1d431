import type { ObjectCannedACL, S3Client } from '@aws-sdk/client-s3';
import { copyObject } from './copy.js';
import { code, markdownTable } from '../../lib/markdown.js';
import { mapLimit } from '../../lib/pool.js';
import type { Manifest, Release, ReleaseFile, RecordStore } from './record.js';
import { isEntry, isFingerprinted } from './rules.js';
import { deleteKeys, listFolders, listRemote } from './s3.js';
import { DEFAULT_KEEP_RELEASES } from './inputs.js';
import { releasesFolder, snapshotKey, stateOf, stateRel, type Located, type StateLocation } from './state.js';

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

/** Files a release keeps a snapshot copy of: whatever a later build may overwrite under the same name. */
export const needsSnapshot = (rel: string): boolean => isEntry(rel) || !isFingerprinted(rel);

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

/** A live object kept releases recorded without a snapshot: copied aside before it is overwritten or deleted. */
interface Preserve {
  rel: string;
  /** The version the releases recorded; the copy is conditional on it. */
  etag: string;
  /** The release folder the copy goes to (the newest release that has it). */
  snap: string;
  releases: string[];
}

export interface PreservePlan {
  copies: Preserve[];
  /** Listed with another ETag or LastModified than the record says we wrote: changed by hand, nothing to keep. */
  changed: { rel: string; release: string }[];
}

/**
 * Pure: which of `rels` (about to be overwritten or deleted) are live in the
 * version a kept release recorded without a snapshot. `listed` is what the
 * listing shows now; an object whose ETag or LastModified differs from the
 * record was changed outside this action (a console "edit metadata" keeps the
 * ETag) and is not what the release had. Releases this run prunes (older than
 * the last keep-1) need nothing.
 */
export function planPreserve(
  m: Manifest | undefined,
  rels: Iterable<string>,
  keep: number,
  listed: (rel: string) => { etag: string; lastModified?: string } | undefined,
): PreservePlan {
  const kept = keep > 1 ? (m?.releases ?? []).slice(-(keep - 1)) : [];
  const out: PreservePlan = { copies: [], changed: [] };
  for (const rel of [...new Set(rels)].sort()) {
    const live = m?.entries[rel];
    if (!live || !needsSnapshot(rel)) continue;
    const users = kept.filter((r) => {
      const f = r.files[rel];
      return f !== undefined && !f.snap && f.etag === live.etag && f.headers === live.headers;
    });
    if (users.length === 0) continue;
    const now = listed(rel);
    const same =
      now !== undefined && now.etag.replace(/"/g, '') === live.etag && (!live.lastModified || now.lastModified === live.lastModified);
    if (same) out.copies.push({ rel, etag: live.etag, snap: users.at(-1)!.id, releases: users.map((r) => r.id) });
    else out.changed.push({ rel, release: users.at(-1)!.id });
  }
  return out;
}

/**
 * Copies each planned object to its release folder, on condition that it
 * still has the recorded ETag (another writer between our listing and this
 * copy). What changed outside this action is not kept: a rollback to that
 * release will name it. Returns the record with the snapshots set; the caller
 * writes it before its first overwrite.
 */
export async function preserveLive(
  s3: S3Client,
  where: Located,
  m: Manifest,
  plan: PreservePlan,
  concurrency: number,
  log: (line: string) => void,
  warn: (line: string) => void,
): Promise<Manifest> {
  const { bucket, prefix } = where;
  const state = stateOf(where);
  const kept = new Map<string, string>();
  const changed = [...plan.changed];
  await mapLimit(plan.copies, concurrency, async (p) => {
    try {
      await copyObject(s3, {
        Bucket: state.bucket,
        Key: snapshotKey(state, p.snap, p.rel),
        CopySource: copySource(bucket, prefix + p.rel),
        MetadataDirective: 'COPY',
        CopySourceIfMatch: `"${p.etag}"`,
      });
      kept.set(p.rel, p.snap);
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
      changed.push({ rel: p.rel, release: p.snap });
    }
  });
  if (kept.size > 0)
    log(
      `${kept.size} files of earlier releases copied aside to s3://${state.bucket}/${releasesFolder(state)} before they are overwritten (server-side)`,
    );
  if (changed.length > 0) {
    const names = changed.map((c) => c.rel).sort();
    warn(
      `${changed.length} files of release ${[...new Set(changed.map((c) => c.release))].join(', ')} were changed outside deploy-static, so that release can no longer be restored as it was: ${names.slice(0, 10).join(' ')}${names.length > 10 ? ' …' : ''}`,
    );
  }
  if (kept.size === 0) return m;
  const byRel = new Map(plan.copies.map((p) => [p.rel, p]));
  const releases = (m.releases ?? []).map((r) => {
    const files = { ...r.files };
    for (const [rel, snap] of kept) if (byRel.get(rel)!.releases.includes(r.id)) files[rel] = { ...files[rel]!, snap };
    return { ...r, files };
  });
  return { ...m, releases };
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
  // Snapshot folders no kept release points at (pruned releases, or a run that failed before its record).
  // Looked at only when something may have become stale: a rollback inside keep-releases copies and prunes nothing.
  const stale = copies.length + pruned.length === 0 ? [] : await staleSnapshots(s3, state, snapshotKeys(kept, state));
  if (stale.length > 0) {
    await deleteKeys(s3, state.bucket, releasesFolder(state), stale);
    opts.log(`pruned ${stale.length} snapshot copies of releases older than keep-releases (${pruned.join(', ') || 'none recorded'})`);
  }
  return { release, ...(previous ? { previous: previous.id } : {}), pruned, snapshots: copies.length };
}

/**
 * Snapshot copies in folders no kept release uses. One request names the
 * folders (a release id each); only the unused ones are listed, so a deploy
 * does not list every kept release's copies. A copy a failed run left inside a
 * kept release's folder stays until that release is pruned.
 */
async function staleSnapshots(s3: S3Client, state: StateLocation, used: ReadonlySet<string>): Promise<string[]> {
  const root = releasesFolder(state);
  const usedFolders = new Set([...used].map((k) => k.slice(0, k.indexOf('/', root.length) + 1)));
  const folders = (await listFolders(s3, state.bucket, root)).filter((f) => !usedFolders.has(f));
  return (await Promise.all(folders.map((f) => listRemote(s3, state.bucket, f)))).flat().map((o) => o.key);
}

/**
 * The site listing leaves out the state folder when it is under the prefix and
 * the record says it is large (s3.ts listRemote); state kept elsewhere is not
 * in the site listing at all.
 */
export function bookkeeping(store: Pick<RecordStore, 'parsed' | 'site' | 'state'>): { skip?: string; skipSize: number } {
  const skip = stateRel({ ...store.site, state: store.state });
  if (skip === undefined) return { skipSize: 0 };
  const parsed = store.parsed();
  return { skip, skipSize: parsed?.ok ? snapshotKeys(parsed.manifest.releases, store.state).size : 0 };
}

/** Every snapshot copy the releases point at. */
function snapshotKeys(releases: readonly Release[] | undefined, state: StateLocation): Set<string> {
  return new Set(
    (releases ?? []).flatMap((r) => Object.entries(r.files).flatMap(([rel, f]) => (f.snap ? [snapshotKey(state, f.snap, rel)] : []))),
  );
}

export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export const aclParam = (acl: string | undefined) => (acl ? { ACL: acl as ObjectCannedACL } : {});

/** The release list for the step summary, newest first. */
export function releasesMarkdown(where: string, releases: readonly Release[], current?: string): string {
  if (releases.length === 0) return '';
  const rows = [...releases]
    .reverse()
    .map((r) => [
      r.id === current ? `**${code(r.id)}** (live)` : code(r.id),
      r.commit ? code(r.commit.slice(0, 12)) : '—',
      r.at,
      Object.keys(r.files).length,
      `${r.actor ?? '—'}${r.runId ? ` (run ${r.runId})` : ''}`,
      r.kind === 'rollback' ? `rollback to ${code(r.restored ?? '?')}` : 'deploy',
    ]);
  return `\n**Releases of ${where}** (kept: ${releases.length})\n\n${markdownTable(['release', 'commit', 'time (UTC)', 'files', 'triggered by', 'kind'], rows)}\n`;
}
