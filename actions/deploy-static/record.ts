import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ActionError } from '../../lib/errors.js';
import { recordKey, releasesFolder, type StateLocation } from './state.js';

/**
 * The deploy record: what this action wrote under a prefix, kept in the
 * target's state location (state.ts builds every key). It is the only
 * authority for three decisions:
 * - skipping a file without a HEAD: an entry is trusted only while the
 *   listing shows the same ETag AND LastModified (a console "edit metadata"
 *   keeps the ETag and changes LastModified);
 * - deleting: only keys the record owns (entries, pending and the files of
 *   kept releases) are ever deleted, unless `delete: all`;
 * - invalidating after a failure: `pending` is written before the first
 *   upload and cleared only once the invalidation exists.
 *
 * Layout (version 3): a head, `manifest.json` of the state location (by
 * default `<prefix>.deploy-static/`), holds the live entries, `pending`, and
 * the release list; each release's file list is its own object,
 * `record/<sha256>.json` of the state location, named by
 * the SHA-256 of its bytes. A run reads the head; the file lists only when it
 * needs them (a no-op deploy never does), and a file list that does not hash
 * to its name is unreadable. Every head write is a compare-and-swap on its
 * ETag (record-store.ts). Version 2 kept everything in one object (134 MiB at
 * 100,000 files × 5 releases, read by every run); it is read as it is and
 * rewritten as version 3 by the next write. Unknown top-level fields are kept
 * on rewrite.
 */
/** The newest record layout this code reads and writes; a newer one is never rewritten (it would lose what this code does not know). */
export const RECORD_VERSION = 3;

interface Entry {
  /** The ETag S3 returned when we last wrote (or verified) the object. */
  etag: string;
  md5: string;
  /** headerHash() of the headers we set. */
  headers: string;
  /** LastModified as the listing showed it after our write (ISO, whole seconds). */
  lastModified?: string | undefined;
}

/** One file of a release; `snap` names the release folder holding its snapshot copy. */
export interface ReleaseFile {
  etag: string;
  md5: string;
  headers: string;
  /** Content-Type and Cache-Control as set, for people reading the record. */
  type?: string | undefined;
  cache?: string | undefined;
  snap?: string | undefined;
}

const releaseMetaShape = {
  id: z.string().min(1),
  commit: z.string(),
  at: z.string(),
  actor: z.string().optional(),
  runId: z.string().optional(),
  kind: z.enum(['deploy', 'rollback']),
  /** For a rollback (or roll forward): the release it restored. */
  restored: z.string().optional(),
};
const releaseMetaSchema = z.object(releaseMetaShape);
/** Who made a release and when: what the head keeps of it. */
type ReleaseMeta = z.infer<typeof releaseMetaSchema>;
/** What one deploy or rollback left live. */
export type Release = ReleaseMeta & { files: Record<string, ReleaseFile> };

/** A release in the head: its file list by content address. */
const releaseRefSchema = z.object({
  ...releaseMetaShape,
  files: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), count: z.number().int().min(0), snapshots: z.number().int().min(0) }),
});
export type ReleaseRef = z.infer<typeof releaseRefSchema>;

// The big maps (entries, release files: 100,000 keys) are checked by checkMap below, not zod:
// zod took about 60% of the time to read a record of 100,000 entries.
const headSchema = z.looseObject({
  version: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  /** keep-releases as last given: a run without the input keeps this history length. */
  keepReleases: z.number().int().min(1).max(100).optional(),
  entries: z.unknown(),
  /** Relative paths written (or about to be) and not yet invalidated; also owned. */
  pending: z.array(z.string()).optional(),
  /** Who wrote the record last. */
  run: z.object({ id: z.string(), at: z.string() }).optional(),
  /** The last keep-releases releases, oldest first: inline up to version 2, by reference from 3. */
  releases: z.array(z.unknown()).optional(),
});

/** The record in memory, every release with its files. */
interface RecordBase {
  version: number;
  keepReleases?: number | undefined;
  entries: Record<string, Entry>;
  pending?: string[] | undefined;
  run?: { id: string; at: string } | undefined;
  /** Fields of a newer minor layout, kept on rewrite. */
  [other: string]: unknown;
}
export interface Manifest extends RecordBase {
  releases?: Release[] | undefined;
}
/** The head as stored (version 3): releases by reference. */
export interface RecordHead extends RecordBase {
  releases?: ReleaseRef[] | undefined;
}

