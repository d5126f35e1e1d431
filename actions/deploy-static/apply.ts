import { createHash } from 'node:crypto';
import { aggregate, ActionError } from '../../lib/errors.js';
import { createInvalidation, inProgressBudget, waitForInvalidation } from './cloudfront.js';
import { formatBytes, guardOf, label, planOne, type Deps, type TargetResult } from './deploy.js';
import { attachDistributionView, invalidationRels, plannedInvalidation } from './deploy-invalidation.js';
import type { Inputs } from './inputs.js';
import { FULL_BUDGET } from './invalidation.js';
import type { DeployLock } from './lock.js';
import { withDeployLock } from './locked-run.js';
import { relOf, type TargetPlan } from './plan.js';
import { mapLimit } from '../../lib/pool.js';
import { RECORD_VERSION, type Manifest } from './record.js';
import { bookkeeping, keepOf, recordRelease, splitDeletes } from './releases.js';
import { planPreserve, preserveLive } from './snapshots.js';
import { copyMetadata, deleteKeys, listRemote, uploadFile } from './s3.js';
import { headsCheaper, nextEntries, observe, observeOne, type ObservedObject } from './entries.js';

/**
 * Applying a deploy plan (deploy.ts makes it): under the deploy lock, the
 * writes in the order that keeps the live site whole, the record, and the
 * release.
 */

/** Does applying this target write anything (objects, invalidation, or the record)? */
function needsWrite(res: TargetResult): boolean {
  const { plan } = res;
  if (res.unchangedByHead) return false;
  if (plan.uploads.length + plan.copies.length + plan.deletes.length > 0 || (res.manifest?.pending?.length ?? 0) > 0) return true;
  // A site deployed before releases existed gets its first release.
  if (!res.manifest?.releases?.length) return true;
  return !res.manifest || JSON.stringify(res.manifest.entries) !== JSON.stringify(nextEntries(res, new Map()));
}

/**
 * Applies every target, one lock at a time. The plan was made without the
 * lock (a no-op run takes none); once the lock is held, the record is read
 * again and, if another run changed it meanwhile, the target is re-planned
 * (and re-guarded) from what is in the bucket now.
 */
export async function applyAll(results: TargetResult[], inputs: Inputs, deps: Deps): Promise<void> {
  for (const [i, res] of results.entries()) {
    if (!needsWrite(res)) continue;
    const { target } = res;
    await withDeployLock(
      { ...target, label: label(target) },
      res.store,
      inputs.lockWaitSeconds * 1000,
      deps,
      async (lock, recordChanged) => {
        let current = res;
        if (recordChanged) {
          current = await planOne(
            target,
            res.files,
            res.store,
            await listRemote(deps.s3, target.bucket, target.prefix, bookkeeping(res.store)),
            inputs,
            deps,
          );
          const guard = guardOf(current, inputs);
          if (guard) throw aggregate('Refusing to deploy: the delete guard stopped the run before any write', [guard]);
          results[i] = current;
        }
        const { settled, afterRecord } = await applyTarget(current, inputs, deps, lock);
        if (lock.lostReason)
          throw new ActionError(`Stopped: ${lock.lostReason} (this run's heartbeat stalled for over 5 minutes).`, {
            fix: 'Re-run the deploy; it re-plans from what is in the bucket now.',
          });
        // The site is live; record it as a release (snapshots of changed entry files, pruning).
        current.release = await deps.reporter.group(`Release ${label(target)}`, () =>
          recordRelease(deps.s3, current.store, {
            base: settled,
            id: deps.releaseId ?? `local-${deps.runId}`,
            keep: keepOf(inputs, settled),
            who: deps.who ?? { commit: '' },
            now: new Date(deps.now()),
            kind: 'deploy',
            describe: new Map(
              current.files.map((f) => [
                f.rel,
                { type: f.headers.contentType, ...(f.headers.cacheControl ? { cache: f.headers.cacheControl } : {}) },
              ]),
            ),
            afterRecord,
            concurrency: inputs.concurrency,
            log: (l) => deps.reporter.info(l),
          }),
        );
      },
    );
  }
}

/**
 * The write order that keeps the old site whole at every moment: assets
 * (nothing references them yet), then entry files (HTML now points at assets
 * that exist), then the invalidation, then deletes (old HTML still cached at
 * the edge keeps its assets until it is invalidated). The record is written
 * before the first upload with every path about to change as `pending`, so
 * a run that fails (or is cancelled) anywhere after that leaves a record from
 * which the re-run invalidates what it wrote and knows those keys are ours.
 * Returns the final record, which the caller writes with the release, and
 * the deletes that wait for that record (releases.ts splitDeletes).
 */
