import { createHash } from 'node:crypto';
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { ActionError } from '../../lib/errors.js';
import { createInvalidation, inProgressBudget, readDistributionView } from './cloudfront.js';
import { deepLinkReason } from './distribution.js';
import { planEveryTarget, type Deps } from './deploy.js';
import type { Inputs } from './inputs.js';
import { FULL_BUDGET, planInvalidation, type InvalidationPlan } from './invalidation.js';
import { withDeployLock, type DeployLock } from './lock.js';
import { checkDeleteGuard, relOf, type RemoteObject, type TargetPlan } from './plan.js';
import { mapLimit } from '../../lib/pool.js';
import { RecordStore } from './record-store.js';
import {
  BOOKKEEPING_DIR,
  RECORD_VERSION,
  RELEASES_DIR,
  normalizeTime,
  ownedRels,
  recordUnreadable,
  type Manifest,
  type Release,
} from './record.js';
import { bookkeeping, keepOf, releaseIdFor, protectedRels, recordRelease, type RecordedRelease } from './releases.js';
import { aclParam, copySource, needsSnapshot, planPreserve, preserveLive, snapshotKey, type PreservePlan } from './snapshots.js';
import { excludeMatcher } from './scan.js';
import { SKIP_WORTH_IT, deleteKeys, listRemote } from './s3.js';
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

