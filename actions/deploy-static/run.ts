// The action's run, imported by main.ts in the main thread or, for a large build, in a worker thread:
// inputs, then a purge, a rollback or a deploy (plan, apply), then outputs and the step summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { ClientFactory, bulkTransferConfig, clientConfig, lazyClient } from '../../lib/aws.js';
import { realClock, realSleep } from '../../lib/poll.js';
import { appendSummary, issueCommand, runAction, runnerReporter } from '../../lib/runner.js';
import { keepDefinitiveAnswers } from './answers.js';
import { applyAll } from './apply.js';
import { attachDistributionView, plannedInvalidation } from './deploy-invalidation.js';
import { planAll, type Deps } from './deploy.js';
import type { DeployLock } from './lock.js';
import { getInputs } from './inputs.js';
import { planJson, rollbackJson, rollbackMarkdown, summaryMarkdown, totals } from './summary.js';
import { releaseIdFor } from './releases.js';
import { applyRollbackAll, planRollbackAll } from './rollback.js';
import { changedRels } from './rollback-plan.js';
import { planInvalidation } from './invalidation.js';
import { applyPurgeAll, planPurgeAll, purgeMarkdown } from './purge.js';
import { repairAll, repairMarkdown } from './repair.js';

const ACTION = 'deploy-static';

/** The outputs every run kind writes the same way: the invalidations it made and the plan file. */
function setInvalidationOutputs(plans: { invalidationId?: string; invalidation?: { paths: unknown[] } | null }[], planPath: string): void {
  runnerReporter.setOutput(
    'invalidation-id',
    plans
      .map((p) => p.invalidationId)
      .filter(Boolean)
      .join(','),
  );
  runnerReporter.setOutput(
    'invalidation-paths',
    plans.reduce((n, p) => n + (p.invalidation?.paths.length ?? 0), 0),
  );
  runnerReporter.setOutput('plan', planPath);
}

