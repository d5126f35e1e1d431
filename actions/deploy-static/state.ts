import { ActionError, aggregate } from '../../lib/errors.js';

/**
 * Where a target's bookkeeping lives: the deploy record (head and release
 * file lists), the lock and the release snapshots. By default `<prefix>.deploy-static/` in the site's own
 * bucket, where a distribution that serves the bucket serves it too (a cache
 * behaviour cannot deny a path); `state-bucket` / `state-prefix` move it to
 * a bucket nothing serves. Every key of the bookkeeping is built here, so no
 * other file knows where it is.
 */
export interface StateLocation {
  bucket: string;
  /** Never empty, ends in '/', never starts with '/'. */
  prefix: string;
}

/** The folder under the site prefix that holds the bookkeeping when no state location is given. */
export const DEFAULT_STATE_DIR = '.deploy-static/';

/** A site location, optionally with its state placed elsewhere (targets.ts `Target`). */
export interface Located {
  bucket: string;
  prefix: string;
  state?: StateLocation;
}

/** The one place a target's state location is decided. */
export function stateOf(t: Located): StateLocation {
  return t.state ?? { bucket: t.bucket, prefix: `${t.prefix}${DEFAULT_STATE_DIR}` };
}

export const recordKey = (s: StateLocation): string => `${s.prefix}manifest.json`;
/** Holds the release file lists of the record, each named by the SHA-256 of its bytes (record.ts). */
export const recordFilesFolder = (s: StateLocation): string => `${s.prefix}record/`;
export const filesKey = (s: StateLocation, sha256: string): string => `${recordFilesFolder(s)}${sha256}.json`;
export const lockKey = (s: StateLocation): string => `${s.prefix}lock.json`;
/** Holds one folder per release id. */
export const releasesFolder = (s: StateLocation): string => `${s.prefix}releases/`;
export const snapshotKey = (s: StateLocation, snap: string, rel: string): string => `${releasesFolder(s)}${snap}/${rel}`;
export const stateLabel = (s: StateLocation): string => `s3://${s.bucket}/${s.prefix}`;

/**
 * The state folder relative to the site prefix when the site's own listing
 * holds it (same bucket, under the prefix): the site planning must leave
 * those keys alone and the distribution may serve them. Undefined when the
 * state is elsewhere.
 */
export function stateRel(t: Located): string | undefined {
  const s = stateOf(t);
  return s.bucket === t.bucket && s.prefix.startsWith(t.prefix) ? s.prefix.slice(t.prefix.length) : undefined;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Validates `state-bucket` / `state-prefix` for the targets (before any AWS
 * call) and returns the targets with their state location. Given nothing,
 * each target keeps the default. Refuses a state folder that holds a site
 * (its snapshots would be listed as site files and deleted) or that two
 * targets would share (one record for two sites).
 */
export function withState<T extends Located>(targets: T[], raw: { bucket?: string; prefix?: string }): T[] {
  const bucket = raw.bucket?.trim() || undefined;
  const rawPrefix = raw.prefix?.trim() || undefined;
  const problems: ActionError[] = [];
  if (bucket !== undefined && !BUCKET.test(bucket))
    problems.push(
      new ActionError(`Input 'state-bucket' is '${bucket}', not an S3 bucket name.`, {
        input: 'state-bucket',
        fix:
          'Use the bucket name only (3–63 lower-case letters, digits, dots, dashes), not an ARN or s3:// URL; leave it empty to keep the state in ' +
          'the site bucket.',
      }),
    );
  const prefix = rawPrefix === undefined ? undefined : `${rawPrefix.replace(/^\/+/, '').replace(/\/+$/, '')}/`;
  if (prefix !== undefined && (prefix === '/' || /(^|\/)\.\.?(\/|$)/.test(prefix) || prefix.includes('//')))
    problems.push(
      new ActionError(`Input 'state-prefix' is '${rawPrefix}': it needs at least one folder name and no empty, '.' or '..' segments.`, {
        input: 'state-prefix',
        fix: 'Use a plain key prefix such as deploy-state/shop (the record, lock and snapshots go under it), or leave it empty for <prefix>.deploy-static/.',
      }),
    );
  if (problems.length > 0) throw aggregate('Invalid state location', problems);
  if (bucket === undefined && prefix === undefined) return targets;
  const out = targets.map((t) => ({ ...t, state: { bucket: bucket ?? t.bucket, prefix: prefix ?? `${t.prefix}${DEFAULT_STATE_DIR}` } }));
  const input = prefix !== undefined ? 'state-prefix' : 'state-bucket';
  for (const [i, t] of out.entries()) {
    for (const [j, o] of out.entries()) {
      // The site of o lives inside the state folder of t: its snapshots and record would be site keys of o.
      if (t.state.bucket === o.bucket && o.prefix.startsWith(t.state.prefix))
        throw new ActionError(
          `The state location s3://${t.state.bucket}/${t.state.prefix} contains the site s3://${o.bucket}/${o.prefix}: the deploy would treat its own ` +
            `record and snapshots as site files.`,
          { input, fix: 'Use a state-prefix outside the site prefix (e.g. deploy-state/), or a state-bucket nothing else deploys to.' },
        );
      if (
        j > i &&
        t.state.bucket === o.state.bucket &&
        (t.state.prefix.startsWith(o.state.prefix) || o.state.prefix.startsWith(t.state.prefix))
      )
        throw new ActionError(
          `Targets ${i + 1} and ${j + 1} would keep their state in the same place (s3://${t.state.bucket}/${t.state.prefix}): one record and one lock ` +
            `for two sites.`,
          {
            input,
            fix: 'Leave state-prefix empty (each target gets <prefix>.deploy-static/ in the state bucket), or deploy each target in its own step.',
          },
        );
    }
  }
  return out;
}
