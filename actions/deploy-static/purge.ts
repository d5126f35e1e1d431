import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import { ActionError } from '../../lib/errors.js';
import { createInvalidation, inProgressBudget, readDistributionView } from './cloudfront.js';
import { label, planEveryTarget, type Deps } from './deploy.js';
import type { Inputs } from './inputs.js';
import { FULL_BUDGET, planInvalidation, type InvalidationPlan } from './invalidation.js';
import type { DeployLock } from './lock.js';
import { withDeployLock } from './locked-run.js';
import { checkDeleteGuard, relOf, type TargetPlan } from './plan.js';
import { RECORD_VERSION, type Manifest } from './record.js';
import { RecordStore } from './record-store.js';
import { deleteKeys, listRemote } from './s3.js';
import { releasesFolder, stateOf, stateRel } from './state.js';
import type { Target } from './targets.js';

/**
 * `purge`: the day a secret ships in a build. Every key matching the globs is
 * removed from the live site, from every release snapshot, and from the
 * record (entries and every release's file list, so no rollback brings it
 * back), and its viewer paths are invalidated. Nothing else changes.
 */
export interface PurgePlan {
  target: Target;
  store: RecordStore;
  /** Live site keys that match. */
  live: string[];
  /** Snapshot copies (`releases/<id>/<rel>` in the state location) whose rel matches. */
  snapshots: string[];
  /** Site-relative paths purged (live, snapshotted or recorded): what is invalidated. */
  rels: string[];
  invalidation?: InvalidationPlan;
  invalidationId?: string;
}

/** Globs as `headers` and `exclude` read them: without `/` they match the file name in any folder. */
function purgeMatcher(globs: readonly string[]): (rel: string) => boolean {
  const matchers = globs.map((g) => picomatch(g.replace(/^\/+/, ''), { dot: true, basename: !g.replace(/^\/+/, '').includes('/') }));
  return (rel) => matchers.some((m) => m(rel));
}

/** The record without the purged paths: no entry, no release file, nothing pending for them but the invalidation. */
function purgedRecord(m: Manifest, matches: (rel: string) => boolean, pending: readonly string[]): Manifest {
  const entries = Object.fromEntries(Object.entries(m.entries).filter(([rel]) => !matches(rel)));
  const releases = m.releases?.map((r) => ({ ...r, files: Object.fromEntries(Object.entries(r.files).filter(([rel]) => !matches(rel))) }));
  const { pending: _p, ...rest } = m;
  return { ...rest, entries, ...(releases ? { releases } : {}), ...(pending.length > 0 ? { pending: [...pending] } : {}) };
}

async function readPlan(target: Target, inputs: Inputs, deps: Deps, store: RecordStore): Promise<PurgePlan> {
  await store.read();
  const parsed = store.parsed();
  if (parsed && !parsed.ok)
    throw new ActionError(`${label(target)} has an invalid deploy record (${parsed.problem}); purge would have to rewrite it.`, {
      input: 'purge',
      fix: 'Fix or remove the record first, then purge.',
    });
  const matches = purgeMatcher(inputs.purge);
  const snapRoot = releasesFolder(stateOf(target));
  const skip = stateRel(target);
  const [all, snapped] = await Promise.all([
    listRemote(deps.s3, target.bucket, target.prefix),
    listRemote(deps.s3, stateOf(target).bucket, snapRoot),
  ]);
  const live: string[] = [];
  const snapshots: string[] = [];
  const rels = new Set<string>();
  for (const o of snapped) {
    // `<id>/<rel>`: the release folder, then the file's path in the site.
    const inner = o.key.slice(snapRoot.length);
    const rel = inner.slice(inner.indexOf('/') + 1);
    if (matches(rel)) {
      snapshots.push(o.key);
      rels.add(rel);
    }
  }
  const site = all.filter((o) => skip === undefined || !relOf(o.key, target.prefix).startsWith(skip));
  for (const o of site) {
    const rel = relOf(o.key, target.prefix);
    if (!matches(rel)) continue;
    live.push(o.key);
    rels.add(rel);
  }
  if (parsed?.ok) {
    const m = parsed.manifest;
    for (const rel of [...Object.keys(m.entries), ...(m.releases ?? []).flatMap((r) => Object.keys(r.files))])
      if (matches(rel)) rels.add(rel);
  }
  const remoteCount = site.length;
  const guard = checkDeleteGuard({ deletes: live, uploads: [], remoteCount } as unknown as TargetPlan, label(target), {
    maxCount: inputs.maxDeleteCount,
    maxRatio: inputs.maxDeleteRatio,
    force: inputs.forceDelete,
    prefix: target.prefix,
  });
  if (guard) throw guard;
  return { target, store, live, snapshots, rels: [...rels].sort() };
}