/** `newer`: the version of a record written by a newer deploy-static. */
export type ParsedRecord = { ok: true; manifest: Manifest } | { ok: false; problem: string; newer?: number };
export type ParsedHead =
  | { ok: true; head: RecordHead /** Version 2 keeps the files inline: by sha256. */; inline: Map<string, Record<string, ReleaseFile>> }
  | { ok: false; problem: string; newer?: number };

type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === 'string';
const nonEmpty: Check = (v) => typeof v === 'string' && v.length > 0;
const optStr: Check = (v) => v === undefined || typeof v === 'string';
const md5Hex: Check = (v) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
const ENTRY: Record<string, Check> = { etag: nonEmpty, md5: md5Hex, headers: nonEmpty, lastModified: optStr };
const FILE: Record<string, Check> = { etag: nonEmpty, md5: str, headers: nonEmpty, type: optStr, cache: optStr, snap: optStr };

/** A plain loop over a map of small objects: the first bad field as `<path>.<key>.<field>`, else undefined. */
function checkMap(map: unknown, fields: Record<string, Check>, path: string): string | undefined {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return `${path}: expected an object`;
  const names = Object.keys(fields);
  // By key, not Object.entries: a [key, value] pair per entry outlived the loop (10 MB at 100,000 entries).
  const values = map as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    const v = values[key];
    if (typeof v !== 'object' || v === null) return `${path}.${key}: expected an object`;
    for (const f of names) if (!fields[f]!(v[f as keyof typeof v])) return `${path}.${key}.${f}: invalid ${f}`;
  }
  return undefined;
}

/**
 * JSON.parse makes a string of every value: 100,000 entries held the MD5 twice
 * (a single-part ETag is the MD5), the same few header hashes and types, and
 * times of a few seconds, each as its own string (about 13 MB). One string per
 * distinct value instead (at most SHARED_MAX distinct, beyond that each keeps its own).
 */
function shareStrings(map: Record<string, Record<string, unknown>>, fields: readonly string[]): void {
  const seen = new Map<string, string>();
  const keys = Object.keys(map);
  for (let i = 0; i < keys.length; i++) {
    const v = map[keys[i]!]!;
    if (v.etag === v.md5) v.etag = v.md5;
    for (const f of fields) {
      const s = v[f];
      if (typeof s !== 'string') continue;
      const one = seen.get(s);
      if (one !== undefined) v[f] = one;
      else if (seen.size < SHARED_MAX) seen.set(s, s);
    }
  }
}
const SHARED_MAX = 10_000;

