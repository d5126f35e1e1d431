import { ActionError } from '../../lib/errors.js';
import { label } from './deploy.js';
import type { Inputs } from './inputs.js';
import type { InvalidationPlan } from './invalidation.js';
import { relOf, type RemoteObject } from './plan.js';
import { ownedRels, type Manifest, type Release } from './record.js';
import type { RecordStore } from './record-store.js';
import { keepOf, protectedRels, type RecordedRelease } from './releases.js';
import { needsSnapshot, planPreserve, type PreservePlan } from './snapshots.js';
import { snapshotKey, stateOf, stateRel } from './state.js';
import { excludeMatcher } from './scan.js';
import type { Target } from './targets.js';

/**
 * `rollback-to`: make a recorded release live again without a
 * build. Its entry files (and other non-fingerprinted files) are copied back
 * from the release's snapshot with CopyObject, headers included; its
 * fingerprinted assets are still live (kept releases protect them), so no
 * asset byte is uploaded. Whatever is live and owned but not in that release
 * is deleted (delete guard applies); changed paths are invalidated; the
 * rollback is recorded as a new release. Rolling forward is the same thing
 * with a newer id. All checks run before any write.
 */

export interface RollbackPlan {
  target: Target;
  store: RecordStore;
  manifest: Manifest;
  release: Release;
  /** Rels copied back from the release's snapshot (entry files last when applied). */
  restores: string[];
  /** Live keys the release did not have. */
  deletes: string[];
  /** Live files of kept releases without a snapshot yet, copied aside before the restore overwrites them. */
  preserve: PreservePlan;
  unchanged: number;
  remote: Map<string, RemoteObject>;
  invalidation?: InvalidationPlan;
  invalidationId?: string;
  recorded?: RecordedRelease;
}

/**
 * The releases still in effect, oldest first: a rollback to a release on the line cuts the line back to
 * it, dropping every release after it (they were rolled away from). A rollback to a release no longer on
 * the line (an id given explicitly) is a new step on it.
 */
function releaseLine(releases: readonly Release[]): Release[] {
  const line: Release[] = [];
  for (const r of releases) {
    const back = r.kind === 'rollback' && r.restored !== undefined ? line.findIndex((x) => x.id === r.restored) : -1;
    if (back >= 0) line.length = back + 1;
    else line.push(r);
  }
  return line;
}

/**
 * `previous` is the release before the live one that was not rolled away from: two rollbacks in a row
 * go back two releases, never back to the release the first one replaced.
 */
export function resolveRelease(releases: readonly Release[], wanted: string, where: string): Release {
  const known = () =>
    [...releases]
      .reverse()
      .map((r) => `${r.id} (${r.at}${r.kind === 'rollback' ? `, rollback to ${r.restored}` : ''})`)
      .join(', ');
  if (releases.length === 0)
    throw new ActionError(`${where} has no recorded releases to roll back to.`, {
      input: 'rollback-to',
      fix: 'Deploy with this version of deploy-static first: every deploy from then on is a release.',
    });
  if (wanted === 'previous') {
    const line = releaseLine(releases);
    const prev = line.at(-2);
    if (!prev && releases.length === 1)
      throw new ActionError(`${where} has only one recorded release (${releases[0]!.id}, live): there is no previous release.`, {
        input: 'rollback-to',
        fix: 'Roll back to a release id once a second deploy exists.',
      });
    if (!prev) {
      throw new ActionError(
        `${where}: every release before the live one (${line.at(-1)?.id ?? '?'}) was rolled away from, so there is no previous release. Known ` +
          `releases, newest first: ${known()}.`,
        {
          input: 'rollback-to',
          fix: 'Give the release id to restore (rolling forward to a release that was rolled away from is deliberate, so it is never picked by previous).',
        },
      );
    }
    return prev;
  }
  const hit = releases.find((r) => r.id === wanted);
  if (!hit)
    throw new ActionError(`${where}: unknown release '${wanted}'. Known releases, newest first: ${known()}.`, {
      input: 'rollback-to',
      fix: 'Use one of the ids above, or previous.',
    });
  return hit;
}

/** Pure: what restoring `release` changes, from the listing and the record. Throws (before any write) when files are missing. */
export function planRollback(
  target: Target,
  store: RecordStore,
  manifest: Manifest,
  listing: readonly RemoteObject[],
  inputs: Pick<Inputs, 'rollbackTo' | 'keepReleases' | 'delete' | 'exclude'>,
  /** The state bucket's listing of the release's snapshot folders; by default the site listing holds them (state under the prefix). */
  snapshots: readonly RemoteObject[] = listing,
): RollbackPlan {
  const release = resolveRelease(manifest.releases ?? [], inputs.rollbackTo ?? 'previous', label(target));
  const remote = new Map(listing.map((o) => [o.key, { ...o, etag: o.etag.replace(/"/g, '') }]));
  const snapshotted = new Set(snapshots.map((o) => o.key));
  const state = stateOf(target);
  const skip = stateRel(target);
  const missing: string[] = [];
  const restores: string[] = [];
  let unchanged = 0;
  for (const [rel, f] of Object.entries(release.files)) {
    const live = remote.get(target.prefix + rel);
    // Live as the release had it (the first release's files have no snapshot until something overwrites them).
    if (live?.etag === f.etag && (!f.snap || manifest.entries[rel]?.headers === f.headers)) unchanged++;
    else if (!f.snap) missing.push(target.prefix + rel);
    else if (!snapshotted.has(snapshotKey(state, f.snap, rel)))
      missing.push(`${state.bucket === target.bucket ? '' : `s3://${state.bucket}/`}${snapshotKey(state, f.snap, rel)}`);
    else restores.push(rel);
  }
  if (missing.length > 0) {
    throw new ActionError(
      `${label(target)}: release ${release.id} cannot be restored: ${missing.length} of its files are gone from the bucket: ` +
        `${missing.slice(0, 10).join(' ')}${missing.length > 10 ? ' …' : ''}. Nothing was written.`,
      {
        input: 'rollback-to',
        fix: "Its files were removed (by hand, or it is older than keep-releases). Roll back to a newer release, or deploy that commit's build with source.",
      },
    );
  }
  const keep = protectedRels(manifest, keepOf(inputs, manifest), release);
  const owned = ownedRels(manifest);
  const excluded = excludeMatcher(inputs.exclude);
  const deletes: string[] = [];
  for (const key of [...remote.keys()].sort()) {
    const rel = relOf(key, target.prefix);
    if (
      rel === '' ||
      rel.endsWith('/') ||
      (skip !== undefined && rel.startsWith(skip)) ||
      excluded(rel) ||
      release.files[rel] ||
      keep.has(rel)
    )
      continue;
    if (inputs.delete === 'all' || (inputs.delete === 'true' && owned.has(rel))) deletes.push(key);
  }
  restores.sort((a, b) => Number(isEntryFirst(a)) - Number(isEntryFirst(b)) || (a < b ? -1 : 1));
  const preserve = planPreserve(manifest, [...restores, ...deletes.map((k) => relOf(k, target.prefix))], keepOf(inputs, manifest), (rel) =>
    remote.get(target.prefix + rel),
  );
  return { target, store, manifest, release, restores, deletes, preserve, unchanged, remote };
}

// Non-entry snapshots (robots.txt, logo.svg) before HTML, as a deploy orders them.
const isEntryFirst = (rel: string): boolean => !needsSnapshot(rel) || /\.html?(\.(br|gz))?$/.test(rel);

export const changedRels = (p: RollbackPlan): string[] => [...p.restores, ...p.deletes.map((k) => relOf(k, p.target.prefix))];
