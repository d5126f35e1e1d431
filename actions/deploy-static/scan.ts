import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import picomatch from 'picomatch';
import { ActionError, aggregate } from '../../lib/errors.js';
import { mapLimit } from '../../lib/pool.js';

/** One file of the build output, hashed by streaming (a 500 MB video is never held in memory). */
export interface LocalFile {
  /** Path relative to `source`, `/`-separated: the object key below the prefix. */
  rel: string;
  abs: string;
  size: number;
  /** Hex MD5 of the content: what a single-part S3 ETag is. */
  md5: string;
  /** The bytes of a small file, kept from hashing so an upload does not read it again (bounded, see BODY_CACHE_BYTES). */
  body?: Buffer;
}

/**
 * Small files keep their bytes after hashing, up to this total: opening each file twice costs more than the
 * upload on a cold sync. 16 MiB holds every small file of most builds; on a site of 100,000 files a no-op,
 * which uploads nothing, held 30 MB of bytes and 100,000 Buffer objects more at 64 MiB (README, Benchmark).
 */
export const BODY_CACHE_BYTES = 16 * 1024 * 1024;
export const BODY_CACHE_MAX_FILE = 256 * 1024;

export function excludeMatcher(globs: readonly string[]): (rel: string) => boolean {
  if (globs.length === 0) return () => false;
  const matchers = globs.map((g) => picomatch(g, { dot: true, basename: !g.includes('/') }));
  return (rel) => matchers.some((m) => m(rel));
}

/** Up to this size a file is read in one synchronous call; larger ones are streamed. */
const SMALL_FILE = 4 * 1024 * 1024;
/** Small files read between two turns of the event loop, so the listing and record read started beside the scan go on. */
const FILES_PER_TURN = 256;

/**
 * A file's size and, when small, its bytes and MD5, in one open, fstat, read
 * and close: a build was just written, so its files are in the page cache and
 * these synchronous calls take microseconds, while `fs.promises.readFile`
 * costs four thread-pool round trips per file (and the walk an lstat more):
 * on 100,000 files most of a no-op's time.
 */
function readSmall(path: string): { size: number; md5?: string; body?: Buffer } {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > SMALL_FILE) return { size };
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const read = readSync(fd, buf, n, size - n, n);
      if (read === 0) break;
      n += read;
    }
    const body = n < size ? buf.subarray(0, n) : buf;
    return { size: body.length, md5: createHash('md5').update(body).digest('hex'), body };
  } finally {
    closeSync(fd);
  }
}

/** A large file streamed (a 500 MB video is never held in memory). */
async function md5Large(path: string): Promise<{ md5: string }> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return { md5: hash.digest('hex') };
}

function inside(root: string, path: string): boolean {
  const r = relative(root, path);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..');
}

const EMPTY_FIX = 'Check that the build step ran and wrote into this folder; an empty folder would delete the whole site.';

/** The cheap part of the source checks, done before any AWS call: exists, is a folder, is not empty. */
export async function checkSource(source: string): Promise<void> {
  const st = await stat(source).catch(() => undefined);
  if (!st)
    throw new ActionError(`The source folder '${source}' does not exist.`, {
      input: 'source',
      fix: 'Build the site before this step, or point source at the build output folder (e.g. dist or build).',
    });
  if (!st.isDirectory())
    throw new ActionError(`The source '${source}' is not a folder.`, {
      input: 'source',
      fix: 'Point source at the folder that holds the built site.',
    });
  if ((await readdir(source)).length === 0)
    throw new ActionError(`The source folder '${source}' has no files; refusing to deploy an empty site.`, {
      input: 'source',
      fix: EMPTY_FIX,
    });
}

/**
 * Dot-names are build-tool and editor litter (`.git`, `.env`, `.DS_Store`),
 * and a published `.env` leaks secrets: skipped unless `include-dotfiles`.
 * `.well-known/` is part of the web (security.txt, app links) and is kept.
 */
const isHiddenName = (name: string): boolean => name.startsWith('.') && name !== '.well-known';

/**
 * Lists and hashes every file under `source`. Refuses, before any AWS call:
 * a missing or empty source (the `aws s3 sync --delete` of an empty build
 * folder wipes the site), symlinks that point outside it (a link to `~/.aws`
 * must never be published) and directory links that loop back to one of
 * their own ancestors. Links inside `source` are followed: a directory
 * reached by two names (`latest -> v3`) is uploaded under both, so neither
 * name is ever deleted from the bucket as "gone from source".
 */
