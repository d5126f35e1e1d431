import type { ObjectCannedACL, S3Client } from '@aws-sdk/client-s3';
import { mapLimit } from '../../lib/pool.js';
import { copyObject } from './copy.js';
import type { Manifest, Release } from './record.js';
import { isEntry, isFingerprinted } from './rules.js';
import { listFolders, listRemote } from './s3.js';
import { releasesFolder, snapshotKey, stateOf, type Located, type StateLocation } from './state.js';

/**
 * Release snapshots: the server-side copies under `releases/<id>/` of the
 * target's state location (keys built in state.ts) of files a later build
 * overwrites in place (why and when they are made: releases.ts), copying live
 * files aside before an overwrite, and finding copies no kept release uses.
 */

/**
 * Files a release keeps a snapshot copy of: whatever a later build may overwrite under the same name.
 * Asked of the same names again and again (every kept release lists most of the site's files, and
 * the planner and the release both ask): the name rules are a few regular expressions and globs each,
 * so each answer is kept for the run.
 */
export function needsSnapshot(rel: string): boolean {
  let answer = snapshotAnswers.get(rel);
  if (answer === undefined) {
    answer = isEntry(rel) || !isFingerprinted(rel);
    snapshotAnswers.set(rel, answer);
  }
  return answer;
}
const snapshotAnswers = new Map<string, boolean>();

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
      `${changed.length} files of release ${[...new Set(changed.map((c) => c.release))].join(', ')} were changed outside deploy-static, so that ` +
        `release can no longer be restored as it was: ${names.slice(0, 10).join(' ')}${names.length > 10 ? ' …' : ''}`,
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
 * Snapshot copies in folders no kept release uses. One request names the
 * folders (a release id each); only the unused ones are listed, so a deploy
 * does not list every kept release's copies. A copy a failed run left inside a
 * kept release's folder stays until that release is pruned.
 */
export async function staleSnapshots(s3: S3Client, state: StateLocation, used: ReadonlySet<string>): Promise<string[]> {
  const root = releasesFolder(state);
  const usedFolders = new Set([...used].map((k) => k.slice(0, k.indexOf('/', root.length) + 1)));
  const folders = (await listFolders(s3, state.bucket, root)).filter((f) => !usedFolders.has(f));
  return (await Promise.all(folders.map((f) => listRemote(s3, state.bucket, f)))).flat().map((o) => o.key);
}

/** Every snapshot copy the releases point at. */
export function snapshotKeys(releases: readonly Release[] | undefined, state: StateLocation): Set<string> {
  return new Set(
    (releases ?? []).flatMap((r) => Object.entries(r.files).flatMap(([rel, f]) => (f.snap ? [snapshotKey(state, f.snap, rel)] : []))),
  );
}

export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export const aclParam = (acl: string | undefined) => (acl ? { ACL: acl as ObjectCannedACL } : {});
