import { describe, expect, it } from 'vitest';
import {
  MAX_FILE_PATHS_IN_PROGRESS,
  MAX_WILDCARDS_IN_PROGRESS,
  encodeInvalidationPath,
  pathsForKey,
  planInvalidation,
  remainingBudget,
} from '../../actions/deploy-static/invalidation.js';

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
    expect(planInvalidation(['index.html', 'assets/app.1a2b3c.js'], { maxPaths: 100 })).toEqual({
      paths: ['/', '/assets/app.1a2b3c.js', '/index.html'],
    });
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
    expect(planInvalidation([...many('assets/x', 50), ...many('assets/y', 50), 'index.html'], { maxPaths: 5 }).paths).toEqual([
      '/',
      '/assets/*',
      '/index.html',
    ]);
  });

  it('falls back to /* when nothing else fits', () => {
    const plan = planInvalidation([...many('a', 5), ...many('b', 5), 'x.js', 'y.js'], { maxPaths: 1 });
    expect(plan.paths).toEqual(['/*']);
    expect(plan.note).toMatch(/→ \/\*/);
  });

  it('stays within the 3,000 file paths in progress even when max paths is higher', () => {
    const plan = planInvalidation([...many('assets', 2500), ...many('img', 600)], {
      maxPaths: 3000,
      budget: { filePaths: MAX_FILE_PATHS_IN_PROGRESS, wildcards: 15 },
    });
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
    expect(planInvalidation(rels, { maxPaths: 5, budget: { filePaths: 3000, wildcards: 0 } })).toMatchObject({
      paths: ['/*'],
      note: expect.stringMatching(/no wildcard budget/),
    });
  });

  it('counts the in-progress budget from running invalidations', () => {
    expect(
      remainingBudget([
        ['/a', '/b/*'],
        ['/c/*', '/d/*', '/e'],
      ]),
    ).toEqual({ filePaths: 2998, wildcards: 12 });
  });
});

// The CloudFront developer guide, "Invalidation paths": encode non-ASCII and RFC 1738's
// unsafe characters, nothing else (or the cached object is not matched).
describe('invalidation path encoding', () => {
  it.each([
    ['/a&b.html', '/a&b.html'],
    ['/price$5;v=2.js', '/price$5;v=2.js'],
    ["/it's(1)!+@:,.js", "/it's(1)!+@:,.js"],
    ['/~user/home page.html', '/%7Euser/home%20page.html'],
    ['/a#b%c.txt', '/a%23b%25c.txt'],
    ['/{x}|[y]^`"<>\\.txt', '/%7Bx%7D%7C%5By%5D%5E%60%22%3C%3E%5C.txt'],
    ['/what?.html', '/what%3F.html'],
    ['/star*.png', '/star%2A.png'],
    ['/café/日本.html', '/caf%C3%A9/%E6%97%A5%E6%9C%AC.html'],
    ['/emoji-😀.txt', '/emoji-%F0%9F%98%80.txt'],
    ['/tab\tx', '/tab%09x'],
  ])('%s → %s', (path, encoded) => {
    expect(encodeInvalidationPath(path)).toBe(encoded);
  });

  it('uses the viewer paths the distribution maps a key to', () => {
    expect(pathsForKey('index.html', (rel) => [`/admin/${rel}`])).toEqual(['/admin/index.html', '/admin/', '/admin']);
    expect(pathsForKey('x.js', () => [])).toEqual([]);
  });
});

describe('invalidation planning at scale', () => {
  // Time is measured in bench/static; this checks the result of the linear algorithm on a large input.
  it('plans 10,000 paths in 1,000 folders into a valid request within the limits', () => {
    const rels = Array.from({ length: 10_000 }, (_, i) => `assets/g${i % 1000}/f${i}.js`);
    const plan = planInvalidation(rels, { maxPaths: 100 });
    expect(plan.paths.length).toBeLessThanOrEqual(100);
    expect(plan.paths.filter((p) => p.endsWith('*')).length).toBeLessThanOrEqual(MAX_WILDCARDS_IN_PROGRESS);
    // 1,000 folders cannot be 15 wildcards: their common parent is.
    expect(plan.paths).toEqual(['/assets/*']);
  });

  it('keeps the untouched folders exact when a few big folders are enough', () => {
    const rels = [...many('big/a', 4_000), ...many('big/b', 3_000), ...many('small', 20), 'index.html'];
    const plan = planInvalidation(rels, { maxPaths: 3000 });
    expect(plan.paths).toEqual(['/', '/big/*', '/index.html', ...many('small', 20).map((r) => `/${r}`)].sort());
    expect(plan.note).toBe('7022 paths collapsed to 23 (1 wildcards)');
  });
});
