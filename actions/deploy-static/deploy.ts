import { createHash } from 'node:crypto';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { S3Client } from '@aws-sdk/client-s3';
import { aggregate, type ActionError } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import { createInvalidation, inProgressBudget, readDistributionView, waitForInvalidation } from './cloudfront.js';
import type { DistributionView } from './distribution.js';
import type { Inputs } from './inputs.js';
import { FULL_BUDGET, planInvalidation, type InvalidationPlan } from './invalidation.js';
import { checkDeleteGuard, desiredFiles, parseManifest, planTarget, relOf, type Manifest, type TargetPlan } from './plan.js';
import { mapLimit } from './pool.js';
import { copyMetadata, deleteKeys, headObjects, listRemote, readManifest, uploadFile, writeManifest } from './s3.js';
import { checkSource, excludeMatcher, scanSource } from './scan.js';
import type { Target } from './targets.js';

export interface Deps {
  s3: S3Client;
  /** Created only when a target has a distribution id. */
  cloudfront: () => CloudFrontClient;
  sleep: Sleep;
  now: Clock;
  reporter: Reporter;
  /** Part of the CallerReference, so a re-run of the same job is a new invalidation. */
  runId: string;
}

export interface TargetResult {
  target: Target;
  plan: TargetPlan;
  manifest?: Manifest;
  invalidation?: InvalidationPlan;
  invalidationId?: string;
  bytesUploaded: number;
  /** [static-perf hook] Where the distribution serves these keys (GetDistribution); read only when there is something to invalidate. */
  view?: DistributionView;
}

const label = (t: Target): string => `s3://${t.bucket}/${t.prefix}`;

/** Reads and plans every target before the first write, so a guard failure on target 3 stops targets 1 and 2 too. */
export async function planAll(inputs: Inputs, deps: Deps): Promise<TargetResult[]> {
  const { reporter: r } = deps;
  // Listing is sequential pages of 1,000 keys: start it while the source is hashed.
  // Only reads; the cheap source checks come first, so a missing or empty build makes no AWS call at all.
  await checkSource(inputs.source);
  const remotes = inputs.targets.map((t) => Promise.all([listRemote(deps.s3, t.bucket, t.prefix), readManifest(deps.s3, t.bucket, t.prefix)]));
  for (const p of remotes) p.catch(() => undefined);
  const local = await r.group('Scan source', async () => {
    const files = await scanSource(inputs.source, { exclude: inputs.exclude, concurrency: inputs.concurrency });
    r.info(`${files.length} files, ${formatBytes(files.reduce((n, f) => n + f.size, 0))} in ${inputs.source}`);
    return files;
  });
  const excluded = excludeMatcher(inputs.exclude);
  const results: TargetResult[] = [];
  const problems: ActionError[] = [];
  for (const [i, target] of inputs.targets.entries()) {
    await r.group(`Plan ${label(target)}`, async () => {
      const files = desiredFiles(local, { prefix: target.prefix, preset: inputs.preset, rules: inputs.headers, acl: inputs.acl });
      const [remote, manifestText] = await remotes[i]!;
      const manifest = parseManifest(manifestText);
      if (manifestText !== undefined && !manifest) r.warning(`The deploy manifest in ${label(target)} is unreadable; objects will be compared by HEAD this once.`);
      const opts = { prefix: target.prefix, preset: inputs.preset, rules: inputs.headers, acl: inputs.acl, delete: inputs.delete, excluded };
      let plan = planTarget(files, remote, manifest, opts);
      if (plan.unresolved.length > 0) {
        r.info(`HEAD ${plan.unresolved.length} objects that the listing and manifest cannot settle (multipart, or written by another tool)`);
        const heads = await headObjects(deps.s3, target.bucket, plan.unresolved, inputs.acl, inputs.concurrency);
        plan = planTarget(files, remote, manifest, opts, heads);
      }
      r.info(`${plan.remoteCount} objects in the bucket: upload ${plan.uploads.length}, update headers ${plan.copies.length}, delete ${plan.deletes.length}, unchanged ${plan.unchanged.length}`);
      const guard = checkDeleteGuard(plan, label(target), { maxCount: inputs.maxDeleteCount, maxRatio: inputs.maxDeleteRatio, force: inputs.forceDelete });
      if (guard) problems.push(guard);
      results.push({ target, plan, ...(manifest ? { manifest } : {}), bytesUploaded: 0 });
    });
  }
  if (problems.length > 0) throw aggregate('Refusing to deploy: the delete guard stopped the run before any write', problems);
  return results;
}

