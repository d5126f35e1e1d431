import { describe, expect, it } from 'vitest';
import type { ActionError } from '../../lib/errors.js';
import { stateExposure, type DistributionView } from '../../actions/deploy-static/distribution.js';
import { getInputs } from '../../actions/deploy-static/inputs.js';
import { planTarget, type PlanOptions } from '../../actions/deploy-static/plan.js';
import { lockKey, recordKey, snapshotKey, stateOf, stateRel, withState } from '../../actions/deploy-static/state.js';

const inputs = (extra: Record<string, string>) => (name: string) =>
  ({ source: 'dist', bucket: 'web', prefix: 'app', ...extra })[name] ?? '';

describe('state location', () => {
  it('defaults to <prefix>.deploy-static/ in the site bucket, inside what the site lists', () => {
    const t = { bucket: 'web', prefix: 'app/' };
    expect(stateOf(t)).toEqual({ bucket: 'web', prefix: 'app/.deploy-static/' });
    expect(recordKey(stateOf(t))).toBe('app/.deploy-static/manifest.json');
    expect(lockKey(stateOf(t))).toBe('app/.deploy-static/lock.json');
    expect(snapshotKey(stateOf(t), 'r1', 'index.html')).toBe('app/.deploy-static/releases/r1/index.html');
    expect(stateRel(t)).toBe('.deploy-static/');
  });

  it('state-bucket and state-prefix move every key of the state; the site listing no longer holds it', () => {
    const [t] = getInputs(inputs({ 'state-bucket': 'web-state', 'state-prefix': '/sites/web/' })).targets;
    expect(stateOf(t!)).toEqual({ bucket: 'web-state', prefix: 'sites/web/' });
    expect(recordKey(stateOf(t!))).toBe('sites/web/manifest.json');
    expect(stateRel(t!)).toBeUndefined();
    // state-bucket alone keeps the default folder name, in the other bucket.
    const [u] = getInputs(inputs({ 'state-bucket': 'web-state' })).targets;
    expect(stateOf(u!)).toEqual({ bucket: 'web-state', prefix: 'app/.deploy-static/' });
    // Same bucket, outside the prefix: not in the site listing either.
    const [v] = getInputs(inputs({ 'state-prefix': 'state' })).targets;
    expect(stateRel(v!)).toBeUndefined();
  });

  it.each([
    [{ 'state-bucket': 's3://web-state' }, 'state-bucket', /not an S3 bucket name/],
    [{ 'state-bucket': 'Web_State' }, 'state-bucket', /not an S3 bucket name/],
    [{ 'state-prefix': '/' }, 'state-prefix', /at least one folder name/],
    [{ 'state-prefix': 'a/../b' }, 'state-prefix', /'\.\.'/],
    [{ 'state-prefix': 'a//b' }, 'state-prefix', /empty/],
    // The site app/ would sit inside the state folder: its record and snapshots would be site keys.
    [{ 'state-prefix': '' }, undefined, undefined],
  ])('%o: %s is refused with its fix', (extra, input, message) => {
    if (!input) {
      expect(() => getInputs(inputs(extra))).not.toThrow();
      return;
    }
    let err: ActionError | undefined;
    try {
      getInputs(inputs(extra));
    } catch (e) {
      err = e as ActionError;
    }
    expect(err?.message).toMatch(message!);
    const first = err?.problems[0] ?? err;
    expect(first?.location.input).toBe(input);
    expect(first?.fix).toBeTruthy();
  });

  it('refuses a state folder that contains a site, or that two targets share', () => {
    expect(() => withState([{ bucket: 'web', prefix: 'app/' }], { prefix: 'ap' })).not.toThrow();
    expect(() => withState([{ bucket: 'web', prefix: 'app/sub/' }], { prefix: 'app' })).toThrow(/contains the site s3:\/\/web\/app\/sub\//);
    // Inside the site is allowed: that folder is reserved, as `.deploy-static/` is.
    expect(stateRel(withState([{ bucket: 'web', prefix: '' }], { prefix: 'state' })[0]!)).toBe('state/');
    expect(() =>
      withState(
        [
          { bucket: 'a', prefix: 'x/' },
          { bucket: 'b', prefix: 'x/' },
        ],
        { bucket: 'state' },
      ),
    ).toThrow(/Targets 1 and 2 would keep their state in the same place/);
    expect(
      withState(
        [
          { bucket: 'a', prefix: 'x/' },
          { bucket: 'a', prefix: 'y/' },
        ],
        { bucket: 'state' },
      ).map((t) => stateOf(t).prefix),
    ).toEqual(['x/.deploy-static/', 'y/.deploy-static/']);
  });

  it('the site plan leaves the state folder alone only when it is under the prefix', () => {
    const base: PlanOptions = {
      prefix: '',
      preset: 'static',
      rules: [],
      delete: 'all',
      stateRel: '.deploy-static/',
      excluded: () => false,
    };
    const remote = [{ key: '.deploy-static/manifest.json', etag: '"e"', size: 1 }];
    expect(planTarget([], remote, undefined, base).deletes).toEqual([]);
    // With the state elsewhere, a `.deploy-static/` folder is an ordinary foreign key (delete: all removes it).
    expect(planTarget([], remote, undefined, { ...base, stateRel: undefined }).deletes).toEqual(['.deploy-static/manifest.json']);
  });

  it('warns about exposure only when the distribution serves the state folder', () => {
    const view = { viewerPaths: (rel: string) => [`/${rel}`] } as unknown as DistributionView;
    const site = { bucket: 'web', prefix: 'app/', distributionId: 'E1' };
    expect(stateExposure(view, site)).toMatch(
      /serves the deploy record, lock and release snapshots in s3:\/\/web\/app\/\.deploy-static\/ at \/\.deploy-static\/manifest\.json.*arn:aws:s3:::web\/app\/\.deploy-static\/\*/,
    );
    expect(stateExposure(view, { ...site, state: { bucket: 'web-state', prefix: 'app/' } })).toBeUndefined();
    expect(stateExposure(view, { ...site, state: { bucket: 'web', prefix: 'state/' } })).toBeUndefined();
  });
});
