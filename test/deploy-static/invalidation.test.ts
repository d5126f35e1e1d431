import { describe, expect, it } from 'vitest';
import { MAX_FILE_PATHS_IN_PROGRESS, pathsForKey, planInvalidation, remainingBudget } from '../../actions/deploy-static/invalidation.js';

const many = (dir: string, n: number) => Array.from({ length: n }, (_, i) => `${dir}/f${i}.js`);

describe('paths for a key', () => {
  it.each([
    ['index.html', ['/index.html', '/']],
    ['docs/index.html', ['/docs/index.html', '/docs/', '/docs']],
    ['a/b/index.htm', ['/a/b/index.htm', '/a/b/', '/a/b']],
    ['assets/app.3f9a1c.js', ['/assets/app.3f9a1c.js']],
    ['my docs/ü*.pdf', ['/my%20docs/%C3%BC%2A.pdf']],
  ])('%s → %j', (rel, paths) => {
    expect(pathsForKey(rel)).toEqual(paths);
  });
});

describe('invalidation planning', () => {
  it('invalidates exactly the changed and deleted keys when few', () => {
    expect(planInvalidation(['index.html', 'assets/app.1a2b3c.js'], { maxPaths: 100 })).toEqual({ paths: ['/', '/assets/app.1a2b3c.js', '/index.html'] });
  });

  it('plans nothing for nothing', () => {
    expect(planInvalidation([], { maxPaths: 100 }).paths).toEqual([]);
  });

  it('collapses only as much as needed: the most specific folder that is enough', () => {
    const plan = planInvalidation([...many('assets/x', 50), ...many('assets/y', 50), 'index.html'], { maxPaths: 60 });
    expect(plan.paths).toContain('/assets/x/*');
    expect(plan.paths).not.toContain('/assets/*');
    expect(plan.paths).toHaveLength(53);
    expect(plan.note).toMatch(/102 paths collapsed to 53/);
  });

  it('goes up to a parent folder when one folder is not enough', () => {
    expect(planInvalidation([...many('assets/x', 50), ...many('assets/y', 50), 'index.html'], { maxPaths: 5 }).paths).toEqual(['/', '/assets/*', '/index.html']);
  });

  it('falls back to /* when nothing else fits', () => {
    const plan = planInvalidation([...many('a', 5), ...many('b', 5), 'x.js', 'y.js'], { maxPaths: 1 });
    expect(plan.paths).toEqual(['/*']);
    expect(plan.note).toMatch(/→ \/\*/);
  });

  it('stays within the 3,000 file paths in progress even when max paths is higher', () => {
    const plan = planInvalidation([...many('assets', 2500), ...many('img', 600)], { maxPaths: 3000, budget: { filePaths: MAX_FILE_PATHS_IN_PROGRESS, wildcards: 15 } });
    expect(plan.paths.filter((p) => !p.endsWith('*')).length).toBeLessThanOrEqual(3000);
    expect(plan.paths).toContain('/img/*');
  });

  it('respects the file-path budget left by invalidations already in progress', () => {
    const plan = planInvalidation(many('assets', 20), { maxPaths: 100, budget: { filePaths: 5, wildcards: 15 } });
    expect(plan.paths).toEqual(['/assets/*']);
  });

  it('uses no more wildcards than are left; /* when none are', () => {
    const rels = [...many('a', 3), ...many('b', 3), ...many('c', 3)];
    const two = planInvalidation(rels, { maxPaths: 5, budget: { filePaths: 3000, wildcards: 2 } });
    expect(two.paths.filter((p) => p.endsWith('*')).length).toBeLessThanOrEqual(2);
    expect(two.paths.length).toBeLessThanOrEqual(5);
    expect(planInvalidation(rels, { maxPaths: 5, budget: { filePaths: 3000, wildcards: 0 } })).toMatchObject({ paths: ['/*'], note: expect.stringMatching(/no wildcard budget/) });
  });

  it('counts the in-progress budget from running invalidations', () => {
    expect(remainingBudget([['/a', '/b/*'], ['/c/*', '/d/*', '/e']])).toEqual({ filePaths: 2998, wildcards: 12 });
  });
});
