import { ActionError } from '../../lib/errors.js';
import { code } from '../../lib/markdown.js';
import type { Deps } from './deploy.js';
import type { Inputs } from './inputs.js';
import { withDeployLock } from './locked-run.js';
import { relOf, type RemoteObject } from './plan.js';
import { RECORD_VERSION, recordUnreadable, type Manifest, type Release, type ReleaseFile } from './record.js';
import { RecordStore } from './record-store.js';
import { needsSnapshot } from './snapshots.js';
import { deleteKeys, listRemote } from './s3.js';
import { filesKey, recordFilesFolder, releasesFolder, stateOf, stateRel, type Located } from './state.js';
import type { Target } from './targets.js';

/**
 * `repair-record: true`: rebuilds an unreadable deploy record from what the
 * bucket holds, so that no snapshot and no live asset is lost to it.
 * - entries: every live object under the prefix (outside the bookkeeping
 *   folder), without LastModified, so the next deploy HEADs them instead of
 *   trusting a guessed header hash;
 * - releases: one per snapshot folder under `releases/` of the state location,
 *   ordered by the time in the id, plus the live site as the newest release.
 *   An entry file a folder lacks is taken from the nearest older folder (the
 *   release reused an unchanged snapshot), else the nearest newer one (copied
 *   aside when overwritten), else the live object (never overwritten since).
 *   Which fingerprinted assets each release used cannot be told from the
 *   bucket: every live one is listed in every recovered release, so none is
 *   deleted while they are kept.
 * Commit, actor and run are not in the bucket: the commit is the id's short SHA,
 * unless the record's head was readable (only a release file list was lost):
 * then each release it names keeps them. File lists nothing names are deleted.
 * A record written by a newer version is refused (never downgraded); a
 * readable record is left as it is.
 */

export interface RepairReport {
  where: string;
  /** Undefined: the record was readable (or absent) and left alone. */
  releases?: string[];
  live?: number;
  snapshots?: number;
  /** What could not be recovered, in words. */
  lost: string[];
}

const LOST_WHO = 'commit (only the short SHA in each id), actor and run of every release';

const ID_TIME = /-(\d{8}T\d{6}Z)(?:-(\d+))?$/;

/** Sort key of a release id `<sha7>-<yyyymmddThhmmssZ>[-n]`; ids without a time sort first, by name. */
const idOrder = (id: string): string => {
  const m = ID_TIME.exec(id);
  return m ? `1${m[1]}${(m[2] ?? '1').padStart(4, '0')}` : `0${id}`;
};

