import { ActionError } from '../../lib/errors.js';
import { ownedRels, type Manifest } from './record.js';
import { fingerprintStem, headerHash, headersFor, isEntry, type HeaderRule, type ObjectHeaders, type Preset } from './rules.js';
import type { LocalFile } from './scan.js';

/**
 * The sync plan: pure, from the local files, one ListObjectsV2 of the prefix
 * and the deploy manifest. Content is compared by MD5 (never by mtime, which
 * a fresh CI checkout always changes); headers by a hash kept in the manifest,
 * so neither needs a HEAD per file.
 */

export { type Manifest } from './record.js';

export interface RemoteObject {
  key: string;
  /** As listRemote gives it, without quotes; planTarget strips any. */
  etag: string;
  size: number;
  /** From the listing, whole seconds (normalizeTime). */
  lastModified?: string;
}

/** What a HEAD told us, for the few keys the listing and manifest cannot settle. */
export interface HeadInfo {
  md5?: string;
  /** SSE-KMS (HeadObject ServerSideEncryption): the ETag is not the MD5. */
  kms?: boolean;
  headers: string;
}

export interface DesiredFile extends LocalFile {
  key: string;
  headers: ObjectHeaders;
  headerHash: string;
  entry: boolean;
}

type Reason = 'new' | 'content' | 'headers';
interface WriteOp {
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
  /** What the listing showed for unchanged files, for the next record. */
  remoteSeen: Map<string, RemoteObject>;
  /** What the listing showed for every key this plan overwrites or deletes (a release may need it copied aside first). */
  replaced: Map<string, RemoteObject>;
  /** Keys under the prefix, not in source, that the record does not say we wrote: left alone unless `delete: all`. */
  foreign: string[];
  remoteCount: number;
}

/** `true`: delete keys this action wrote that are no longer in source; `all`: every key under the prefix not in source. */
export type DeleteMode = 'true' | 'false' | 'all';

export interface PlanOptions {
  prefix: string;
  preset: Preset;
  rules: readonly HeaderRule[];
  acl?: string;
  delete: DeleteMode;
  /** The state folder under the prefix (state.ts stateRel), undefined when the state is elsewhere: its keys are never site files. */
  stateRel: string | undefined;
  /** Remote keys matching `exclude` are neither compared nor deleted. */
  excluded: (rel: string) => boolean;
}

const stripQuotes = (etag: string): string => etag.replace(/^W\//, '').replace(/"/g, '');
/** A multipart ETag is `<md5-of-part-md5s>-<parts>`: not the content's MD5. */
const isPlainMd5 = (etag: string): boolean => /^[0-9a-f]{32}$/.test(stripQuotes(etag));

export function desiredFiles(
  local: readonly LocalFile[],
  opts: Pick<PlanOptions, 'prefix' | 'preset' | 'rules' | 'acl' | 'stateRel'>,
): DesiredFile[] {
  const shared = sharedHeaders(opts.acl);
  return local.map((f) => {
    if (opts.stateRel !== undefined && f.rel.startsWith(opts.stateRel)) {
      throw new ActionError(`'${f.rel}' is inside ${opts.stateRel}, which is reserved for the deploy manifest and lock.`, {
        input: 'source',
        fix: "Rename the file, or add it to 'exclude' (or keep the state elsewhere with state-bucket / state-prefix).",
      });
    }
    const { headers, hash } = shared(headersFor(f.rel, opts.preset, opts.rules));
    // Field by field in one order, one hidden class for every file (see scanSource); `body` only when cached.
    const file: DesiredFile =
      f.body === undefined
        ? { rel: f.rel, abs: f.abs, size: f.size, md5: f.md5, key: opts.prefix + f.rel, headers, headerHash: hash, entry: isEntry(f.rel) }
        : {
            rel: f.rel,
            abs: f.abs,
            size: f.size,
            md5: f.md5,
            body: f.body,
            key: opts.prefix + f.rel,
            headers,
            headerHash: hash,
            entry: isEntry(f.rel),
          };
    return file;
  });
}

/**
 * One frozen headers object per distinct header set of the build, keyed by its
 * hash: a site has a handful, and 100,000 files each holding their own copy
 * (with its metadata object and Content-Type string) was about 13 MB.
 */
function sharedHeaders(acl: string | undefined): (h: ObjectHeaders) => { headers: ObjectHeaders; hash: string } {
  const byHash = new Map<string, ObjectHeaders>();
  return (h) => {
    const hash = headerHash(h, acl);
    let headers = byHash.get(hash);
    if (headers === undefined) {
      headers = Object.freeze({ ...h, metadata: Object.freeze({ ...h.metadata }) });
      byHash.set(hash, headers);
    }
    return { headers, hash };
  };
}

export function planTarget(
  files: readonly DesiredFile[],
  remote: readonly RemoteObject[],
  manifest: Manifest | undefined,
  opts: PlanOptions,
  heads: ReadonlyMap<string, HeadInfo> = new Map(),
): TargetPlan {
  const byRel = new Map<string, RemoteObject>();
  for (const r of remote) {
    // ListObjectsV2 was asked for this prefix; anything else is a bug, never a key to act on.
    if (!r.key.startsWith(opts.prefix)) continue;
    const rel = r.key.slice(opts.prefix.length);
    // Folder markers (`dir/`) made by the console are left alone, as is our bookkeeping
    // (the record, and a lock another run may hold right now).
    if (rel === '' || rel.endsWith('/') || (opts.stateRel !== undefined && rel.startsWith(opts.stateRel)) || opts.excluded(rel)) continue;
    // The listing's ETags come unquoted (listRemote): no copy of 100,000 objects for it.
    const etag = stripQuotes(r.etag);
    byRel.set(rel, etag === r.etag ? r : { ...r, etag });
  }
  const plan: TargetPlan = {
    uploads: [],
    copies: [],
    deletes: [],
    unchanged: [],
    unresolved: [],
    remoteSeen: new Map(),
    replaced: new Map(),
    foreign: [],
    remoteCount: byRel.size,
  };
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
    // Trusted only while nothing touched the object since we recorded it: an
    // in-place header edit keeps the ETag but not LastModified.
    if (m && m.etag === r.etag && m.lastModified !== undefined && m.lastModified === r.lastModified) {
      remoteMd5 = m.md5;
      remoteHeaders = m.headers;
    } else if (head) {
      remoteMd5 = head.md5 ?? (isPlainMd5(r.etag) && !head.kms ? r.etag : undefined);
      remoteHeaders = head.headers;
    } else if (r.size !== f.size) {
      plan.uploads.push({ file: f, reason: 'content' });
      plan.replaced.set(f.rel, r);
      continue;
    } else {
      // Same size: the HEAD tells. An ETag that differs from the MD5 proves nothing on its own: an
      // SSE-KMS object's ETag is not its MD5 (API reference, Object), the MD5 stored with it is.
      plan.unresolved.push(f);
      plan.replaced.set(f.rel, r);
      continue;
    }
    if (remoteMd5 === f.md5 && remoteHeaders === f.headerHash) {
      plan.unchanged.push(f);
      plan.remoteSeen.set(f.rel, r);
      continue;
    }
    if (remoteMd5 !== f.md5) plan.uploads.push({ file: f, reason: 'content' });
    else plan.copies.push({ file: f, reason: 'headers' });
    // Set only for what is overwritten: adding then removing every unchanged file grew and shrank a 100,000-key map.
    plan.replaced.set(f.rel, r);
  }
  // Another application may live beside (or below) this site in the same prefix
  // (a site at the bucket root next to `admin/`): only what we wrote is ours.
  // Only the keys gone from source are sorted, and what the record owns is gathered only when there are some.
  const gone: string[] = [];
  for (const rel of byRel.keys()) if (!localRels.has(rel)) gone.push(rel);
  gone.sort();
  const owned = gone.length > 0 ? ownedRels(manifest) : new Set<string>();
  for (const rel of gone) {
    if (opts.delete === 'all' || (opts.delete === 'true' && owned.has(rel))) {
      plan.deletes.push(opts.prefix + rel);
      plan.replaced.set(rel, byRel.get(rel)!);
    } else if (opts.delete === 'true') plan.foreign.push(opts.prefix + rel);
  }
  return plan;
}

