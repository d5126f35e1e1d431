/**
 * Planning a deploy (deploy.ts planAll / planOne) in-process, at the edges of the no-op check: what the record's
 * head alone settles and what it does not (a pending invalidation, no release, a key to HEAD, a foreign key), the
 * plan again under the lock, another run rewriting the record meanwhile, and what the log and the delete guard see.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import { planAll, planOne } from '../../actions/deploy-static/deploy.js';
import { desiredFiles } from '../../actions/deploy-static/plan.js';
import { RecordStore } from '../../actions/deploy-static/record-store.js';
import { bookkeeping } from '../../actions/deploy-static/releases.js';
import { listRemote } from '../../actions/deploy-static/s3.js';
import { scanSource } from '../../actions/deploy-static/scan.js';
import { stateRel } from '../../actions/deploy-static/state.js';
import type { MemoryS3 } from './oracle/memory-s3.js';
import { countState, putKey, removeSources, setup, SITE, source } from './deploy-plan-fixture.js';

afterEach(removeSources);

describe('planAll: what settles a run, and what the log and the guard see', () => {
  const HEAD_KEY = 'app/.deploy-static/manifest.json';
  /** The record's head as stored, changed by `edit`, written back (as another version of this action might leave it). */
  function editHead(mem: MemoryS3, edit: (head: Record<string, unknown>) => void): void {
    const head = JSON.parse(mem.objects.get(HEAD_KEY)!.body.toString()) as Record<string, unknown>;
    edit(head);
    putKey(mem, HEAD_KEY, JSON.stringify(head));
  }

  it('honours exclude while scanning the source', async () => {
    const { deps, inputs } = setup();
    const [res] = await planAll(inputs(source(SITE), { exclude: ['robots.txt'] }), deps);
    expect(res!.files.map((f) => f.rel).sort()).toEqual(['about.html', 'assets/app-Ab3dEf9h.js', 'index.html']);
  });

  it('a pending invalidation in the head is a write: the head alone does not settle the run', async () => {
    const { deps, inputs, deploy, mem } = setup();
    const src = source(SITE);
    await deploy(src);
    editHead(mem, (h) => {
      h.pending = ['app/index.html'];
    });
    const [res] = await planAll(inputs(src), deps);
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.manifest?.pending).toEqual(['app/index.html']);
  });

  it('a head without releases is not settled by the head: this run records the first release', async () => {
    const { deps, inputs, deploy, mem } = setup();
    const src = source(SITE);
    await deploy(src);
    editHead(mem, (h) => {
      delete h.releases;
    });
    const [res] = await planAll(inputs(src), deps);
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.manifest?.releases).toBeUndefined();
    expect(res!.plan.unchanged).toHaveLength(4);
  });

  it('a new file and a foreign key deleted (delete: all) are not settled by the head', async () => {
    const { deps, inputs, deploy, mem } = setup();
    await deploy(source(SITE));
    putKey(mem, 'app/stray.txt', 'x');
    const [res] = await planAll(inputs(source({ ...SITE, 'new.html': 'n' }), { delete: 'all' }), deps);
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.plan.uploads.map((o) => o.file.rel)).toEqual(['new.html']);
    expect(res!.plan.deletes).toEqual(['app/stray.txt']);
  });

  it('a key to HEAD and a foreign key are not settled by the head, and fewer than ten foreign keys are named without "…"', async () => {
    const { deps, reporter, inputs, deploy, mem } = setup();
    await deploy(source(SITE));
    putKey(mem, 'app/stray.txt', 'x');
    // Same size as the new local file, not in the record: only a HEAD can tell.
    putKey(mem, 'app/new.html', 'm');
    reporter.lines.length = 0;
    const [res] = await planAll(inputs(source({ ...SITE, 'new.html': 'n' })), deps);
    expect(res!.unchangedByHead).toBeUndefined();
    expect(res!.plan.uploads.map((o) => [o.file.rel, o.reason])).toEqual([['new.html', 'content']]);
    expect(reporter.lines).toContain(
      '1 objects under the prefix are not in source and were not written by this action; left in place (delete: all removes them): app/stray.txt',
    );
    // Ten foreign keys in all (new.html is foreign too now): each named, no "…".
    for (let i = 0; i < 8; i++) putKey(mem, `app/other/${i}.txt`, 'o');
    reporter.lines.length = 0;
    await planAll(inputs(source(SITE)), deps);
    const line = reporter.lines.find((l) => l.startsWith('10 objects under the prefix'));
    expect(line).toMatch(/app\/stray\.txt$/);
  });

  it('says nothing of HEADs, kept assets or foreign keys when there are none', async () => {
    const { deps, reporter, inputs, deploy } = setup();
    await deploy(source(SITE));
    reporter.lines.length = 0;
    const [res] = await planAll(inputs(source({ ...SITE, 'index.html': '<h1>2</h1>' })), deps);
    expect(res!.plan.uploads.map((o) => o.file.rel)).toEqual(['index.html']);
    expect(reporter.lines.filter((l) => /^HEAD |assets no longer in source|not in source and were not written/.test(l))).toEqual([]);
  });

  it('deletes a page gone from source while it keeps the asset of a kept release, and counts each right', async () => {
    const { deps, reporter, inputs, deploy } = setup();
    await deploy(source(SITE));
    const next = { ...SITE } as Record<string, string>;
    delete next['about.html'];
    delete next['assets/app-Ab3dEf9h.js'];
    reporter.lines.length = 0;
    const [res] = await planAll(inputs(source(next), { forceDelete: true }), deps);
    expect(res!.plan.deletes).toEqual(['app/about.html']);
    expect(res!.lost!.slice().sort()).toEqual(['app/about.html', 'app/assets/app-Ab3dEf9h.js']);
    expect(reporter.lines).toContain('1 assets no longer in source are kept: the last 5 releases reference them');
  });

  it('the delete guard counts a kept asset gone from source, not only the deletes', async () => {
    const { deps, inputs, deploy } = setup();
    await deploy(source(SITE));
    const next = { ...SITE } as Record<string, string>;
    delete next['assets/app-Ab3dEf9h.js'];
    const err = await planAll(inputs(source(next), { maxDeleteCount: 0 }), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as Error).message).toMatch(/s3:\/\/site\/app\/: the plan deletes 1 objects, more than max-delete-count \(0\)/);
  });

  it('a release file list gone from the bucket makes the record unreadable: nothing is planned', async () => {
    const { deps, inputs, deploy, mem } = setup();
    await deploy(source(SITE));
    for (const k of [...mem.objects.keys()]) if (k.startsWith('app/.deploy-static/record/')) mem.objects.delete(k);
    await expect(planAll(inputs(source({ ...SITE, 'index.html': '<h1>2</h1>' })), deps)).rejects.toThrow(
      /The deploy record .* is unreadable: the file list of release r1, .* is missing/,
    );
  });

  it('a store already read whole (the plan again under the lock) plans from the whole record, not the head', async () => {
    const { deps, inputs, deploy, mem, s3 } = setup();
    const src = source(SITE);
    await deploy(src);
    const target = { bucket: 'site', prefix: 'app/' };
    const store = new RecordStore(s3, target);
    await store.read();
    const i = inputs(src);
    const files = desiredFiles(await scanSource(src), { prefix: 'app/', preset: 'static', rules: [], stateRel: stateRel(target) });
    const res = await planOne(target, files, store, await listRemote(s3, 'site', 'app/', bookkeeping(store)), i, deps);
    expect(res.unchangedByHead).toBeUndefined();
    expect(res.manifest?.releases?.map((r) => r.id)).toEqual(['r1']);
    expect(res.plan.unchanged).toHaveLength(mem.objects.size - countState(mem));
  });

  it('lists the bucket again when another run rewrote the record between the head and the release file lists', async () => {
    const { deps, inputs, deploy, mem } = setup();
    await deploy(source(SITE));
    const next = source({ ...SITE, 'new.html': 'n' });
    let raced = false;
    // The other run deploys `next` (keeping one release: the file list read here is gone) just before this run reads it.
    const s3 = {
      send: async (c: { input: Record<string, unknown> }) => {
        if (!raced && String(c.input.Key).startsWith('app/.deploy-static/record/')) {
          raced = true;
          await deploy(next, { keepReleases: 1 });
        }
        return mem.apply(c);
      },
    } as unknown as S3Client;
    const [res] = await planAll(inputs(next), { ...deps, s3 });
    expect(raced).toBe(true);
    expect(res!.plan.uploads).toEqual([]);
    expect(res!.plan.unchanged.map((f) => f.rel)).toContain('new.html');
  });
});
