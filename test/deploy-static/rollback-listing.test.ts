/**
 * The rollback's site listing: kept releases leave their fingerprinted assets in the bucket beside
 * the live ones, so the ranges it lists side by side (s3.ts listRemote) are cut from the live keys
 * and the release's own. Cut from the live keys alone, each range spans two builds' keys and needs
 * a second page, asked for only when the first has come back.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterEach, expect, it } from 'vitest';
import { planRollbackAll } from '../../actions/deploy-static/rollback.js';
import { RANGE_KEYS } from '../../actions/deploy-static/s3.js';
import { removeSources, setup, source } from './deploy-plan-fixture.js';

afterEach(removeSources);

// More assets than one range holds, each renamed by the next build (a dependency bump).
const ASSETS = RANGE_KEYS + 100;
const build = (tag: string) => ({
  'index.html': `<p>${tag}</p>`,
  ...Object.fromEntries(
    Array.from({ length: ASSETS }, (_, i) => {
      // Distinct numbers, spread over the key space: the two builds share no name and interleave. The
      // leading letter keeps every hash a fingerprint (eight digits could be a date, fingerprint.ts).
      const hash = `a${((2 * i + (tag === 'A' ? 0 : 1)) * 40503).toString(16).padStart(7, '0')}`;
      return [`assets/chunk-${hash}.js`, `${tag} ${i}`];
    }),
  ),
});

it('lists the site in ranges of one page each when the release to restore has assets the live one does not', async () => {
  const { mem, deps, inputs, deploy } = setup();
  await deploy(source(build('A')));
  await deploy(source(build('B')));
  const lists: Record<string, unknown>[] = [];
  const s3 = {
    send: async (c: { input: Record<string, unknown> }) => {
      if (c instanceof ListObjectsV2Command) lists.push(c.input);
      return mem.apply(c);
    },
  } as unknown as S3Client;
  const [plan] = await planRollbackAll(inputs('', { rollbackTo: 'previous' }), { ...deps, s3 });
  // A's assets are still in the bucket (kept with release A): only the entry file comes back.
  expect(plan!.restores).toEqual(['index.html']);
  expect(plan!.unchanged).toBe(ASSETS);
  // Both builds' assets: three ranges of at most RANGE_KEYS known keys, listed at once, none continued.
  expect(lists.filter((l) => l.Prefix === 'app/').length).toBeGreaterThanOrEqual(3);
  expect(lists.filter((l) => l.ContinuationToken !== undefined)).toEqual([]);
});
