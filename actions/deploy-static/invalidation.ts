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

/**
 * RFC 1738's "unsafe" characters. The CloudFront developer guide ("What you need
 * to know when invalidating paths" → Invalidation paths,
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html#invalidation-specifying-objects-paths):
 * URL-encode non-ASCII characters and the characters RFC 1738 calls unsafe, and
 * no others, or CloudFront does not match the cached object. So `&`, `$`, `;`,
 * `=`, `+`, `@`, `:`, `,`, `!`, `'`, `(`, `)` stay literal; `~` and spaces are
 * encoded. Two more are encoded because CloudFront would read them as syntax, not
 * as part of a file name: `?` starts the query string and `*` is the wildcard.
 */
const ENCODE = new Set([' ', '<', '>', '"', '#', '%', '{', '}', '|', '\\', '^', '~', '[', ']', '`', '?', '*']);

/** Encodes one viewer path for an invalidation (the `/` separators stay). */
export function encodeInvalidationPath(path: string): string {
  let out = '';
  for (const ch of path) {
    const code = ch.codePointAt(0)!;
    if (code <= 0x20 || code >= 0x7f || ENCODE.has(ch))
      out += encodeURIComponent(ch).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    else out += ch;
  }
  return out;
}

/** The viewer path(s) CloudFront serves a key (relative to the target prefix) at; unencoded, starting with '/'. */
export type ViewerPaths = (rel: string) => readonly string[];

/** Without the distribution's config: the prefix is the origin path, so `rel` is served at `/rel`. */
export const prefixIsOriginPath: ViewerPaths = (rel) => [`/${rel}`];

/** `dir/index.html` is also served as `/dir/` and `/dir`; the root index as `/`. */
export function pathsForKey(rel: string, viewerPaths: ViewerPaths = prefixIsOriginPath): string[] {
  const out: string[] = [];
  for (const viewer of viewerPaths(rel)) {
    const encoded = encodeInvalidationPath(viewer);
    out.push(encoded);
    const m = /^(.*)\/index\.html?$/.exec(encoded);
    if (m) {
      if (m[1] === '') out.push('/');
      else out.push(`${m[1]}/`, m[1]!);
    }
  }
  return out;
}

const isWildcard = (p: string): boolean => p.endsWith('*');

/** Every directory path (`/a/`, `/a/b/`) above a file path; the root is not a candidate (that is `/*`). */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/', 1); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i + 1));
  return out;
}

/** Greedy rounds are few (each adds or merges a wildcard, and there are at most 15): this only bounds a pathological case. */
const MAX_ROUNDS = 64;

/**
 * Linear in the number of paths: the file paths under each folder are counted
 * once; each round then scans the folders once, and the chosen wildcards (at
 * most the budget's 15) are the only state that changes between rounds.
 */
export function planInvalidation(
  rels: readonly string[],
  opts: { maxPaths: number; budget?: InvalidationBudget; viewerPaths?: ViewerPaths },
): InvalidationPlan {
  const budget = opts.budget ?? FULL_BUDGET;
  const unique = new Set<string>();
  for (const rel of rels) for (const p of pathsForKey(rel, opts.viewerPaths)) unique.add(p);
  const files = [...unique];
  if (files.length === 0) return { paths: [] };
  const exact = files.length;
  const all = (why: string): InvalidationPlan => ({ paths: ['/*'], note: `${exact} paths → /* (${why})` });

  const under = new Map<string, number>();
  for (const p of files) for (const d of ancestors(p)) under.set(d, (under.get(d) ?? 0) + 1);
  const depth = (dir: string): number => dir.split('/').length;
  /** Chosen folders, never nested in one another. */
  let chosen: string[] = [];
  const state = () => {
    const coveredFiles = chosen.reduce((n, d) => n + under.get(d)!, 0);
    const fileCount = files.length - coveredFiles;
    return { fileCount, total: fileCount + chosen.length };
  };
  const excess = (s: { fileCount: number; total: number }) => Math.max(s.total - opts.maxPaths, s.fileCount - budget.filePaths);

  for (let round = 0; excess(state()) > 0; round++) {
    if (round >= MAX_ROUNDS) return all('too many paths in too many folders');
    const need = excess(state());
    let enough: { dir: string; saving: number; depth: number } | undefined;
    let most: typeof enough;
    for (const [dir, count] of under) {
      if (chosen.some((c) => dir.startsWith(c))) continue;
      const inside = chosen.filter((c) => c.startsWith(dir));
      const covered = count - inside.reduce((n, c) => n + under.get(c)!, 0) + inside.length;
      if (covered < 2) continue;
      if (chosen.length - inside.length + 1 > budget.wildcards) continue;
      const c = { dir, saving: covered - 1, depth: depth(dir) };
      // Collapse only as much as needed: the most specific folder that is enough
      // on its own, else the folder that saves the most, then look again.
      if (c.saving >= need && (!enough || c.saving < enough.saving || (c.saving === enough.saving && c.depth > enough.depth))) enough = c;
      if (!most || c.saving > most.saving || (c.saving === most.saving && c.depth > most.depth)) most = c;
    }
    const pick = enough ?? most;
    if (!pick) return all(budget.wildcards === 0 ? 'no wildcard budget left on the distribution' : 'too many paths in too many folders');
    chosen = [...chosen.filter((c) => !c.startsWith(pick.dir)), pick.dir];
  }
  const chosenSet = new Set(chosen);
  const kept = files.filter((p) => !ancestors(p).some((d) => chosenSet.has(d)));
  const list = [...kept, ...chosen.map((d) => `${d}*`)].sort();
  return list.length === exact
    ? { paths: list }
    : { paths: list, note: `${exact} paths collapsed to ${list.length} (${chosen.length} wildcards)` };
}

/** Counts what in-progress invalidations use of the distribution's limits. */
export function remainingBudget(inProgress: readonly (readonly string[])[]): InvalidationBudget {
  let filePaths = MAX_FILE_PATHS_IN_PROGRESS;
  let wildcards = MAX_WILDCARDS_IN_PROGRESS;
  for (const paths of inProgress)
    for (const p of paths)
      if (isWildcard(p)) wildcards--;
      else filePaths--;
  return { filePaths: Math.max(0, filePaths), wildcards: Math.max(0, wildcards) };
}