await runAction(ACTION, async () => {
  const inputs = getInputs();
  const config = () => clientConfig({ region: inputs.awsRegion, maxAttempts: inputs.maxAttempts, action: ACTION });
  const clients = new ClientFactory(config);
  // Loaded on the first CloudFront call (cloudfront.ts): a run without a distribution never evaluates the SDK.
  const cloudfront = lazyClient(async () => clients.get((await import('@aws-sdk/client-cloudfront')).CloudFrontClient));
  const reporter = runnerReporter;
  const locks: DeployLock[] = [];
  // Cancel: the runner sends SIGINT, then SIGTERM ~7.5 s later, then kills the
  // process. At the first signal no new write starts (the lock's fence); the
  // lock is released once the writes in flight have answered (at most 5 s), so
  // the next deploy neither waits for it to go stale nor plans against a write
  // still landing. The record already lists what this run was writing as
  // pending, so the re-run invalidates it.
  let cancelling = false;
  const onSignal = (signal: string) => {
    if (cancelling) return;
    cancelling = true;
    reporter.warning(`${signal}: cancelled; releasing the deploy lock`);
    // Whatever S3 does, exit well before the runner's kill (~10 s after SIGINT).
    const hardExit = setTimeout(() => process.exit(1), 7000);
    void Promise.all(locks.map((l) => l.cancel(5000))).finally(() => {
      issueCommand(
        'error',
        {},
        `${ACTION} failed: the workflow was cancelled. The deploy lock was released; files already written are recorded as pending, so ` +
          `the next run invalidates them.`,
      );
      clearTimeout(hardExit);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  const deps: Deps = {
    // Standard retries with jitter for S3 (lib/aws.ts bulkTransferConfig); CloudFront keeps adaptive.
    // Every PutObject carries Content-MD5, which S3 checks, and multipart uploads ask for CRC32 themselves
    // (s3.ts): the SDK's default extra CRC32 of every small body would be CPU spent twice on one check.
    // A 404/412 is never retried as "clock skew corrected" (answers.ts).
    s3: keepDefinitiveAnswers(
      new ClientFactory(() => ({ ...bulkTransferConfig(config()), requestChecksumCalculation: 'WHEN_REQUIRED' })).get(S3Client),
    ),
    cloudfront: () => cloudfront,
    sleep: realSleep,
    now: realClock,
    reporter,
    runId: `${process.env.GITHUB_RUN_ID ?? Date.now()}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`,
    where: repo && run ? `${server ?? 'https://github.com'}/${repo}/actions/runs/${run}` : `pid ${process.pid}`,
    locks,
    releaseId: releaseIdFor(process.env.GITHUB_SHA ?? '', new Date()),
    who: {
      commit: process.env.GITHUB_SHA ?? '',
      ...(process.env.GITHUB_ACTOR ? { actor: process.env.GITHUB_ACTOR } : {}),
      ...(run ? { runId: run } : {}),
    },
  };
  const planPath = join(process.env.RUNNER_TEMP ?? process.cwd(), 'deploy-static-plan.json');
  const savePlan = (plan: unknown) => {
    mkdirSync(join(planPath, '..'), { recursive: true });
    writeFileSync(planPath, `${JSON.stringify(plan, null, 2)}\n`);
  };
  // An unreadable record stops every run before any write; repair-record rebuilds it first, then the run goes on.
  const repaired = inputs.repairRecord ? repairMarkdown(await repairAll(inputs, deps)) : '';
  if (inputs.purge.length > 0) {
    const plans = await planPurgeAll(inputs, deps);
    if (inputs.dryRun)
      reporter.info(
        `dry-run: nothing was written. Would purge: ${plans.flatMap((p) => [...p.live, ...p.snapshots]).join(' ') || 'nothing'}`,
      );
    else await applyPurgeAll(plans, inputs, deps);
    savePlan({
      dryRun: inputs.dryRun,
      purge: plans.map((p) => ({
        bucket: p.target.bucket,
        prefix: p.target.prefix,
        paths: p.rels,
        live: p.live,
        snapshots: p.snapshots,
        invalidation: p.invalidation ?? null,
      })),
    });
    for (const [name, value] of Object.entries({
      uploaded: 0,
      'metadata-updated': 0,
      unchanged: 0,
      'bytes-uploaded': 0,
      'release-id': '',
      'previous-release-id': '',
    }))
      reporter.setOutput(name, value);
    reporter.setOutput('deleted', inputs.dryRun ? 0 : plans.reduce((n, p) => n + p.live.length + p.snapshots.length, 0));
    setInvalidationOutputs(plans, planPath);
    appendSummary(repaired + purgeMarkdown(plans, inputs.dryRun));
    return;
  }
  if (inputs.rollbackTo !== undefined) {
    // Restore a recorded release; no source, no upload.
    const plans = await planRollbackAll(inputs, deps);
    if (inputs.dryRun) {
      for (const p of plans) {
        const rels = changedRels(p);
        if (p.target.distributionId && inputs.invalidate !== 'none' && rels.length > 0)
          p.invalidation =
            inputs.invalidate === 'all' ? { paths: ['/*'] } : planInvalidation(rels, { maxPaths: inputs.invalidationMaxPaths });
      }
      reporter.info(`dry-run: nothing was written. Plan: ${planPath}`);
      reporter.info(JSON.stringify(rollbackJson(plans, true), null, 2));
    } else {
      try {
        await applyRollbackAll(plans, inputs, deps);
      } finally {
        savePlan(rollbackJson(plans, inputs.dryRun));
      }
    }
    if (inputs.dryRun) savePlan(rollbackJson(plans, true));
    reporter.setOutput('uploaded', 0);
    reporter.setOutput(
      'metadata-updated',
      plans.reduce((n, p) => n + p.restores.length, 0),
    );
    reporter.setOutput(
      'deleted',
      plans.reduce((n, p) => n + p.deletes.length, 0),
    );
    reporter.setOutput(
      'unchanged',
      plans.reduce((n, p) => n + p.unchanged, 0),
    );
    reporter.setOutput('bytes-uploaded', 0);
    setInvalidationOutputs(plans, planPath);
    reporter.setOutput('release-id', [...new Set(plans.map((p) => p.recorded?.release.id ?? p.release.id))].join(','));
    reporter.setOutput(
      'previous-release-id',
      [...new Set(plans.map((p) => p.recorded?.previous ?? p.manifest.releases?.at(-1)?.id).filter(Boolean))].join(','),
    );
    appendSummary(repaired + rollbackMarkdown(plans, inputs.dryRun));
    return;
  }
  const results = await planAll(inputs, deps);
  // Read every distribution's config before the first write: a wrong distribution-id fails the run here.
  for (const r of results) await attachDistributionView(r, inputs, deps);
  const writePlan = () => savePlan(planJson(results, inputs.dryRun));
  if (inputs.dryRun) {
    for (const r of results) {
      const inv = plannedInvalidation(r, inputs);
      if (inv) r.invalidation = inv;
    }
    writePlan();
    reporter.info(`dry-run: nothing was written. Plan: ${planPath}`);
    reporter.info(JSON.stringify(planJson(results, true), null, 2));
  } else {
    try {
      await applyAll(results, inputs, deps);
    } finally {
      writePlan();
    }
  }
  const t = totals(results);
  reporter.setOutput('uploaded', t.uploaded);
  reporter.setOutput('metadata-updated', t.metadataUpdated);
  reporter.setOutput('deleted', t.deleted);
  reporter.setOutput('unchanged', t.unchanged);
  reporter.setOutput('bytes-uploaded', t.bytesUploaded);
  setInvalidationOutputs(results, planPath);
  // A run that changed nothing records no release; the live one is reported.
  // From the head: a run that changed nothing read no release file list.
  const live = (r: (typeof results)[number]) => r.release?.release.id ?? r.store.releaseList().at(-1)?.id;
  const before = (r: (typeof results)[number]) => (r.release ? r.release.previous : r.store.releaseList().at(-2)?.id);
  reporter.setOutput('release-id', [...new Set(results.map(live).filter(Boolean))].join(','));
  reporter.setOutput('previous-release-id', [...new Set(results.map(before).filter(Boolean))].join(','));
  appendSummary(repaired + summaryMarkdown(results, inputs.dryRun));
});
