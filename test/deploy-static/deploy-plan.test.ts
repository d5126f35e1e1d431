/**
 * Planning a deploy (deploy.ts planAll / planOne) against the in-memory S3 of the oracle, in-process:
 * what each target's plan is, when the record's head alone settles a no-op, the delete guard across
 * targets, assets kept for older releases, and what the log says. The writes (applyAll) only set up
 * the bucket a later plan reads.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import { memoryReporter } from '../../lib/report.js';
import { formatBytes, planAll, planEveryTarget } from '../../actions/deploy-static/deploy.js';
import { countState, putKey, removeSources, setup, SITE, source } from './deploy-plan-fixture.js';

afterEach(removeSources);

describe('planAll', () => {
  it('a cold bucket: every file is new, nothing lost, and the log says what it found', async () => {
    const { deps, reporter, inputs } = setup();
    const [res] = await planAll(inputs(source(SITE)), deps);
    expect(res!.plan.uploads.map((o) => [o.file.rel, o.reason]).sort()).toEqual([
      ['about.html', 'new'],
      ['assets/app-Ab3dEf9h.js', 'new'],
      ['index.html', 'new'],
      ['robots.txt', 'new'],
    ]);
    expect(res).toMatchObject({ target: { bucket: 'site', prefix: 'app/' }, bytesUploaded: 0, lost: [] });
    expect(res!.manifest).toBeUndefined();
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.files.map((f) => f.key).sort()).toEqual([
      'app/about.html',
      'app/assets/app-Ab3dEf9h.js',
      'app/index.html',
      'app/robots.txt',
    ]);
    expect(reporter.lines).toContain('::group::Scan source');
    expect(reporter.lines).toContain('::group::Plan s3://site/app/');
    expect(reporter.lines.find((l) => / files, /.test(l))).toMatch(/^4 files, 26 B in /);
    expect(reporter.lines).toContain('0 objects in the bucket: upload 4, update headers 0, delete 0, unchanged 0');
  });

  it('the same build again: settled by the record head alone, no release file list read', async () => {
    const { deps, reporter, inputs, deploy, mem } = setup();
    const src = source(SITE);
    await deploy(src);
    reporter.lines.length = 0;
    const [res] = await planAll(inputs(src), deps);
    expect(res).toMatchObject({ unchangedByHead: true, lost: [], bytesUploaded: 0 });
    expect(res!.plan.unchanged).toHaveLength(4);
    expect(res!.store.loaded).toBe(false);
    expect(reporter.lines).toContain(
      `${mem.objects.size - countState(mem)} objects in the bucket: nothing to change (the record's head settles every file)`,
    );
  });

  it('a record naming a file gone from both source and bucket is not settled by the head: the record is read (and rewritten)', async () => {
    const { deps, inputs, deploy, mem } = setup();
    await deploy(source(SITE));
    // robots.txt removed by hand from the bucket, and from the build: nothing to upload, copy or delete, yet
    // the record still has its entry, so the run must write a record without it.
    mem.objects.delete('app/robots.txt');
    const without = { ...SITE } as Record<string, string>;
    delete without['robots.txt'];
    const [res] = await planAll(inputs(source(without)), deps);
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.store.loaded).toBe(true);
    expect(res!.manifest?.entries['robots.txt']).toBeDefined();
    expect([res!.plan.uploads, res!.plan.copies, res!.plan.deletes, res!.plan.unchanged.length]).toEqual([[], [], [], 3]);
  });

  it('a changed build reads the record and plans the change; assets of kept releases stay, but the guard counts them', async () => {
    const { deps, reporter, inputs, deploy } = setup();
    await deploy(source(SITE));
    const next = { ...SITE, 'index.html': '<h1>2</h1>', 'assets/app-Zy8xWv1u.js': 'js2' } as Record<string, string>;
    delete next['assets/app-Ab3dEf9h.js'];
    const src = source(next);
    reporter.lines.length = 0;
    const [res] = await planAll(inputs(src), deps);
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.manifest?.releases?.map((r) => r.id)).toEqual(['r1']);
    expect(res!.plan.uploads.map((o) => [o.file.rel, o.reason]).sort()).toEqual([
      ['assets/app-Zy8xWv1u.js', 'new'],
      ['index.html', 'content'],
    ]);
    // The old asset stays live for release r1 (kept), yet it is gone from this build: the guard counts it.
    expect(res!.plan.deletes).toEqual([]);
    expect(res!.lost).toEqual(['app/assets/app-Ab3dEf9h.js']);
    expect(reporter.lines).toContain('1 assets no longer in source are kept: the last 5 releases reference them');
    // keep-releases 1: nothing older is kept, the asset is deleted.
    const [one] = await planAll(inputs(src, { keepReleases: 1 }), deps);
    expect(one!.plan.deletes).toEqual(['app/assets/app-Ab3dEf9h.js']);
    expect(one!.lost).toEqual(['app/assets/app-Ab3dEf9h.js']);
  });

  it('an asset a kept release still uses is not counted again once it left the live release', async () => {
    const { deps, inputs, deploy } = setup();
    await deploy(source(SITE));
    const without = { ...SITE } as Record<string, string>;
    delete without['assets/app-Ab3dEf9h.js'];
    await deploy(source(without));
    const [res] = await planAll(inputs(source(without)), deps);
    // A key outside the build (the kept asset) means the head alone cannot settle the run.
    expect([res!.unchangedByHead, res!.lost, res!.plan.deletes]).toEqual([undefined, [], []]);
    const [changed] = await planAll(inputs(source({ ...without, 'robots.txt': 'r2' })), deps);
    expect(changed!.lost).toEqual([]);
    expect(changed!.plan.deletes).toEqual([]);
  });

  it('stops every target before any write when the delete guard stops one, naming each', async () => {
    const { deps, inputs, deploy } = setup();
    await deploy(source(SITE));
    await deploy(source(SITE), { targets: [{ bucket: 'site', prefix: 'b/' }] });
    const small = source({ 'index.html': 'x' });
    const targets = [
      { bucket: 'site', prefix: 'app/' },
      { bucket: 'site', prefix: 'b/' },
    ];
    const err = await planAll(inputs(small, { targets, maxDeleteCount: 2, keepReleases: 1 }), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as Error).message).toMatch(/^Refusing to deploy: the delete guard stopped the run before any write/);
    expect(String((err as ActionError).problems.map((p) => p.message))).toMatch(
      /s3:\/\/site\/app\/: the plan deletes 3 objects.*s3:\/\/site\/b\/: the plan deletes 3 objects/,
    );
    // force-delete lets it through.
    const ok = await planAll(inputs(small, { targets, maxDeleteCount: 2, keepReleases: 1, forceDelete: true }), deps);
    expect(ok.map((r) => r.plan.deletes.length)).toEqual([3, 3]);
  });

  it('refuses an unreadable record before planning, and names keys it must HEAD and keys it leaves alone', async () => {
    const { deps, reporter, inputs, mem, deploy } = setup();
    const src = source(SITE);
    putKey(mem, 'app/.deploy-static/manifest.json', '{not json');
    await expect(planAll(inputs(src), deps)).rejects.toThrow(
      /The deploy record s3:\/\/site\/app\/\.deploy-static\/manifest\.json is unreadable/,
    );
    mem.objects.clear();
    await deploy(source({ 'index.html': 'x' }));
    for (let i = 0; i < 11; i++) putKey(mem, `app/other/${String(i).padStart(2, '0')}.txt`, 'o');
    // Same size as the local file, not in the record: only a HEAD can tell.
    putKey(mem, 'app/robots.txt', 'r');
    reporter.lines.length = 0;
    const [res] = await planAll(inputs(src), deps);
    expect(reporter.lines).toContain(
      'HEAD 1 objects that the listing and record cannot settle (multipart, changed outside this action, or written by another tool)',
    );
    expect(res!.plan.unresolved).toEqual([]);
    expect(res!.plan.copies.map((o) => o.file.rel)).toEqual(['robots.txt']);
    expect(reporter.lines).toContain(
      '11 objects under the prefix are not in source and were not written by this action; left in place (delete: all removes them): ' +
        `${Array.from({ length: 10 }, (_, i) => `app/other/0${i}.txt`).join(' ')} …`,
    );
  });

  it('a missing source makes no AWS call', async () => {
    const { deps, inputs, mem } = setup();
    let calls = 0;
    const counting = {
      ...deps,
      s3: { send: async (c: { input: Record<string, unknown> }) => (calls++, mem.apply(c)) } as unknown as S3Client,
    };
    await expect(planAll(inputs(join(tmpdir(), 'no-such-build-folder')), counting)).rejects.toThrow(/does not exist/);
    expect(calls).toBe(0);
  });
});

describe('formatBytes and planEveryTarget', () => {
  it('formats bytes, KiB and MiB at their edges', () => {
    expect([0, 1023, 1024, 1536, 1024 * 1024 - 1, 1024 * 1024, 5 * 1024 * 1024].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '1024.0 KiB',
      '1.0 MiB',
      '5.0 MiB',
    ]);
  });

  it('plans every target, reports each, and collects every refusal before throwing', async () => {
    const reporter = memoryReporter();
    const targets = [
      { bucket: 'a', prefix: '' },
      { bucket: 'b', prefix: 'x/' },
      { bucket: 'c', prefix: '' },
    ];
    const plans = await planEveryTarget(
      targets,
      async (t) => t.bucket.toUpperCase(),
      (p) => `plan ${p}`,
      'Refusing',
      reporter,
    );
    expect(plans).toEqual(['A', 'B', 'C']);
    expect(reporter.lines).toEqual(['s3://a/: plan A', 's3://b/x/: plan B', 's3://c/: plan C']);
    const refusing = planEveryTarget(
      targets,
      async (t) => {
        if (t.bucket !== 'b') throw new ActionError(`no ${t.bucket}`);
        return 1;
      },
      String,
      'Refusing to roll back',
      reporter,
    );
    await expect(refusing).rejects.toMatchObject({
      message: expect.stringMatching(/^Refusing to roll back/),
      problems: [{ message: 'no a' }, { message: 'no c' }],
    });
    await expect(
      planEveryTarget(targets, async () => Promise.reject(new TypeError('bug')), String, 'Refusing', reporter),
    ).rejects.toBeInstanceOf(TypeError);
    // A bug is thrown as it is, not collected with the refusals.
    const bug = new TypeError('bug');
    await expect(
      planEveryTarget(
        targets,
        async (t) => {
          throw t.bucket === 'a' ? new ActionError('no a') : bug;
        },
        String,
        'Refusing',
        reporter,
      ),
    ).rejects.toBe(bug);
  });
});
