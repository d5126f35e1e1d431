import type { S3Client } from '@aws-sdk/client-s3';
import { aggregate, ActionError } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import type { CloudFront } from './cloudfront.js';
import type { DistributionView } from './distribution.js';
import type { Inputs } from './inputs.js';
import type { InvalidationPlan } from './invalidation.js';
import type { DeployLock } from './lock.js';
import { checkDeleteGuard, desiredFiles, planTarget, relOf, type DesiredFile, type PlanOptions, type TargetPlan } from './plan.js';
import { recordUnreadable, type Manifest, type ParsedHead, type RecordHead } from './record.js';
import { RecordStore } from './record-store.js';
import { bookkeeping, keepOf, protectedRels, type RecordedRelease, type Who } from './releases.js';
import { headObjects, listRemote } from './s3.js';
import { checkSource, excludeMatcher, scanSource, type LocalFile } from './scan.js';
import { stateRel } from './state.js';
import type { Target } from './targets.js';

/**
 * Planning a deploy: scan the source, list and read the record of every
 * target, plan and guard each before any write (apply.ts applies the plan;
 * deploy-invalidation.ts says which of its keys to invalidate).
 */

export interface Deps {
  s3: S3Client;
  /** Created only when a target has a distribution id. */
  cloudfront: () => CloudFront;
  sleep: Sleep;
  now: Clock;
  reporter: Reporter;
  /** Part of the CallerReference, so a re-run of the same job is a new invalidation; also the lock owner. */
  runId: string;
  /** Where this run is (repository, run URL), written into the lock for whoever waits on it. */
  where?: string;
  /** Every lock taken is added here, so a cancel (SIGINT/SIGTERM) can release it. */
  locks?: DeployLock[];
  /** The id this run's release gets, and who triggered it. */
  releaseId?: string;
  who?: Who;
}

export interface TargetResult {
  target: Target;
  plan: TargetPlan;
  /** The valid record read before planning (undefined: none yet, or `unchangedByHead`; an unreadable one stops the run). */
  manifest?: Manifest;
  /** The record's head showed nothing to change: no release file list was read, and the run writes nothing. */
  unchangedByHead?: boolean;
  store: RecordStore;
  files: DesiredFile[];
  invalidation?: InvalidationPlan;
  invalidationId?: string;
  bytesUploaded: number;
  /** Where the distribution serves these keys (GetDistribution); read only when there is something to invalidate. */
  view?: DistributionView;
  /** Set when the distribution serves the bookkeeping folder: said once in the summary. */
  exposure?: string;
  /** Every key of the live release gone from source, kept ones included: what the delete guard counts. */
  lost?: string[];
  /** The release this run recorded. */
  release?: RecordedRelease;
}

export const label = (t: Target): string => `s3://${t.bucket}/${t.prefix}`;

/** Reads and plans every target before the first write, so a guard failure on target 3 stops targets 1 and 2 too. */
export async function planAll(inputs: Inputs, deps: Deps): Promise<TargetResult[]> {
  const { reporter: r } = deps;
  // Listing is sequential pages of 1,000 keys: start it while the source is hashed.
  // Only reads; the cheap source checks come first, so a missing or empty build makes no AWS call at all.
  await checkSource(inputs.source);
  const stores = inputs.targets.map((t) => new RecordStore(deps.s3, t));
  // The record's head first: it says how big the bookkeeping folder is, which the listing may skip (listRemote).
  // The release file lists are read while planning, only when the run may change something (planOne).
  const heads = stores.map((s) => s.readHead());
  const remotes = inputs.targets.map((t, i) =>
    heads[i]!.then(() => Promise.all([listRemote(deps.s3, t.bucket, t.prefix, bookkeeping(stores[i]!))])),
  );
  for (const p of remotes) p.catch(() => undefined);
  const local = await r.group('Scan source', async () => {
    const files = await scanSource(inputs.source, {
      exclude: inputs.exclude,
      concurrency: inputs.concurrency,
      includeDotfiles: inputs.includeDotfiles,
    });
    r.info(`${files.length} files, ${formatBytes(files.reduce((n, f) => n + f.size, 0))} in ${inputs.source}`);
    return files;
  });
  // A build the head already shows to differ will read the release file lists (planOne): while the listing runs.
  for (const [i, store] of stores.entries())
    heads[i]!.then(
      () => {
        if (surelyChanges(local, store.parsedHead())) store.prefetchReleases();
      },
      () => undefined,
    );
  const results: TargetResult[] = [];
  const problems: ActionError[] = [];
  for (const [i, target] of inputs.targets.entries()) {
    await r.group(`Plan ${label(target)}`, async () => {
      const files = desiredFiles(local, {
        prefix: target.prefix,
        preset: inputs.preset,
        rules: inputs.headers,
        acl: inputs.acl,
        stateRel: stateRel(target),
      });
      const [remote] = await remotes[i]!;
      const res = await planOne(target, files, stores[i]!, remote, inputs, deps);
      const guard = guardOf(res, inputs);
      if (guard) problems.push(guard);
      results.push(res);
    });
  }
  if (problems.length > 0) throw aggregate('Refusing to deploy: the delete guard stopped the run before any write', problems);
  return results;
}