/** Reads and checks every target before the first write. */
export async function planPurgeAll(inputs: Inputs, deps: Deps): Promise<PurgePlan[]> {
  return planEveryTarget(
    inputs.targets,
    (target) => readPlan(target, inputs, deps, new RecordStore(deps.s3, target)),
    (plan) => `purge ${plan.rels.length} paths: ${plan.live.length} live objects, ${plan.snapshots.length} snapshot copies`,
    'Refusing to purge: nothing was written',
    deps.reporter,
  );
}

export async function applyPurgeAll(plans: PurgePlan[], inputs: Inputs, deps: Deps): Promise<void> {
  for (const [i, first] of plans.entries()) {
    if (first.rels.length === 0) continue;
    const { target } = first;
    await withDeployLock(
      { ...target, label: label(target) },
      first.store,
      inputs.lockWaitSeconds * 1000,
      deps,
      async (lock, recordChanged) => {
        const plan = recordChanged ? await readPlan(target, inputs, deps, first.store) : first;
        plans[i] = plan;
        await applyPurge(plan, inputs, deps, lock);
      },
    );
  }
}

async function applyPurge(p: PurgePlan, inputs: Inputs, deps: Deps, lock: DeployLock): Promise<void> {
  const { reporter: r, s3 } = deps;
  const { target } = p;
  const matches = purgeMatcher(inputs.purge);
  const parsed = p.store.parsed();
  const write = async (pending: readonly string[]) => {
    if (!parsed?.ok) return;
    if (lock.lostReason)
      throw new ActionError(`Stopped: ${lock.lostReason}.`, { fix: 'Re-run the purge; it re-plans from what is in the bucket now.' });
    await p.store.write({
      ...purgedRecord(parsed.manifest, matches, pending),
      version: RECORD_VERSION,
      run: { id: deps.runId, at: new Date(deps.now()).toISOString() },
    });
  };
  const willInvalidate = Boolean(target.distributionId) && inputs.invalidate !== 'none';
  // The record first: no rollback can name a purged file from here on, and a failed run's re-run invalidates them.
  await write(willInvalidate ? [...new Set([...p.rels, ...((parsed?.ok && parsed.manifest.pending) || [])])] : []);
  await r.group(`Purge ${p.live.length + p.snapshots.length} objects from ${label(target)}`, async () => {
    r.info([...p.live, ...p.snapshots].map((k) => `DELETE ${k}`).join('\n'));
    await deleteKeys(s3, target.bucket, target.prefix, p.live);
    await deleteKeys(s3, p.store.state.bucket, releasesFolder(p.store.state), p.snapshots);
  });
  if (willInvalidate) {
    await r.group(`Invalidate ${target.distributionId}`, async () => {
      const cf = deps.cloudfront();
      const warn = (m: string) => r.warning(m);
      const view =
        inputs.invalidate === 'all'
          ? undefined
          : await readDistributionView(cf, { ...target, distributionId: target.distributionId! }, warn);
      const budget = inputs.invalidate === 'all' ? FULL_BUDGET : await inProgressBudget(cf, target.distributionId!, warn);
      const inv =
        inputs.invalidate === 'all'
          ? { paths: ['/*'] }
          : planInvalidation(p.rels, { maxPaths: inputs.invalidationMaxPaths, budget, ...(view ? { viewerPaths: view.viewerPaths } : {}) });
      if (inv.paths.length === 0) return;
      p.invalidation = inv;
      const ref = `deploy-static-purge-${deps.runId}-${createHash('sha256')
        .update(`${target.bucket}/${target.prefix}\n${inv.paths.join('\n')}`)
        .digest('hex')
        .slice(0, 16)}`;
      p.invalidationId = await createInvalidation(cf, target.distributionId!, inv.paths, ref, inputs.waitTimeoutSeconds * 1000, {
        sleep: deps.sleep,
        now: deps.now,
        log: (l) => r.info(l),
      });
      r.info(`invalidation ${p.invalidationId} created: ${inv.paths.join(' ')}`);
    });
    await write((parsed?.ok && parsed.manifest.pending?.filter((rel) => !matches(rel))) || []);
  }
}

export function purgeMarkdown(plans: readonly PurgePlan[], dryRun: boolean): string {
  const out = [
    `### deploy-static purge${dryRun ? ' (dry run: nothing written)' : ''}`,
    '',
    '| target | paths purged | live objects deleted | snapshot copies deleted | invalidation |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const p of plans)
    out.push(
      `| s3://${p.target.bucket}/${p.target.prefix} | ${p.rels.length} | ${p.live.length} | ${p.snapshots.length} | ` +
        `${p.invalidation ? `${p.invalidationId ? `${p.invalidationId}: ` : ''}${p.invalidation.paths.join(' ')}` : '—'} |`,
    );
  for (const p of plans)
    if (p.rels.length > 0)
      out.push(
        '',
        `**Purged from s3://${p.target.bucket}/${p.target.prefix}** (site, every kept release, the record):`,
        '',
        ...p.rels.slice(0, 200).map((rel) => `- \`${rel}\``),
      );
  return `${out.join('\n')}\n`;
}
