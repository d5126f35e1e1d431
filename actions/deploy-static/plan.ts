import { ActionError } from '../../lib/errors.js';
import { headerHash, headersFor, isEntry, type HeaderRule, type ObjectHeaders, type Preset } from './rules.js';
import type { LocalFile } from './scan.js';

/**
 * The sync plan: pure, from the local files, one ListObjectsV2 of the prefix
 * and the deploy manifest. Content is compared by MD5 (never by mtime, which
 * a fresh CI checkout always changes); headers by a hash kept in the manifest,
 * so neither needs a HEAD per file.
 */

/** Kept under the prefix, next to the site it describes; never uploaded from source, never deleted. */
export const MANIFEST_REL = '.deploy-static/manifest.json';

export interface ManifestEntry {
  /** The ETag S3 returned when we last wrote the object: the entry is trusted only while it still matches. */
  etag: string;
  md5: string;
  headers: string;
}
export interface Manifest {
  version: 1;
  entries: Record<string, ManifestEntry>;
  /**
   * Paths (relative to the prefix) written but not yet invalidated. Recorded
   * before the invalidation and cleared after it, so a run that fails between
   * upload and invalidation is completed by the re-run, which sees no change.
   */
  pending?: string[];
}

export interface RemoteObject {
  key: string;
  etag: string;
  size: number;
}

/** What a HEAD told us, for the few keys the listing and manifest cannot settle. */
export interface HeadInfo {
  md5?: string;
  headers: string;
}

export interface DesiredFile extends LocalFile {
  key: string;
  headers: ObjectHeaders;
  headerHash: string;
  entry: boolean;
}

export type Reason = 'new' | 'content' | 'headers';
export interface WriteOp {
  file: DesiredFile;
  reason: Reason;
}

export interface TargetPlan {
  uploads: WriteOp[];
  copies: WriteOp[];
  deletes: string[];
  unchanged: DesiredFile[];
  /** Keys that need a HEAD before they can be classified (multipart or out-of-band objects). */
  unresolved: DesiredFile[];
  /** ETag per rel for unchanged files, for the next manifest. */
  remoteEtags: Map<string, string>;
  remoteCount: number;
}

export interface PlanOptions {
  prefix: string;
  preset: Preset;
  rules: readonly HeaderRule[];
  acl?: string;
  delete: boolean;
  /** Remote keys matching `exclude` are neither compared nor deleted. */
  excluded: (rel: string) => boolean;
}

const stripQuotes = (etag: string): string => etag.replace(/^W\//, '').replace(/"/g, '');
/** A multipart ETag is `<md5-of-part-md5s>-<parts>`: not the content's MD5. */
export const isPlainMd5 = (etag: string): boolean => /^[0-9a-f]{32}$/.test(stripQuotes(etag));

export function desiredFiles(local: readonly LocalFile[], opts: Pick<PlanOptions, 'prefix' | 'preset' | 'rules' | 'acl'>): DesiredFile[] {
  return local.map((f) => {
    if (f.rel === MANIFEST_REL) {
      throw new ActionError(`'${f.rel}' is reserved for the deploy manifest.`, { input: 'source', fix: "Rename the file, or add it to 'exclude'." });
    }
    const headers = headersFor(f.rel, opts.preset, opts.rules);
    return { ...f, key: opts.prefix + f.rel, headers, headerHash: headerHash(headers, opts.acl), entry: isEntry(f.rel) };
  });
}

export function planTarget(files: readonly DesiredFile[], remote: readonly RemoteObject[], manifest: Manifest | undefined, opts: PlanOptions, heads: ReadonlyMap<string, HeadInfo> = new Map()): TargetPlan {
  const byRel = new Map<string, RemoteObject>();
  for (const r of remote) {
    // ListObjectsV2 was asked for this prefix; anything else is a bug, never a key to act on.
    if (!r.key.startsWith(opts.prefix)) continue;
    const rel = r.key.slice(opts.prefix.length);
    // Folder markers (`dir/`) made by the console are left alone, as is our manifest.
    if (rel === '' || rel.endsWith('/') || rel === MANIFEST_REL || opts.excluded(rel)) continue;
    byRel.set(rel, { ...r, etag: stripQuotes(r.etag) });
  }
  const plan: TargetPlan = { uploads: [], copies: [], deletes: [], unchanged: [], unresolved: [], remoteEtags: new Map(), remoteCount: byRel.size };
  const localRels = new Set<string>();
  for (const f of files) {
    localRels.add(f.rel);
    const r = byRel.get(f.rel);
    if (!r) {
      plan.uploads.push({ file: f, reason: 'new' });
      continue;
    }
    let remoteMd5: string | undefined;
    let remoteHeaders: string | undefined;
    const m = manifest?.entries[f.rel];
    const head = heads.get(f.rel);
    if (m && m.etag === r.etag) {
      remoteMd5 = m.md5;
      remoteHeaders = m.headers;
    } else if (head) {
      remoteMd5 = head.md5 ?? (isPlainMd5(r.etag) ? r.etag : undefined);
      remoteHeaders = head.headers;
    } else if (r.size !== f.size || (isPlainMd5(r.etag) && r.etag !== f.md5)) {
      plan.uploads.push({ file: f, reason: 'content' });
      continue;
    } else {
      plan.unresolved.push(f);
      continue;
    }
    if (remoteMd5 !== f.md5) plan.uploads.push({ file: f, reason: 'content' });
    else if (remoteHeaders !== f.headerHash) plan.copies.push({ file: f, reason: 'headers' });
    else {
      plan.unchanged.push(f);
      plan.remoteEtags.set(f.rel, r.etag);
    }
  }
  if (opts.delete) {
    for (const rel of byRel.keys()) if (!localRels.has(rel)) plan.deletes.push(opts.prefix + rel);
    plan.deletes.sort();
  }
  return plan;
}

/**
 * The delete guard: a build that lost half its files (wrong folder, failed
 * step) must not take half the site down. Checked before any write.
 */
export function checkDeleteGuard(plan: TargetPlan, where: string, opts: { maxCount: number; maxRatio: number; force: boolean }): ActionError | undefined {
  if (opts.force || plan.deletes.length === 0) return undefined;
  const ratio = plan.remoteCount === 0 ? 0 : plan.deletes.length / plan.remoteCount;
  if (plan.deletes.length > opts.maxCount) {
    return new ActionError(`${where}: the plan deletes ${plan.deletes.length} objects, more than max-delete-count (${opts.maxCount}).`, { input: 'max-delete-count', fix: 'Check that source is the right build folder; if the deletes are intended, raise max-delete-count or set force-delete: true for this run.' });
  }
  if (ratio > opts.maxRatio) {
    return new ActionError(`${where}: the plan deletes ${plan.deletes.length} of ${plan.remoteCount} objects (ratio ${ratio.toFixed(2)}), more than max-delete-ratio (${opts.maxRatio}).`, { input: 'max-delete-ratio', fix: 'Check that source is the right build folder; if the deletes are intended, raise max-delete-ratio or set force-delete: true for this run.' });
  }
  return undefined;
}

export function parseManifest(text: string | undefined): Manifest | undefined {
  if (!text) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    if (m?.version !== 1 || typeof m.entries !== 'object' || m.entries === null) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** Local rel paths of keys that were deleted, for invalidation. */
export function relOf(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}