export function guardOf(res: TargetResult, inputs: Inputs): ActionError | undefined {
  // Assets kept for older releases are still gone from the site; the guard counts them.
  return checkDeleteGuard({ ...res.plan, deletes: res.lost ?? res.plan.deletes }, label(res.target), {
    maxCount: inputs.maxDeleteCount,
    maxRatio: inputs.maxDeleteRatio,
    force: inputs.forceDelete,
    prefix: res.target.prefix,
  });
}

/** Plans one target from a listing and the record already read into `store`. */
export async function planOne(
  target: Target,
  files: DesiredFile[],
  store: RecordStore,
  remote: Awaited<ReturnType<typeof listRemote>>,
  inputs: Inputs,
  deps: Deps,
): Promise<TargetResult> {
  const { reporter: r } = deps;
  const opts = {
    prefix: target.prefix,
    preset: inputs.preset,
    rules: inputs.headers,
    acl: inputs.acl,
    delete: inputs.delete,
    stateRel: stateRel(target),
    excluded: excludeMatcher(inputs.exclude),
  };
  // Fail closed: ignoring it would record one release and prune the history (also when re-planned under the lock).
  const head = store.parsedHead();
  if (head && !head.ok) throw recordUnreadable(store, head);
  if (head?.ok && !store.loaded) {
    const unchanged = unchangedFromHead(files, remote, head.head, opts);
    if (unchanged) {
      r.info(`${unchanged.remoteCount} objects in the bucket: nothing to change (the record's head settles every file)`);
      return { target, plan: unchanged, store, files, unchangedByHead: true, bytesUploaded: 0, lost: [] };
    }
    const seen = store.etag;
    await store.loadReleases();
    // A file list was gone because another run rewrote the head meanwhile: the listing predates that run's writes.
    if (store.etag !== seen) remote = await listRemote(deps.s3, target.bucket, target.prefix, bookkeeping(store));
  }
  let manifest: Manifest | undefined;
  const parsed = store.parsed();
  if (parsed) {
    if (!parsed.ok) throw recordUnreadable(store, parsed);
    manifest = parsed.manifest;
  }
  let plan = planTarget(files, remote, manifest, opts);
  if (plan.unresolved.length > 0) {
    r.info(
      `HEAD ${plan.unresolved.length} objects that the listing and record cannot settle (multipart, changed outside this action, or written by another tool)`,
    );
    const heads = await headObjects(deps.s3, target.bucket, plan.unresolved, inputs.acl, inputs.concurrency);
    plan = planTarget(files, remote, manifest, opts, heads);
  }
  // Fingerprinted assets of the kept releases stay live (open tabs, rollback).
  const keep = keepOf(inputs, manifest);
  const kept = protectedRels(manifest, keep);
  // What this build drops from the live release; older releases' kept assets were counted when they left.
  const lost = plan.deletes.filter((k) => !kept.has(relOf(k, target.prefix)) || manifest?.entries[relOf(k, target.prefix)] !== undefined);
  const before = plan.deletes.length;
  if (kept.size > 0) plan.deletes = plan.deletes.filter((k) => !kept.has(relOf(k, target.prefix)));
  if (plan.deletes.length < before)
    r.info(`${before - plan.deletes.length} assets no longer in source are kept: the last ${keep} releases reference them`);
  r.info(
    `${plan.remoteCount} objects in the bucket: upload ${plan.uploads.length}, update headers ${plan.copies.length}, delete ${plan.deletes.length}, ` +
      `unchanged ${plan.unchanged.length}`,
  );
  if (plan.foreign.length > 0) {
    r.info(
      `${plan.foreign.length} objects under the prefix are not in source and were not written by this action; left in place (delete: all removes ` +
        `them): ${plan.foreign.slice(0, 10).join(' ')}${plan.foreign.length > 10 ? ' …' : ''}`,
    );
  }
  return { target, plan, store, files, ...(manifest ? { manifest } : {}), bytesUploaded: 0, lost };
}