export async function scanSource(
  source: string,
  opts: { exclude?: readonly string[]; concurrency?: number; includeDotfiles?: boolean } = {},
): Promise<LocalFile[]> {
  await checkSource(source);
  const root = await realpath(source);
  const excluded = excludeMatcher(opts.exclude ?? []);
  // Two lists of strings rather than an object per file: 100,000 of them outlived the walk.
  const rels: string[] = [];
  const abss: string[] = [];
  const problems: ActionError[] = [];

  /** `chain`: real paths of the directories from the root down to `dir`; only a link back into it loops. */
  const walk = async (dir: string, relDir: string, chain: readonly string[]): Promise<void> => {
    // Synchronous calls (see readSmall), one directory per turn of the event loop.
    await yieldToEvents();
    const entries = readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (!opts.includeDotfiles && isHiddenName(e.name)) continue;
      // `dir` is a real path (normalized) and a name has no separator: path.join's normalizing left each
      // path as a tree of string pieces, 300 bytes a file.
      const abs = dir.endsWith(sep) ? dir + e.name : dir + sep + e.name;
      const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
      let real = abs;
      if (e.isSymbolicLink()) {
        real = realOrEmpty(abs);
        if (real === '' || !inside(root, real)) {
          problems.push(
            new ActionError(`'${rel}' is a symlink that points outside the source folder${real ? ` (to ${real})` : ' or nowhere'}.`, {
              input: 'source',
              file: abs,
              fix: 'Copy the file into the build output, or remove the link; links leaving source are never uploaded.',
            }),
          );
          continue;
        }
      }
      // A plain file needs no stat here: reading it gives its size (readSmall).
      if (e.isFile()) {
        if (!excluded(rel)) {
          rels.push(rel);
          abss.push(abs);
        }
        continue;
      }
      const info = e.isSymbolicLink() ? statSync(real) : e;
      if (info.isDirectory()) {
        if (chain.includes(real)) {
          const target = relative(root, real).split(sep).join('/') || '.';
          problems.push(
            new ActionError(`'${rel}' is a symlink to its own ancestor '${target}': following it would loop forever.`, {
              input: 'source',
              file: abs,
              fix: 'Remove the link from the build output.',
            }),
          );
          continue;
        }
        await walk(real, rel, [...chain, real]);
      } else if (info.isFile()) {
        if (excluded(rel)) continue;
        rels.push(rel);
        abss.push(real);
      }
    }
  };
  await walk(root, '', [root]);
  if (problems.length > 0) throw aggregate('The source folder contains unsafe links', problems);
  if (rels.length === 0) {
    throw new ActionError(
      `The source folder '${source}' has no files${opts.exclude?.length ? ' (after exclude)' : ''}; refusing to deploy an empty site.`,
      {
        input: 'source',
        fix: EMPTY_FIX,
      },
    );
  }
  const out = new Array<LocalFile>(rels.length);
  const large: number[] = [];
  let cached = 0;
  for (let i = 0; i < rels.length; i++) {
    if (i % FILES_PER_TURN === FILES_PER_TURN - 1) await yieldToEvents();
    const rel = rels[i]!;
    const abs = abss[i]!;
    const { size, md5, body } = readSmall(abs);
    if (md5 === undefined) {
      out[i] = { rel, abs, size, md5: '' };
      large.push(i);
      continue;
    }
    const keep = body !== undefined && size <= BODY_CACHE_MAX_FILE && cached + size <= BODY_CACHE_BYTES;
    if (keep) cached += size;
    // Written out field by field, in one order: spreading gave each of 100,000 files its own hidden class (V8 map,
    // descriptors and property array, about 300 bytes a file).
    out[i] = keep ? { rel, abs, size, md5, body } : { rel, abs, size, md5 };
  }
  // Large files are streamed a few at a time: reading them is disk-bound, not call-bound.
  await mapLimit(large, Math.max(4, opts.concurrency ?? 16), async (i) => {
    out[i]!.md5 = (await md5Large(out[i]!.abs)).md5;
  });
  return out;
}

function realOrEmpty(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return '';
  }
}