const label = (t: Target): string => `s3://${t.bucket}/${t.prefix}`;

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
        `${where}: every release before the live one (${line.at(-1)?.id ?? '?'}) was rolled away from, so there is no previous release. Known releases, newest first: ${known()}.`,
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
): RollbackPlan {
  const release = resolveRelease(manifest.releases ?? [], inputs.rollbackTo ?? 'previous', label(target));
  const remote = new Map(listing.map((o) => [o.key, { ...o, etag: o.etag.replace(/"/g, '') }]));
  const missing: string[] = [];
  const restores: string[] = [];
  let unchanged = 0;
  for (const [rel, f] of Object.entries(release.files)) {
    const live = remote.get(target.prefix + rel);
    // Live as the release had it (the first release's files have no snapshot until something overwrites them).
    if (live?.etag === f.etag && (!f.snap || manifest.entries[rel]?.headers === f.headers)) unchanged++;
    else if (!f.snap) missing.push(target.prefix + rel);
    else if (!remote.has(snapshotKey(target.prefix, f.snap, rel))) missing.push(snapshotKey(target.prefix, f.snap, rel));
    else restores.push(rel);
  }
  if (missing.length > 0) {
    throw new ActionError(
      `${label(target)}: release ${release.id} cannot be restored: ${missing.length} of its files are gone from the bucket: ${missing.slice(0, 10).join(' ')}${missing.length > 10 ? ' …' : ''}. Nothing was written.`,
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
    if (rel === '' || rel.endsWith('/') || rel.startsWith(BOOKKEEPING_DIR) || excluded(rel) || release.files[rel] || keep.has(rel))
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

async function readPlan(target: Target, inputs: Inputs, deps: Deps, store: RecordStore): Promise<RollbackPlan> {
  await store.read();
  const parsed = store.parsed();
  if (parsed && !parsed.ok) throw recordUnreadable(store, parsed);
  if (!parsed?.ok) {
    throw new ActionError(`${label(target)} has no deploy record: there is no release to roll back to.`, {
      input: 'rollback-to',
      fix: 'Deploy the build you want with source instead.',
    });
  }
  const wanted = resolveRelease(parsed.manifest.releases ?? [], inputs.rollbackTo ?? 'previous', label(target));
  const snaps = [...new Set(Object.values(wanted.files).flatMap((f) => (f.snap ? [f.snap] : [])))];
  // The site without the bookkeeping folder when that is large, and of the folder only the snapshots the release needs.
  const skip = bookkeeping(store);
  const site = listRemote(deps.s3, target.bucket, target.prefix, skip);
  const needed = skip.skipSize >= SKIP_WORTH_IT ? snaps : [];
  const [listing, ...folders] = await Promise.all([
    site,
    ...needed.map((snap) => listRemote(deps.s3, target.bucket, `${target.prefix}${RELEASES_DIR}${snap}/`)),
  ]);
  const plan = planRollback(target, store, parsed.manifest, [...listing, ...folders.flat()], inputs);
  const guard = checkDeleteGuard(
    { deletes: plan.deletes, uploads: [], remoteCount: Object.keys(parsed.manifest.entries).length } as unknown as TargetPlan,
    label(target),
    { maxCount: inputs.maxDeleteCount, maxRatio: inputs.maxDeleteRatio, force: inputs.forceDelete, prefix: target.prefix },
  );
  if (guard) throw guard;
  return plan;
}

/** Reads and checks every target before the first write. */
export async function planRollbackAll(inputs: Inputs, deps: Deps): Promise<RollbackPlan[]> {
  return planEveryTarget(
    inputs.targets,
    (target) => readPlan(target, inputs, deps, new RecordStore(deps.s3, target.bucket, target.prefix)),
    (plan) =>
      `roll back to ${plan.release.id} (${plan.release.commit.slice(0, 12)}, ${plan.release.at}): restore ${plan.restores.length} files from its snapshot, delete ${plan.deletes.length}, unchanged ${plan.unchanged}`,
    'Refusing to roll back: nothing was written',
    deps.reporter,
  );
}

export const changedRels = (p: RollbackPlan): string[] => [...p.restores, ...p.deletes.map((k) => relOf(k, p.target.prefix))];

/** Under the deploy lock; re-planned if the record changed while this run waited. */
export async function applyRollbackAll(plans: RollbackPlan[], inputs: Inputs, deps: Deps): Promise<void> {
  for (const [i, first] of plans.entries()) {
    const { target } = first;
    await withDeployLock(
      { ...target, label: label(target) },
      first.store,
      inputs.lockWaitSeconds * 1000,
      deps,
      async (lock, recordChanged) => {
        let plan = first;
        if (recordChanged) {
          plan = await readPlan(target, inputs, deps, first.store);
          plans[i] = plan;
        }
        await applyRollback(plan, inputs, deps, lock);
      },
    );
  }
}

async function applyRollback(p: RollbackPlan, inputs: Inputs, deps: Deps, lock: DeployLock): Promise<void> {
  const { reporter: r, s3 } = deps;
  const { target, release } = p;
  const changed = changedRels(p);
  if (p.preserve.copies.length + p.preserve.changed.length > 0) {
    p.manifest = await preserveLive(
      s3,
      target,
      p.manifest,
      p.preserve,
      inputs.concurrency,
      (l) => r.info(l),
      (w) => r.warning(w),
    );
  }
  const manifest = p.manifest;
  const recordOf = (entries: Manifest['entries'], pending: string[]): Manifest => {
    const { pending: _p, ...rest } = manifest;
    return {
      ...rest,
      entries,
      ...(pending.length > 0 ? { pending } : {}),
      version: RECORD_VERSION,
      run: { id: deps.runId, at: new Date(deps.now()).toISOString() },
    };
  };
  const write = async (entries: Manifest['entries'], pending: string[]): Promise<void> => {
    if (lock.lostReason)
      throw new ActionError(`Stopped: ${lock.lostReason}.`, { fix: 'Re-run the rollback; it re-plans from what is in the bucket now.' });
    await p.store.write(recordOf(entries, pending));
  };
  // Written before the first copy: a failed run's re-run invalidates what this one touched.
  if (changed.length > 0 || p.preserve.copies.length > 0)
    await write(manifest.entries, [...new Set([...changed, ...(manifest.pending ?? [])])]);
  const copied = new Map<string, { etag: string; lastModified?: string }>();
  if (p.restores.length > 0) {
    await r.group(`Restore ${p.restores.length} files of ${release.id} → ${label(target)} (CopyObject, no upload)`, async () => {
      const lines: string[] = [];
      const assets = p.restores.filter((rel) => !/\.html?$/.test(rel));
      const html = p.restores.filter((rel) => /\.html?$/.test(rel));
      for (const batch of [assets, html]) {
        await mapLimit(batch, inputs.concurrency, async (rel) => {
          const from = snapshotKey(target.prefix, release.files[rel]!.snap!, rel);
          const res = await s3.send(
            new CopyObjectCommand({
              Bucket: target.bucket,
              Key: target.prefix + rel,
              CopySource: copySource(target.bucket, from),
              MetadataDirective: 'COPY',
              ...aclParam(inputs.acl),
            }),
          );
          copied.set(rel, {
            etag: (res.CopyObjectResult?.ETag ?? '').replace(/"/g, ''),
            ...(res.CopyObjectResult?.LastModified ? { lastModified: normalizeTime(res.CopyObjectResult.LastModified)! } : {}),
          });
          lines.push(`COPY ${from} → ${target.prefix + rel}`);
        });
      }
      r.info(lines.join('\n'));
    });
  }
  const entries: Manifest['entries'] = {};
  for (const [rel, f] of Object.entries(release.files)) {
    const c = copied.get(rel);
    const live = p.remote.get(target.prefix + rel);
    const lastModified = c ? c.lastModified : live?.lastModified;
    entries[rel] = { etag: c?.etag || f.etag, md5: f.md5, headers: f.headers, ...(lastModified ? { lastModified } : {}) };
  }
  const willInvalidate = Boolean(target.distributionId) && inputs.invalidate !== 'none' && changed.length > 0;
  const deleteRels = p.deletes.map((k) => relOf(k, target.prefix));
  // Keys still to be deleted stay recorded (owned) until they are gone.
  const owned = {
    ...Object.fromEntries(deleteRels.filter((rel) => manifest.entries[rel]).map((rel) => [rel, manifest.entries[rel]!])),
    ...entries,
  };
  // Nothing is written between the restore and the end: the record written before the first copy
  // already lists every changed path as pending (a failed run's re-run invalidates them again) and
  // keeps the deleted keys owned; the final state is written with the release (recordRelease).
  let settled = recordOf(owned, willInvalidate ? [...new Set([...changed, ...(manifest.pending ?? [])])] : deleteRels);
  if (willInvalidate) {
    await r.group(`Invalidate ${target.distributionId}`, async () => {
      const cf = deps.cloudfront();
      const warn = (m: string) => r.warning(m);
      const budget = inputs.invalidate === 'all' ? FULL_BUDGET : await inProgressBudget(cf, target.distributionId!, warn);
      // Viewer paths follow the distribution's origin path and cache behaviours, as for a deploy.
      const view =
        inputs.invalidate === 'all'
          ? undefined
          : await readDistributionView(cf, { ...target, distributionId: target.distributionId! }, warn);
      const rels = [...new Set([...changed, ...(manifest.pending ?? [])])];
      const deepLinks = deepLinkReason(view, rels);
      const inv =
        inputs.invalidate === 'all'
          ? { paths: ['/*'] }
          : deepLinks
            ? { paths: ['/*'], note: deepLinks }
            : planInvalidation(rels, { maxPaths: inputs.invalidationMaxPaths, budget, ...(view ? { viewerPaths: view.viewerPaths } : {}) });
      p.invalidation = inv;
      if (deepLinks) r.info(deepLinks);
      r.info(`paths (${inv.paths.length}): ${inv.paths.slice(0, 20).join(' ')}${inv.paths.length > 20 ? ' …' : ''}`);
      const ref = `deploy-static-${deps.runId}-${createHash('sha256')
        .update(`${target.bucket}/${target.prefix}\n${inv.paths.join('\n')}`)
        .digest('hex')
        .slice(0, 16)}`;
      p.invalidationId = await createInvalidation(cf, target.distributionId!, inv.paths, ref, inputs.waitTimeoutSeconds * 1000, {
        sleep: deps.sleep,
        now: deps.now,
        log: (l) => r.info(l),
      });
      r.info(`invalidation ${p.invalidationId} created`);
      settled = recordOf(owned, deleteRels);
    });
  }
  if (p.deletes.length > 0) {
    await r.group(`Delete ${p.deletes.length} objects release ${release.id} did not have`, async () => {
      r.info(p.deletes.map((k) => `DELETE ${k}`).join('\n'));
      await deleteKeys(s3, target.bucket, target.prefix, p.deletes);
      settled = recordOf(entries, []);
    });
  }
  // The new release runs the restored commit's code: its id and commit say so; actor and run say who rolled back.
  if (lock.lostReason)
    throw new ActionError(`Stopped: ${lock.lostReason}.`, { fix: 'Re-run the rollback; it re-plans from what is in the bucket now.' });
  p.recorded = await recordRelease(s3, p.store, {
    base: settled,
    id: releaseIdFor(release.commit, new Date(deps.now())),
    keep: keepOf(inputs, settled),
    who: { ...(deps.who ?? {}), commit: release.commit },
    now: new Date(deps.now()),
    kind: 'rollback',
    restored: release,
    concurrency: inputs.concurrency,
    log: (l) => r.info(l),
  });
}
