/**
 * Recording a release (releases.ts recordRelease) at its edges, against the in-memory S3 of the oracle: the file
 * list in path order, which files are copied and how, when snapshot folders are listed and pruned, and what the log
 * and the record then say.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { Release } from '../../actions/deploy-static/record.js';
import { recordRelease } from '../../actions/deploy-static/releases.js';
import { ASSET, base, entries, md5, recordOf, site, snapshotted } from './record-release-fixture.js';

describe('recordRelease at its edges', () => {
  /** The S3 of `site`, counting the commands sent by name and keeping each CopyObject's input. */
  function counted(s3: S3Client) {
    const sent: string[] = [];
    const copies: Record<string, unknown>[] = [];
    const wrapped = {
      send: async (c: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push(c.constructor.name);
        if (c.constructor.name === 'CopyObjectCommand') copies.push(c.input);
        return s3.send(c as never);
      },
    } as unknown as S3Client;
    return { wrapped, sent, copies };
  }

  it('lists its files in path order, whatever order the entries came in (the same release, the same file list)', async () => {
    const { s3, store } = site({});
    const shuffled = { 'z.txt': 'z1', 'index.html': 'i1', 'a/b.css': 'b1' };
    await store.write({ version: 2, entries: entries(shuffled) });
    const r = await recordRelease(s3, store, base());
    expect(Object.keys(r!.release.files)).toEqual(['a/b.css', 'index.html', 'z.txt']);
  });

  it('copies no fingerprinted asset whose headers changed, and copies the others with their headers (MetadataDirective COPY)', async () => {
    const { s3, store, keys } = site({ 'index.html': '<2>', [ASSET]: 'js' });
    const prev: Release = { id: 'r1', commit: 'c', at: 'x', kind: 'deploy', files: entries({ 'index.html': 'i1', [ASSET]: 'j1' }) };
    await store.write({
      version: 2,
      entries: { ...entries({ 'index.html': 'i2' }), [ASSET]: { etag: 'j1', md5: md5('a'), headers: 'h2' } },
      releases: [prev],
    });
    const { wrapped, copies } = counted(s3);
    const r = await recordRelease(wrapped, store, base({ id: 'r2' }));
    expect(r!.snapshots).toBe(1);
    expect(r!.release.files[ASSET]).toEqual({ etag: 'j1', md5: md5('a'), headers: 'h2' });
    expect(keys().filter((k) => k.includes('/releases/'))).toEqual(['app/.deploy-static/releases/r2/index.html']);
    expect(copies).toEqual([expect.objectContaining({ Key: 'app/.deploy-static/releases/r2/index.html', MetadataDirective: 'COPY' })]);
  });

  it('a release that copies and prunes nothing does not list the snapshot folders (a leftover copy stays)', async () => {
    const { s3, store, put, keys } = site({ 'index.html': '<1>' });
    const prev: Release = { id: 'r1', commit: 'c', at: 'x', kind: 'deploy', files: entries({ 'index.html': 'i1' }) };
    await store.write({ version: 2, entries: entries({ 'index.html': 'i1' }), releases: [prev] });
    put('.deploy-static/releases/orphan/index.html', 'o');
    const { wrapped, sent } = counted(s3);
    const r = await recordRelease(wrapped, store, base({ id: 'r2' }));
    expect(r).toMatchObject({ pruned: [], snapshots: 0 });
    expect(sent.filter((n) => n.startsWith('List'))).toEqual([]);
    expect(keys()).toContain('app/.deploy-static/releases/orphan/index.html');
  });

  it('a copy left by a failed run is pruned once a release copies: "none recorded" when no release was pruned', async () => {
    const { s3, store, put, keys } = site({ 'index.html': '<2>' });
    const prev: Release = { id: 'r1', commit: 'c', at: 'x', kind: 'deploy', files: entries({ 'index.html': 'i1' }) };
    await store.write({ version: 2, entries: entries({ 'index.html': 'i2' }), releases: [prev] });
    put('.deploy-static/releases/orphan/index.html', 'o');
    const opts = base({ id: 'r2' });
    expect(await recordRelease(s3, store, opts)).toMatchObject({ pruned: [], snapshots: 1 });
    expect(keys().filter((k) => k.includes('/releases/'))).toEqual(['app/.deploy-static/releases/r2/index.html']);
    expect(opts.lines.at(-1)).toBe('pruned 1 snapshot copies of releases older than keep-releases (none recorded)');
  });

  it('names every pruned release, and leaves no pending key behind when the base had none', async () => {
    const { s3, store, put, keys } = site({ 'index.html': '<3>', 'old.txt': 'o' });
    await store.write({ version: 2, entries: entries({ 'index.html': 'e-r3' }), releases: [snapshotted('r1'), snapshotted('r2')] });
    for (const id of ['r1', 'r2']) put(`.deploy-static/releases/${id}/index.html`, id);
    const opts = base({ id: 'r3', keep: 1, afterRecord: ['app/old.txt'] });
    expect(await recordRelease(s3, store, opts)).toMatchObject({ pruned: ['r1', 'r2'] });
    expect(keys().filter((k) => !k.includes('.deploy-static'))).toEqual(['app/index.html']);
    expect(recordOf(store)).not.toHaveProperty('pending');
    expect(opts.lines).toEqual([
      'deleted 1 objects only the pruned releases (r1, r2) used, now that the record no longer lists them',
      'pruned 2 snapshot copies of releases older than keep-releases (r1, r2)',
    ]);
  });
});