/**
 * Deletes that replace a file rather than lose one: a fingerprinted asset
 * whose new build has the same name with another hash (`index-C-HkVLXe.js` →
 * `index-BqG5W8cL.js`). An ordinary rebuild renames every asset it changed;
 * counting those as deletes pushed users to force deletes for good.
 */
function replacedDeletes(plan: Pick<TargetPlan, 'deletes' | 'uploads'>, prefix: string): Set<string> {
  const newStems = new Set<string>();
  for (const op of plan.uploads)
    if (op.reason === 'new') {
      const stem = fingerprintStem(op.file.rel);
      if (stem) newStems.add(stem);
    }
  const out = new Set<string>();
  for (const key of plan.deletes) {
    const stem = fingerprintStem(relOf(key, prefix));
    if (stem && newStems.has(stem)) out.add(key);
  }
  return out;
}

/**
 * The delete guard: a build that lost half its files (wrong folder, failed
 * step) must not take half the site down. Checked before any write. Assets
 * replaced by a new build of themselves are not losses and are not counted.
 */
export function checkDeleteGuard(
  plan: TargetPlan,
  where: string,
  opts: { maxCount: number; maxRatio: number; force: boolean; prefix?: string },
): ActionError | undefined {
  if (opts.force || plan.deletes.length === 0) return undefined;
  const replaced = replacedDeletes(plan, opts.prefix ?? '');
  const lost = plan.deletes.length - replaced.size;
  const ratio = plan.remoteCount === 0 ? 0 : lost / plan.remoteCount;
  const renamed = replaced.size > 0 ? ` (not counting ${replaced.size} renamed fingerprinted assets)` : '';
  if (lost > opts.maxCount) {
    return new ActionError(`${where}: the plan deletes ${lost} objects${renamed}, more than max-delete-count (${opts.maxCount}).`, {
      input: 'max-delete-count',
      fix: 'Check that source is the right build folder; if the deletes are intended, raise max-delete-count or set force-delete: true for this run.',
    });
  }
  if (ratio > opts.maxRatio) {
    return new ActionError(
      `${where}: the plan deletes ${lost} of ${plan.remoteCount} objects${renamed} (ratio ${ratio.toFixed(2)}), more than max-delete-ratio (${opts.maxRatio}).`,
      {
        input: 'max-delete-ratio',
        fix: 'Check that source is the right build folder; if the deletes are intended, raise max-delete-ratio or set force-delete: true for this run.',
      },
    );
  }
  return undefined;
}

/** Local rel paths of keys that were deleted, for invalidation. */
export function relOf(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}
