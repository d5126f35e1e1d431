import { describe, expect, it } from 'vitest';
import type { TargetResult } from '../../actions/deploy-static/deploy.js';
import { desiredFiles, planTarget, type PlanOptions } from '../../actions/deploy-static/plan.js';
import { mapLimit } from '../../lib/pool.js';
import { planJson, summaryMarkdown, totals } from '../../actions/deploy-static/summary.js';

const opts: PlanOptions = {
  prefix: 'app/',
  preset: 'static',
  rules: [],
  delete: 'true',
  stateRel: '.deploy-static/',
  excluded: () => false,
};
const files = desiredFiles(
  [
    { rel: 'index.html', abs: '/s/index.html', size: 2048, md5: 'a'.repeat(32) },
    { rel: 'assets/app.1a2b3c.js', abs: '/s/a.js', size: 5 * 1024 * 1024, md5: 'b'.repeat(32) },
  ],
  opts,
);
const plan = planTarget(
  files,
  [
    { key: 'app/old.css', etag: '"c"', size: 1 },
    { key: 'app/index.html', etag: `"${'d'.repeat(32)}"`, size: 2048 },
  ],
  { version: 2, entries: {}, pending: ['old.css'] },
  opts,
  new Map([['index.html', { md5: 'd'.repeat(32), headers: 'other' }]]),
);
const result: TargetResult = {
  target: { bucket: 'site', prefix: 'app/', distributionId: 'E1' },
  plan,
  invalidation: { paths: ['/', '/index.html', '/assets/app.1a2b3c.js', '/old.css'] },
  invalidationId: 'I1',
  bytesUploaded: 0,
  files,
  store: undefined as never,
};

describe('outputs and summary', () => {
  it('totals what was written over all targets', () => {
    expect(totals([result, result])).toEqual({
      uploaded: 4,
      metadataUpdated: 0,
      deleted: 2,
      unchanged: 0,
      bytesUploaded: 2 * (2048 + 5 * 1024 * 1024),
      invalidationPaths: 8,
    });
  });

  it('writes a plan with reasons, headers and phases', () => {
    const json = planJson([result], true) as { dryRun: boolean; targets: { uploads: unknown[]; deletes: string[] }[] };
    expect(json.dryRun).toBe(true);
    expect(json.targets[0]!.uploads).toEqual([
      {
        key: 'app/index.html',
        reason: 'content',
        size: 2048,
        contentType: 'text/html; charset=utf-8',
        cacheControl: 'no-cache',
        phase: 'entry',
      },
      {
        key: 'app/assets/app.1a2b3c.js',
        reason: 'new',
        size: 5 * 1024 * 1024,
        contentType: 'text/javascript; charset=utf-8',
        cacheControl: 'public, max-age=31536000, immutable',
        phase: 'asset',
      },
    ]);
    expect(json.targets[0]!.deletes).toEqual(['app/old.css']);
  });

  it('summarises counts, bytes, the largest changes and the invalidation against the free paths', () => {
    const md = summaryMarkdown([result], false);
    expect(md).toContain('| s3://site/app/ | 2 | 0 | 1 | 0 | 5.0 MiB | I1: 4 paths |');
    expect(md.indexOf('`app/assets/app.1a2b3c.js`')).toBeLessThan(md.indexOf('`app/index.html`'));
    expect(md).toContain('Invalidation paths this run: 4');
    expect(summaryMarkdown([result], true)).toContain('dry run: nothing written');
  });
});

describe('bounded concurrency', () => {
  it('never runs more than the limit at once and keeps order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('stops starting work after a failure and rethrows it once in-flight calls settle', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});