const atOf = (id: string, fallback: string): string => {
  const t = ID_TIME.exec(id)?.[1];
  return t ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}.000Z` : fallback;
};

const plainMd5 = (etag: string): string => (/^[0-9a-f]{32}$/.test(etag) ? etag : '0'.repeat(32));

/** Headers of recovered files are unknown: a marker no header hash equals, so nothing is skipped on it. */
export const RECOVERED_HEADERS = 'recovered';

/**
 * Pure: the record that the site listing and the listing of the state's
 * `releases/` folder imply. `target` says where each is (state.ts).
 */
export function rebuildRecord(
  target: Located,
  site: readonly RemoteObject[],
  snapshots: readonly RemoteObject[],
  now: Date,
  keep: number | undefined,
): { manifest: Manifest; lost: string[] } {
  const live = new Map<string, RemoteObject>();
  const folders = new Map<string, Map<string, RemoteObject>>();
  const releasesAt = releasesFolder(stateOf(target));
  const skip = stateRel(target);
  const lost: string[] = [];
  for (const o of snapshots) {
    if (!o.key.startsWith(releasesAt)) continue;
    const rest = o.key.slice(releasesAt.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) continue;
    const id = rest.slice(0, slash);
    if (!folders.has(id)) folders.set(id, new Map());
    folders.get(id)!.set(rest.slice(slash + 1), { ...o, etag: o.etag.replace(/"/g, '') });
  }
  for (const o of site) {
    const rel = relOf(o.key, target.prefix);
    if (rel === '' || rel.endsWith('/') || (skip !== undefined && rel.startsWith(skip))) continue;
    live.set(rel, { ...o, etag: o.etag.replace(/"/g, '') });
  }
  const ids = [...folders.keys()].sort((a, b) => (idOrder(a) < idOrder(b) ? -1 : 1));
  const assets = [...live.keys()].filter((rel) => !needsSnapshot(rel));
  const entryRels = new Set([...live.keys(), ...[...folders.values()].flatMap((f) => [...f.keys()])].filter(needsSnapshot));
  const file = (o: RemoteObject, snap?: string): ReleaseFile => ({
    etag: o.etag,
    md5: plainMd5(o.etag),
    headers: RECOVERED_HEADERS,
    ...(snap ? { snap } : {}),
  });
  const releases: Release[] = ids.map((id, i) => {
    const files: Record<string, ReleaseFile> = {};
    for (const rel of [...entryRels].sort()) {
      const older = ids
        .slice(0, i + 1)
        .reverse()
        .find((f) => folders.get(f)!.has(rel));
      const newer = ids.slice(i + 1).find((f) => folders.get(f)!.has(rel));
      const from = older ?? newer;
      if (from) files[rel] = file(folders.get(from)!.get(rel)!, from);
      else if (live.has(rel)) files[rel] = file(live.get(rel)!);
    }
    for (const rel of assets) files[rel] = file(live.get(rel)!);
    return { id, commit: /^[0-9a-f]{7}-/.test(id) ? id.slice(0, 7) : '', at: atOf(id, now.toISOString()), kind: 'deploy', files };
  });
  if (ids.length > 0) lost.push(LOST_WHO, 'which fingerprinted assets each older release used (every live one is kept for all of them)');
  // The live site is the newest release, unless the newest folder already holds exactly it.
  const liveFiles = Object.fromEntries(
    [...live]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([rel, o]) => [rel, file(o, folders.get(ids.at(-1) ?? '')?.get(rel)?.etag === o.etag ? ids.at(-1) : undefined)]),
  );
  const newest = releases.at(-1);
  const same =
    newest &&
    JSON.stringify(Object.keys(newest.files).sort()) === JSON.stringify(Object.keys(liveFiles)) &&
    Object.entries(liveFiles).every(([rel, f]) => newest.files[rel]!.etag === f.etag);
  if (!same && live.size > 0)
    releases.push({
      id: `recovered-${now
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}`,
      commit: '',
      at: now.toISOString(),
      kind: 'deploy',
      files: liveFiles,
    });
  const entries = Object.fromEntries(
    [...live].map(([rel, o]) => [rel, { etag: o.etag, md5: plainMd5(o.etag), headers: RECOVERED_HEADERS }]),
  );
  return { manifest: { version: RECORD_VERSION, entries, releases, ...(keep !== undefined ? { keepReleases: keep } : {}) }, lost };
}

/** Repairs the record of every target whose record is unreadable, each under its deploy lock. */
export async function repairAll(inputs: Inputs, deps: Deps): Promise<RepairReport[]> {
  const out: RepairReport[] = [];
  for (const target of inputs.targets) out.push(await repairOne(target, inputs, deps));
  return out;
}

async function repairOne(target: Target, inputs: Inputs, deps: Deps): Promise<RepairReport> {
  const where = `s3://${target.bucket}/${target.prefix}`;
  const store = new RecordStore(deps.s3, target);
  await store.read();
  const first = store.parsed();
  if (first?.ok !== false) {
    deps.reporter.info(`repair-record: the deploy record of ${where} is ${first ? 'readable' : 'absent'}; left as it is`);
    return { where, lost: [] };
  }
  if (first.newer !== undefined) throw recordUnreadable(store, first);
  if (inputs.dryRun)
    throw new ActionError('repair-record: true with dry-run: true: a repair writes the record.', {
      input: 'repair-record',
      fix: 'Run the repair without dry-run.',
    });
  return deps.reporter.group(`Repair the deploy record of ${where}`, () =>
    withDeployLock({ ...target, label: where }, store, inputs.lockWaitSeconds * 1000, deps, async () => {
      // Read again under the lock: another run may have repaired it meanwhile.
      const now = store.parsed();
      if (now?.ok !== false) {
        deps.reporter.info(`the deploy record of ${where} was ${now ? 'rewritten' : 'removed'} while this run waited; left as it is`);
        return { where, lost: [] };
      }
      if (now.newer !== undefined) throw recordUnreadable(store, now);
      const [site, snapshotList, fileLists] = await Promise.all([
        listRemote(deps.s3, target.bucket, target.prefix),
        listRemote(deps.s3, store.state.bucket, releasesFolder(store.state)),
        listRemote(deps.s3, store.state.bucket, recordFilesFolder(store.state)),
      ]);
      const { manifest, lost } = rebuildRecord(target, site, snapshotList, new Date(deps.now()), inputs.keepReleases);
      // A readable head whose file list was lost still knows who made each release.
      const known = new Map(store.releaseList().map(({ files: _f, ...meta }) => [meta.id, meta]));
      if (known.size > 0) {
        manifest.releases = manifest.releases?.map((r) => ({ ...r, ...known.get(r.id), files: r.files }));
        const who = lost.indexOf(LOST_WHO);
        if (who >= 0 && manifest.releases?.every((r) => known.has(r.id) || r.id.startsWith('recovered-'))) lost.splice(who, 1);
      }
      await store.write(manifest);
      // File lists of the unreadable record: nothing names them now.
      const named = new Set(store.releaseList().map((r) => filesKey(store.state, r.files.sha256)));
      const orphans = fileLists.filter((o) => !named.has(o.key)).map((o) => o.key);
      if (orphans.length > 0) await deleteKeys(deps.s3, store.state.bucket, recordFilesFolder(store.state), orphans);
      const releases = (manifest.releases ?? []).map((r) => r.id);
      const snapshots = snapshotList.length;
      deps.reporter.info(
        `repaired ${store.key}: ${Object.keys(manifest.entries).length} live objects, ${releases.length} releases ` +
          `(${releases.join(', ')}), ${snapshots} snapshot copies kept`,
      );
      return { where, releases, live: Object.keys(manifest.entries).length, snapshots, lost };
    }),
  );
}

export function repairMarkdown(reports: readonly RepairReport[]): string {
  const done = reports.filter((r) => r.releases);
  if (done.length === 0) return '';
  const lines = ['### Deploy record repaired', ''];
  for (const r of done) {
    lines.push(
      `- ${code(r.where)}: recovered ${r.live} live objects and ${r.releases!.length} releases ` +
        `(${r.releases!.map(code).join(', ') || 'none'}); ${r.snapshots} snapshot copies kept.`,
    );
    if (r.lost.length > 0) lines.push(`  Could not recover: ${r.lost.join('; ')}.`);
  }
  return `${lines.join('\n')}\n\n`;
}