/**
 * Whether the head alone shows that the run changes something, so that
 * unchangedFromHead cannot settle it and the release file lists will be read:
 * a pending path, no release yet, or a file whose content the head does not
 * record. Only says when to read ahead; false when unsure.
 */
function surelyChanges(local: readonly LocalFile[], head: ParsedHead | undefined): boolean {
  if (!head?.ok || !head.head.releases?.length) return false;
  if ((head.head.pending?.length ?? 0) > 0) return true;
  const { entries } = head.head;
  return local.some((f) => entries[f.rel]?.md5 !== f.md5);
}

/**
 * The plan of a run that changes nothing, decided from the record's head alone
 * (no release file list read: 100,000 files × 5 releases is most of the
 * record); undefined when anything may change. Sound because the releases
 * only add owned keys: with nothing to upload, copy or HEAD and no key outside
 * the build at all (owned or not), they cannot add a delete; a pending
 * invalidation or a site without a release is a write.
 */
function unchangedFromHead(
  files: DesiredFile[],
  remote: Awaited<ReturnType<typeof listRemote>>,
  head: RecordHead,
  opts: PlanOptions,
): TargetPlan | undefined {
  if ((head.pending?.length ?? 0) > 0 || !head.releases?.length) return undefined;
  const { releases: _r, ...rest } = head;
  const plan = planTarget(files, remote, { ...rest, version: head.version, entries: head.entries }, opts);
  if (plan.uploads.length + plan.copies.length + plan.deletes.length + plan.foreign.length + plan.unresolved.length > 0) return undefined;
  return sameEntries(head.entries, plan) ? plan : undefined;
}

/**
 * Whether the record's entries are already what nextEntries would write for a
 * plan of unchanged files only: compared in place, field by field (building
 * and sorting a second 100,000-entry map cost a no-op more than the compare).
 */
function sameEntries(entries: Manifest['entries'], plan: TargetPlan): boolean {
  let count = 0;
  for (const f of plan.unchanged) {
    const seen = plan.remoteSeen.get(f.rel);
    // nextEntries writes no entry without an ETag, and no lastModified when the listing showed none.
    if (!seen?.etag) continue;
    count++;
    const x = entries[f.rel];
    if (!x || x.etag !== seen.etag || x.md5 !== f.md5 || x.headers !== f.headerHash || x.lastModified !== (seen.lastModified || undefined))
      return false;
  }
  return count === Object.keys(entries).length;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Plans every target before the first write: each target's refusal (ActionError) is collected, so
 * one run names every target that cannot go ahead, and nothing is written unless all can.
 */
export async function planEveryTarget<P>(
  targets: Target[],
  plan: (target: Target) => Promise<P>,
  describe: (plan: P) => string,
  refusal: string,
  reporter: Reporter,
): Promise<P[]> {
  const plans: P[] = [];
  const problems: ActionError[] = [];
  for (const target of targets) {
    try {
      const p = await plan(target);
      reporter.info(`${label(target)}: ${describe(p)}`);
      plans.push(p);
    } catch (err) {
      if (err instanceof ActionError) problems.push(err);
      else throw err;
    }
  }
  if (problems.length > 0) throw aggregate(refusal, problems);
  return plans;
}
