import { createHash } from 'node:crypto';
import { ActionError } from '../../lib/errors.js';
import { mapLimit } from '../../lib/pool.js';
import { createInvalidation, inProgressBudget, readDistributionView } from './cloudfront.js';
import { copyObject } from './copy.js';
import { deepLinkReason } from './distribution.js';
import { label, planEveryTarget, type Deps } from './deploy.js';
import type { Inputs } from './inputs.js';
import { FULL_BUDGET, planInvalidation } from './invalidation.js';
import type { DeployLock } from './lock.js';
import { withDeployLock } from './locked-run.js';
import { checkDeleteGuard, relOf, type TargetPlan } from './plan.js';
import { RECORD_VERSION, normalizeTime, recordUnreadable, type Manifest } from './record.js';
import { RecordStore } from './record-store.js';
import { bookkeeping, keepOf, releaseIdFor, recordRelease, splitDeletes } from './releases.js';
import { aclParam, copySource, preserveLive } from './snapshots.js';
import { changedRels, planRollback, resolveRelease, type RollbackPlan } from './rollback-plan.js';
import { SKIP_WORTH_IT, deleteKeys, listRemote } from './s3.js';
import { releasesFolder, snapshotKey } from './state.js';
import type { Target } from './targets.js';

/**
 * `rollback-to`, the AWS side: read the record and listing of every target and plan them all
 * (rollback-plan.ts decides) before the first write, then, under the deploy lock, copy the
 * release's files back from its snapshot, invalidate, delete, and record the rollback as a release.
 */

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
  // The site without the state folder when that is large (or elsewhere), and of the state only the snapshots the release needs.
  const skip = bookkeeping(store);
  // The release's own keys too: its assets are in the bucket beside the live ones, and ranges cut
  // from the live keys alone would each span two builds' keys, a second page each, in a chain.
  const known = new Set([...skip.known, ...Object.keys(wanted.files).map((rel) => target.prefix + rel)]);
  const site = listRemote(deps.s3, target.bucket, target.prefix, { ...skip, known: [...known] });
  const separate = skip.skip === undefined || skip.skipSize >= SKIP_WORTH_IT;
  const [listing, ...folders] = await Promise.all([
    site,
    ...(separate ? snaps : []).map((snap) => listRemote(deps.s3, store.state.bucket, `${releasesFolder(store.state)}${snap}/`)),
  ]);
  const plan = planRollback(target, store, parsed.manifest, listing, inputs, separate ? folders.flat() : listing);
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
    (target) => readPlan(target, inputs, deps, new RecordStore(deps.s3, target)),
    (plan) =>
      `roll back to ${plan.release.id} (${plan.release.commit.slice(0, 12)}, ${plan.release.at}): restore ${plan.restores.length} ` +
      `files from its snapshot, delete ${plan.deletes.length}, unchanged ${plan.unchanged}`,
    'Refusing to roll back: nothing was written',
    deps.reporter,
  );
}

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
          const from = snapshotKey(p.store.state, release.files[rel]!.snap!, rel);
          const res = await copyObject(s3, {
            Bucket: target.bucket,
            Key: target.prefix + rel,
            CopySource: copySource(p.store.state.bucket, from),
            MetadataDirective: 'COPY',
            ...aclParam(inputs.acl),
          });
          copied.set(rel, {
            etag: res.etag.replace(/"/g, ''),
            ...(res.lastModified ? { lastModified: normalizeTime(res.lastModified)! } : {}),
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
  // What only the releases this run prunes still use goes after the record that drops them (releases.ts splitDeletes).
  const { now, afterRecord } = splitDeletes(p.manifest, p.deletes, target.prefix);
  if (p.deletes.length > 0) {
    await r.group(`Delete ${p.deletes.length} objects release ${release.id} did not have`, async () => {
      r.info(
        [
          ...now.map((k) => `DELETE ${k}`),
          ...afterRecord.map((k) => `DELETE ${k} (once the record no longer lists the release that uses it)`),
        ].join('\n'),
      );
      await deleteKeys(s3, target.bucket, target.prefix, now);
      settled = recordOf(
        entries,
        afterRecord.map((k) => relOf(k, target.prefix)),
      );
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
    afterRecord,
    concurrency: inputs.concurrency,
    log: (l) => r.info(l),
  });
}
