/**
 * Demo step: deploy examples/delivery-app/site to the test site bucket and
 * invalidate its distribution (assets, then HTML, then the invalidation), then
 * run it again on a "fresh checkout" (every mtime new) to show 0 uploads and
 * no invalidation. Scenario empty-build: the build wrote nothing; the action
 * refuses before any write instead of deleting the site.
 */
import { mkdirSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoStep } from '../context.js';

function touchAll(dir: string): void {
  const now = new Date();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) touchAll(path);
    else utimesSync(path, now, now);
  }
}

const step: DemoStep = {
  action: 'deploy-static',
  title: 'Deploy the static site to S3 + CloudFront (content hashes, headers, ordered, minimal invalidation)',
  scenarios: {
    'empty-build': 'the frontend build wrote nothing; deploy-static refuses before any write instead of wiping the site',
  },
  async run(ctx) {
    const bucket = ctx.names.bucket.test;
    const distribution = ctx.names.distribution.test;
    if (ctx.scenario === 'empty-build') {
      const empty = join(ctx.workspace, 'empty-dist');
      mkdirSync(empty, { recursive: true });
      ctx.log('Scenario empty-build: source points at an empty folder (the build step failed silently).');
      await ctx.runAction('deploy-static', {
        label: `deploy an empty build to s3://${bucket}`,
        inputs: { source: empty, bucket, 'distribution-id': distribution },
        expectFailure: true,
      });
      ctx.halt('deploy-static refused an empty build; the site was not touched');
      return;
    }
    const inputs = {
      source: ctx.paths.site,
      bucket,
      'distribution-id': distribution,
      'wait-for-invalidation': true,
      'wait-timeout-seconds': 60,
    };
    const first = await ctx.runAction('deploy-static', { label: `deploy site to s3://${bucket} + ${distribution}`, inputs });
    ctx.log(
      `uploaded=${first.outputs.uploaded}, bytes=${first.outputs['bytes-uploaded']}, invalidation=${first.outputs['invalidation-id']} (${first.outputs['invalidation-paths']} paths)`,
    );

    ctx.log('', 'Deploy again after a fresh checkout (every file has a new mtime; aws s3 sync would re-upload all of them).');
    touchAll(ctx.paths.site);
    const before = ctx.emu.counts();
    const again = await ctx.runAction('deploy-static', {
      label: `re-deploy site to s3://${bucket} (unchanged)`,
      inputs,
      showSummary: false,
    });
    const after = ctx.emu.counts();
    const delta = (op: string) => (after[op] ?? 0) - (before[op] ?? 0);
    ctx.log(
      `uploaded=${again.outputs.uploaded}, unchanged=${again.outputs.unchanged}; S3 PutObject: ${delta('S3.PutObject')}, HeadObject: ${delta('S3.HeadObject')}, CreateInvalidation: ${delta('CloudFront.CreateInvalidation')}`,
    );
  },
};

export default step;