/** Changed and deleted keys, plus what an earlier failed run wrote but did not invalidate. */
export function invalidationRels(res: Pick<TargetResult, 'plan' | 'target' | 'manifest' | 'view'>): string[] {
  const { plan, target } = res;
  // [static-perf hook] A key that did not exist has nothing cached at the edge but a 403/404, kept
  // 10 s by default: not worth an invalidation unless the distribution caches errors longer (distribution.ts).
  const skipNew = res.view !== undefined && !res.view.invalidateNewKeys;
  const rels = [...plan.uploads.filter((o) => !(skipNew && o.reason === 'new')).map((o) => o.file.rel), ...plan.copies.map((o) => o.file.rel), ...plan.deletes.map((k) => relOf(k, target.prefix)), ...(res.manifest?.pending ?? [])];
  // [static-perf hook] A key no cache behaviour routes to this bucket's origin path has no viewer path: nothing to invalidate.
  const served = res.view ? rels.filter((rel) => res.view!.viewerPaths(rel).length > 0) : rels;
  return [...new Set(served)];
}

export function plannedInvalidation(res: TargetResult, inputs: Inputs, budget = FULL_BUDGET): InvalidationPlan | undefined {
  if (!res.target.distributionId || inputs.invalidate === 'none') return undefined;
  const rels = invalidationRels(res);
  if (rels.length === 0) return undefined;
  if (inputs.invalidate === 'all') return { paths: ['/*'], note: 'invalidate: all' };
  return planInvalidation(rels, { maxPaths: inputs.invalidationMaxPaths, budget, ...(res.view ? { viewerPaths: res.view.viewerPaths } : {}) });
}

/** [static-perf hook] Reads the distribution's config once, only when the plan has keys to invalidate (a no-op run makes no CloudFront call). */
export async function attachDistributionView(res: TargetResult, inputs: Inputs, deps: Pick<Deps, 'cloudfront' | 'reporter'>): Promise<void> {
  const { target } = res;
  if (!target.distributionId || inputs.invalidate !== 'changed' || res.view || invalidationRels(res).length === 0) return;
  const before = invalidationRels(res).length;
  res.view = await readDistributionView(deps.cloudfront(), { ...target, distributionId: target.distributionId }, (m) => deps.reporter.warning(m));
  for (const note of res.view.notes) deps.reporter.info(note);
  const unserved = before - invalidationRels({ ...res, view: { ...res.view, invalidateNewKeys: true } }).length;
  if (unserved > 0) deps.reporter.warning(`${unserved} changed keys under s3://${target.bucket}/${target.prefix} are not served by distribution ${target.distributionId} (no cache behaviour sends their viewer path to this bucket's origin path); they are not invalidated. Check prefix and the distribution's origin path.`);
}

/**
 * The write order that keeps the old site whole at every moment: assets
 * (nothing references them yet), then entry files (HTML now points at assets
 * that exist), then the invalidation, then deletes (old HTML still cached at
 * the edge keeps its assets until it is invalidated). A failure at any step
 * leaves a site that still works, and a re-run converges.
 */