async function applyTarget(
  res: TargetResult,
  inputs: Inputs,
  deps: Deps,
  lock?: DeployLock,
): Promise<{ settled: Manifest; afterRecord: string[] }> {
  const { reporter: r, s3 } = deps;
  const { target, plan } = res;
  const written = new Map<string, string>();
  const observedAt = new Map<string, ObservedObject>();
  const threshold = inputs.multipartThresholdMb * 1024 * 1024;
  const recordOf = (m: RecordState): Manifest => {
    // Unknown fields of a newer record (releases) are kept; ours are replaced whole.
    const { entries: _e, pending: _p, run: _r, version: _v, ...other } = res.manifest ?? ({} as Partial<Manifest>);
    return { ...other, ...m, version: RECORD_VERSION, run: { id: deps.runId, at: new Date(deps.now()).toISOString() } };
  };
  const record = async (m: RecordState): Promise<void> => {
    if (lock?.lostReason)
      throw new ActionError(`Stopped: ${lock.lostReason} (this run's heartbeat stalled for over 5 minutes).`, {
        fix: 'Re-run the deploy; it re-plans from what is in the bucket now.',
      });
    await res.store.write(recordOf(m));
  };
  // A re-planned result (after waiting for the lock) has no distribution view yet: the viewer paths
  // decide which keys to invalidate.
  await attachDistributionView(res, inputs, deps);
  const changed = invalidationRels(res);
  const oldEntries = res.manifest?.entries ?? {};
  // Everything about to be written is recorded as ours before the first write, whether or not
  // it will be invalidated, so a failed run's uploads are never left unowned.
  const touched = [...new Set([...changed, ...plan.uploads.map((o) => o.file.rel), ...plan.copies.map((o) => o.file.rel)])].sort();
  // Files of kept releases recorded without a snapshot are copied aside before they are overwritten or deleted (releases.ts).
  const aside = planPreserve(res.manifest, plan.replaced.keys(), keepOf(inputs, res.manifest), (rel) => plan.replaced.get(rel));
  if (res.manifest && aside.copies.length + aside.changed.length > 0) {
    res.manifest = await preserveLive(
      s3,
      target,
      res.manifest,
      aside,
      inputs.concurrency,
      (l) => r.info(l),
      (w) => r.warning(w),
    );
  }
  if (touched.length > 0 || aside.copies.length > 0) await record({ entries: oldEntries, pending: touched });

  // A few uploads to a larger site are each HEADed for their LastModified (entries.ts observe): right after
  // its own PUT, in the same slot, so the HEADs overlap the other uploads instead of following the last one.
  const listPages = Math.ceil((plan.remoteCount + plan.uploads.length) / 1000);
  const headEach = headsCheaper(plan.uploads.length, inputs.concurrency, listPages);
  const write = async (ops: TargetPlan['uploads'], kind: 'upload' | 'copy'): Promise<void> => {
    // One log write per batch of lines: thousands of small stdout writes cost real time on a cold sync.
    let lines: string[] = [];
    const flush = () => {
      if (lines.length > 0) r.info(lines.join('\n'));
      lines = [];
    };
    try {
      await mapLimit(ops, inputs.concurrency, async ({ file, reason }) => {
        if (kind === 'upload') {
          written.set(
            file.rel,
            await uploadFile(s3, target.bucket, target.prefix, file, { acl: inputs.acl, multipartThreshold: threshold }),
          );
          if (headEach) observedAt.set(file.rel, await observeOne(s3, target, file.rel));
        } else {
          const copied = await copyMetadata(s3, target.bucket, target.prefix, file, inputs.acl);
          written.set(file.rel, copied.etag);
          if (copied.lastModified) observedAt.set(file.rel, { etag: copied.etag, lastModified: copied.lastModified });
        }
        if (kind === 'upload') res.bytesUploaded += file.size;
        lines.push(
          `${kind === 'upload' ? 'PUT ' : 'COPY'} ${file.key} (${reason}${kind === 'upload' ? `, ${formatBytes(file.size)}` : ''}; ` +
            `${file.headers.contentType}; ${file.headers.cacheControl ?? 'no Cache-Control'})`,
        );
        if (lines.length >= 200) flush();
      });
    } finally {
      flush();
    }
  };
  // Largest first: a multipart upload at the end of a phase would run alone while the other slots idle.
  const bySize = (a: TargetPlan['uploads'][number], b: TargetPlan['uploads'][number]) => b.file.size - a.file.size;
  const assets = { up: plan.uploads.filter((o) => !o.file.entry).sort(bySize), cp: plan.copies.filter((o) => !o.file.entry) };
  const entries = { up: plan.uploads.filter((o) => o.file.entry), cp: plan.copies.filter((o) => o.file.entry) };
  if (assets.up.length + assets.cp.length > 0) {
    await r.group(`Phase 1: assets → ${label(target)} (${assets.up.length} uploads, ${assets.cp.length} header updates)`, async () => {
      await write(assets.up, 'upload');
      await write(assets.cp, 'copy');
    });
  }
  if (entries.up.length + entries.cp.length > 0) {
    await r.group(
      `Phase 2: entry files → ${label(target)} (${entries.up.length} uploads, ${entries.cp.length} header updates)`,
      async () => {
        await write(entries.up, 'upload');
        await write(entries.cp, 'copy');
      },
    );
  }
  const unseen = [...written.keys()].filter((rel) => !observedAt.has(rel));
  const observed = new Map([
    ...(unseen.length > 0 ? await observe(s3, target, unseen, inputs.concurrency, listPages, bookkeeping(res.store)) : []),
    ...observedAt,
  ]);
  const fresh = nextEntries(res, written, observed);
  // Keys still to be deleted stay recorded (and so owned) until they are gone.
  const keep = Object.fromEntries(
    plan.deletes
      .map((k) => relOf(k, target.prefix))
      .filter((rel) => oldEntries[rel])
      .map((rel) => [rel, oldEntries[rel]!]),
  );
  const willInvalidate = Boolean(target.distributionId) && inputs.invalidate !== 'none' && changed.length > 0;
  const pending = willInvalidate ? changed : plan.deletes.map((k) => relOf(k, target.prefix));
  // The last state is not written here: recordRelease writes it with the release (one record PUT less).
  let settled: RecordState = { entries: { ...keep, ...fresh }, ...(pending.length > 0 ? { pending } : {}) };
  const last = !willInvalidate && plan.deletes.length === 0;
  if (!last && (changed.length > 0 || JSON.stringify(fresh) !== JSON.stringify(oldEntries))) await record(settled);

  if (willInvalidate) {
    await r.group(`Phase 3: invalidate ${target.distributionId}`, async () => {
      const cf = deps.cloudfront();
      const budget = inputs.invalidate === 'all' ? FULL_BUDGET : await inProgressBudget(cf, target.distributionId!, (m) => r.warning(m));
      const inv = plannedInvalidation(res, inputs, budget)!;
      res.invalidation = inv;
      if (inv.note) r.info(inv.note);
      r.info(`paths (${inv.paths.length}): ${inv.paths.slice(0, 20).join(' ')}${inv.paths.length > 20 ? ' …' : ''}`);
      const ref = `deploy-static-${deps.runId}-${createHash('sha256')
        .update(`${target.bucket}/${target.prefix}\n${inv.paths.join('\n')}`)
        .digest('hex')
        .slice(0, 16)}`;
      const timeoutMs = inputs.waitTimeoutSeconds * 1000;
      const log = (line: string) => r.info(line);
      res.invalidationId = await createInvalidation(cf, target.distributionId!, inv.paths, ref, timeoutMs, {
        sleep: deps.sleep,
        now: deps.now,
        log,
      });
      r.info(`invalidation ${res.invalidationId} created`);
      const stillPending = plan.deletes.map((k) => relOf(k, target.prefix));
      settled = { entries: { ...keep, ...fresh }, ...(stillPending.length > 0 ? { pending: stillPending } : {}) };
      if (plan.deletes.length > 0) await record(settled);
      if (inputs.waitForInvalidation)
        await waitForInvalidation(cf, target.distributionId!, res.invalidationId, timeoutMs, { sleep: deps.sleep, now: deps.now, log });
    });
  }
  // What only the releases this run prunes still use goes after the record that drops them (releases.ts splitDeletes).
  const { now, afterRecord } = splitDeletes(res.manifest, plan.deletes, target.prefix);
  if (plan.deletes.length > 0) {
    await r.group(`Phase 4: delete ${plan.deletes.length} objects no longer in source`, async () => {
      for (const k of now) r.info(`DELETE ${k}`);
      for (const k of afterRecord) r.info(`DELETE ${k} (once the record no longer lists the release that uses it)`);
      await deleteKeys(s3, target.bucket, target.prefix, now);
      const later = afterRecord.map((k) => relOf(k, target.prefix));
      settled = { entries: fresh, ...(later.length > 0 ? { pending: later } : {}) };
    });
  }
  return { settled: recordOf(settled), afterRecord };
}

type RecordState = Pick<Manifest, 'entries' | 'pending'>;