const parseJson = (text: string): { json: unknown } | { problem: string } => {
  try {
    return { json: JSON.parse(text) };
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
};

const zodProblem = (err: z.ZodError): string => {
  const issue = err.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
};

/** The bytes a release's file list is stored as, and their SHA-256 (its name). */
export function filesBody(files: Record<string, ReleaseFile>): { body: string; sha256: string } {
  const body = JSON.stringify({ files });
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * Validates a record head read from S3 (any version up to ours). The record is
 * the only list of releases and of the keys this action owns: a run that
 * ignored an unreadable one would write a record of one release and prune
 * every older snapshot, so callers stop before any write instead (recordUnreadable).
 */
export function parseHead(text: string): ParsedHead {
  const read = parseJson(text);
  if ('problem' in read) return { ok: false, problem: read.problem };
  const version = (read.json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > RECORD_VERSION) {
    return {
      ok: false,
      problem: `written by a newer deploy-static (record version ${version}; this version reads up to ${RECORD_VERSION})`,
      newer: version,
    };
  }
  const res = headSchema.safeParse(read.json);
  // Problems in the order of the fields: version and keepReleases, then entries, then the rest.
  const bad = checkMap((read.json as { entries?: unknown } | null)?.entries, ENTRY, 'entries');
  if (!res.success) {
    const first = String(res.error.issues[0]?.path[0] ?? '');
    return { ok: false, problem: bad && !['', 'version', 'keepReleases'].includes(first) ? bad : zodProblem(res.error) };
  }
  if (bad) return { ok: false, problem: bad };
  shareStrings((read.json as { entries: Record<string, Record<string, unknown>> }).entries, ['headers', 'lastModified']);
  const inline = new Map<string, Record<string, ReleaseFile>>();
  const releases: ReleaseRef[] = [];
  for (const [i, r] of (res.data.releases ?? []).entries()) {
    if (res.data.version === 3) {
      const ref = releaseRefSchema.safeParse(r);
      if (!ref.success) return { ok: false, problem: `releases.${i}.${zodProblem(ref.error)}` };
      releases.push(ref.data);
      continue;
    }
    const meta = releaseMetaSchema.safeParse(r);
    if (!meta.success) return { ok: false, problem: `releases.${i}.${zodProblem(meta.error)}` };
    const files = (r as { files?: unknown }).files;
    const badFile = checkMap(files, FILE, `releases.${i}.files`);
    if (badFile) return { ok: false, problem: badFile };
    const typed = files as Record<string, ReleaseFile>;
    const { sha256 } = filesBody(typed);
    inline.set(sha256, typed);
    releases.push({ ...meta.data, files: { sha256, count: Object.keys(typed).length, snapshots: snapCount(typed) } });
  }
  const head = { ...res.data } as unknown as RecordHead;
  if (res.data.releases) head.releases = releases;
  return { ok: true, head, inline };
}

/** Validates a release's file list: it must hash to the name it was stored under. */
export function parseFiles(
  text: string,
  sha256: string,
): { ok: true; files: Record<string, ReleaseFile> } | { ok: false; problem: string } {
  if (createHash('sha256').update(text).digest('hex') !== sha256)
    return { ok: false, problem: 'its SHA-256 is not its name (truncated or changed after it was written)' };
  const read = parseJson(text);
  if ('problem' in read) return { ok: false, problem: read.problem };
  const files = (read.json as { files?: unknown } | null)?.files;
  const bad = checkMap(files, FILE, 'files');
  if (bad) return { ok: false, problem: bad };
  shareStrings(files as Record<string, Record<string, unknown>>, ['headers', 'type', 'cache', 'snap']);
  return { ok: true, files: files as Record<string, ReleaseFile> };
}

/** Validates a whole record given as one text (version 2 layout, or a head without releases). */
export function parseRecord(text: string): ParsedRecord {
  const head = parseHead(text);
  if (!head.ok) return head;
  const releases = head.head.releases?.map((r) => {
    const files = head.inline.get(r.files.sha256);
    return files ? withFiles(r, files) : undefined;
  });
  if (releases?.some((r) => r === undefined)) return { ok: false, problem: 'releases: stored apart from this text' };
  return { ok: true, manifest: { ...head.head, releases: releases as Release[] } as Manifest };
}

export function snapCount(files: Record<string, ReleaseFile>): number {
  let n = 0;
  for (const f of Object.values(files)) if (f.snap) n++;
  return n;
}

export function withFiles(ref: ReleaseRef, files: Record<string, ReleaseFile>): Release {
  const { files: _f, ...meta } = ref;
  return { ...meta, files };
}

/**
 * The error that stops a run (before any write) on a record it cannot read.
 * A newer record is never rewritten by older code, repair included.
 */
export function recordUnreadable(where: { state: StateLocation }, parsed: { problem: string; newer?: number }): ActionError {
  const name = `s3://${where.state.bucket}/${recordKey(where.state)}`;
  if (parsed.newer !== undefined) {
    return new ActionError(
      `The deploy record ${name} was ${parsed.problem}. Nothing was written: rewriting it here would drop what this version does not understand.`,
      {
        fix: 'Use the newer version of deploy-static (the one that wrote this record) in this workflow; repair-record does not downgrade a record.',
      },
    );
  }
  return new ActionError(
    `The deploy record ${name} is unreadable: ${parsed.problem}. Nothing was written: the record lists the releases and the keys this action owns, ` +
      `and a run without it would forget that history.`,
    {
      input: 'repair-record',
      fix:
        `Run deploy-static once with repair-record: true (same bucket and prefix): it rebuilds the record from the live objects and the release ` +
        `snapshots under ${releasesFolder(where.state)}, keeps every snapshot, and says in the summary what it recovered. Or restore a good copy of ` +
        `${name} (bucket versioning) and re-run.`,
    },
  );
}

/** Keys (relative to the prefix) this action has written and may delete. */
export function ownedRels(m: Manifest | undefined): Set<string> {
  // Files of recorded releases stay ours after they leave source.
  return new Set([...Object.keys(m?.entries ?? {}), ...(m?.pending ?? []), ...(m?.releases ?? []).flatMap((r) => Object.keys(r.files))]);
}

/** ISO time in whole seconds: the listing and HEAD agree on nothing finer. */
export function normalizeTime(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : new Date(Math.floor(ms / 1000) * 1000).toISOString();
}