export async function applyTarget(res: TargetResult, inputs: Inputs, deps: Deps): Promise<void> {
  const { reporter: r, s3 } = deps;
  const { target, plan } = res;
  const etags = new Map(plan.remoteEtags);
  const threshold = inputs.multipartThresholdMb * 1024 * 1024;
  const write = async (ops: TargetPlan['uploads'], kind: 'upload' | 'copy'): Promise<void> => {
    // One log write per batch of lines: thousands of small stdout writes cost real time on a cold sync.
    let lines: string[] = [];
    const flush = () => {
      if (lines.length > 0) r.info(lines.join('\n'));
      lines = [];
    };
    try {
      await mapLimit(ops, inputs.concurrency, async ({ file, reason }) => {
        const etag = kind === 'upload' ? await uploadFile(s3, target.bucket, target.prefix, file, { acl: inputs.acl, multipartThreshold: threshold }) : await copyMetadata(s3, target.bucket, target.prefix, file, inputs.acl);
        etags.set(file.rel, etag);
        if (kind === 'upload') res.bytesUploaded += file.size;
        lines.push(`${kind === 'upload' ? 'PUT ' : 'COPY'} ${file.key} (${reason}${kind === 'upload' ? `, ${formatBytes(file.size)}` : ''}; ${file.headers.contentType}; ${file.headers.cacheControl ?? 'no Cache-Control'})`);
        if (lines.length >= 200) flush();
      });
    } finally {
      flush();
    }
  };
  const assets = { up: plan.uploads.filter((o) => !o.file.entry), cp: plan.copies.filter((o) => !o.file.entry) };
  const entries = { up: plan.uploads.filter((o) => o.file.entry), cp: plan.copies.filter((o) => o.file.entry) };
  if (assets.up.length + assets.cp.length > 0) {
    await r.group(`Phase 1: assets → ${label(target)} (${assets.up.length} uploads, ${assets.cp.length} header updates)`, async () => {
      await write(assets.up, 'upload');
      await write(assets.cp, 'copy');
    });
  }
  if (entries.up.length + entries.cp.length > 0) {
    await r.group(`Phase 2: entry files → ${label(target)} (${entries.up.length} uploads, ${entries.cp.length} header updates)`, async () => {
      await write(entries.up, 'upload');
      await write(entries.cp, 'copy');
    });
  }
  await attachDistributionView(res, inputs, deps); // [static-perf hook]
  const willInvalidate = Boolean(target.distributionId) && inputs.invalidate !== 'none' && invalidationRels(res).length > 0;
  const manifest = nextManifest(plan, etags);
  if (willInvalidate) manifest.pending = invalidationRels(res).sort();
  if (JSON.stringify(manifest) !== JSON.stringify(res.manifest)) await writeManifest(s3, target.bucket, target.prefix, manifest);

  if (willInvalidate) {
    await r.group(`Phase 3: invalidate ${target.distributionId}`, async () => {
      const cf = deps.cloudfront();
      const budget = inputs.invalidate === 'all' ? FULL_BUDGET : await inProgressBudget(cf, target.distributionId!, (m) => r.warning(m));
      const inv = plannedInvalidation(res, inputs, budget)!;
      res.invalidation = inv;
      if (inv.note) r.info(inv.note);
      r.info(`paths (${inv.paths.length}): ${inv.paths.slice(0, 20).join(' ')}${inv.paths.length > 20 ? ' …' : ''}`);
      const ref = `deploy-static-${deps.runId}-${createHash('sha256').update(`${target.bucket}/${target.prefix}\n${inv.paths.join('\n')}`).digest('hex').slice(0, 16)}`;
      const timeoutMs = inputs.waitTimeoutSeconds * 1000;
      const log = (line: string) => r.info(line);
      res.invalidationId = await createInvalidation(cf, target.distributionId!, inv.paths, ref, timeoutMs, { sleep: deps.sleep, now: deps.now, log });
      r.info(`invalidation ${res.invalidationId} created`);
      delete manifest.pending;
      await writeManifest(s3, target.bucket, target.prefix, manifest);
      if (inputs.waitForInvalidation) await waitForInvalidation(cf, target.distributionId!, res.invalidationId, timeoutMs, { sleep: deps.sleep, now: deps.now, log });
    });
  }
  if (plan.deletes.length > 0) {
    await r.group(`Phase 4: delete ${plan.deletes.length} objects no longer in source`, async () => {
      for (const k of plan.deletes) r.info(`DELETE ${k}`);
      await deleteKeys(s3, target.bucket, target.prefix, plan.deletes);
    });
  }
}

function nextManifest(plan: TargetPlan, etags: ReadonlyMap<string, string>): Manifest {
  const entries: Manifest['entries'] = {};
  const files = [...plan.uploads.map((o) => o.file), ...plan.copies.map((o) => o.file), ...plan.unchanged].sort((a, b) => (a.rel < b.rel ? -1 : 1));
  for (const f of files) {
    const etag = etags.get(f.rel);
    if (etag) entries[f.rel] = { etag, md5: f.md5, headers: f.headerHash };
  }
  return { version: 1, entries };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
