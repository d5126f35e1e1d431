/**
 * Which CloudFront paths to invalidate: pure. Only changed and deleted keys,
 * collapsed into directory wildcards when there are many, and always within
 * CloudFront's in-progress limits (3,000 file paths, 15 wildcard paths per
 * distribution); `/*` is the last resort, not the default.
 */
export const MAX_FILE_PATHS_IN_PROGRESS = 3000;
export const MAX_WILDCARDS_IN_PROGRESS = 15;
/** CloudFront bills invalidation paths beyond the first 1,000 each month (a wildcard is one path). */
export const FREE_PATHS_PER_MONTH = 1000;

export interface InvalidationBudget {
  /** File paths still allowed in progress on the distribution. */
  filePaths: number;
  wildcards: number;
}

export const FULL_BUDGET: InvalidationBudget = { filePaths: MAX_FILE_PATHS_IN_PROGRESS, wildcards: MAX_WILDCARDS_IN_PROGRESS };

export interface InvalidationPlan {
  paths: string[];
  /** How the paths were reduced, for the log: undefined when they are exactly the changed keys. */
  note?: string;
}

/** Percent-encodes what a URL path cannot carry; `*` in a file name must not become a wildcard. */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/\*/g, '%2A').replace(/%40/g, '@').replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2C/g, ',').replace(/%3A/g, ':');
}

/** `dir/index.html` is also served as `/dir/` and `/dir`; the root index as `/`. */
export function pathsForKey(rel: string): string[] {
  const encoded = rel.split('/').map(encodePathSegment).join('/');
  const paths = [`/${encoded}`];
  const m = /^(.*?)(^|\/)index\.html?$/.exec(encoded);
  if (m) {
    if (m[1] === '') paths.push('/');
    else paths.push(`/${m[1]}/`, `/${m[1]}`);
  }
  return paths;
}

const isWildcard = (p: string): boolean => p.endsWith('*');

/** Every directory path (`/a/`, `/a/b/`) above a path; the root is not a candidate (that is `/*`). */
function ancestors(path: string): string[] {
  const out: string[] = [];
  const body = isWildcard(path) ? path.slice(0, -1) : path;
  for (let i = body.indexOf('/', 1); i !== -1; i = body.indexOf('/', i + 1)) out.push(body.slice(0, i + 1));
  return out;
}

export function planInvalidation(rels: readonly string[], opts: { maxPaths: number; budget?: InvalidationBudget }): InvalidationPlan {
  const budget = opts.budget ?? FULL_BUDGET;
  let paths = new Set<string>();
  for (const rel of rels) for (const p of pathsForKey(rel)) paths.add(p);
  if (paths.size === 0) return { paths: [] };
  const exact = paths.size;
  const files = () => [...paths].filter((p) => !isWildcard(p)).length;
  const wildcards = () => paths.size - files();
  const excess = () => Math.max(paths.size - opts.maxPaths, files() - budget.filePaths);
  const all = (why: string): InvalidationPlan => ({ paths: ['/*'], note: `${exact} paths → /* (${why})` });

  while (excess() > 0) {
    const counts = new Map<string, number>();
    for (const p of paths) for (const d of ancestors(p)) counts.set(d, (counts.get(d) ?? 0) + 1);
    const candidates: { dir: string; saving: number; depth: number }[] = [];
    for (const [dir, covered] of counts) {
      if (covered < 2) continue;
      const coveredWildcards = [...paths].filter((p) => isWildcard(p) && p.startsWith(dir)).length;
      if (wildcards() - coveredWildcards + 1 > budget.wildcards) continue;
      candidates.push({ dir, saving: covered - 1, depth: dir.split('/').length });
    }
    if (candidates.length === 0) return all(budget.wildcards === 0 ? 'no wildcard budget left on the distribution' : 'too many paths in too many folders');
    // Collapse only as much as needed: the most specific folder that is enough
    // on its own, else the folder that saves the most, then look again.
    const need = excess();
    const enough = candidates.filter((c) => c.saving >= need).sort((a, b) => a.saving - b.saving || b.depth - a.depth);
    const pick = enough[0] ?? candidates.sort((a, b) => b.saving - a.saving || b.depth - a.depth)[0]!;
    paths = new Set([...[...paths].filter((p) => !p.startsWith(pick.dir)), `${pick.dir}*`]);
  }
  const list = [...paths].sort();
  return list.length === exact ? { paths: list } : { paths: list, note: `${exact} paths collapsed to ${list.length} (${list.filter(isWildcard).length} wildcards)` };
}

/** Counts what in-progress invalidations use of the distribution's limits. */
export function remainingBudget(inProgress: readonly (readonly string[])[]): InvalidationBudget {
  let filePaths = MAX_FILE_PATHS_IN_PROGRESS;
  let wildcards = MAX_WILDCARDS_IN_PROGRESS;
  for (const paths of inProgress) for (const p of paths) if (isWildcard(p)) wildcards--;
  else filePaths--;
  return { filePaths: Math.max(0, filePaths), wildcards: Math.max(0, wildcards) };
}
