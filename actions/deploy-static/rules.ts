import { createHash } from 'node:crypto';
import mime from 'mime-types';
import picomatch from 'picomatch';
import { ActionError, aggregate } from '../../lib/errors.js';
import { isFingerprinted } from './fingerprint.js';

/**
 * Which headers each object gets: Content-Type from the mime-types table,
 * Cache-Control from a preset, both overridable by glob rules. Pure.
 */
export const PRESETS = ['static', 'spa', 'none'] as const;
export type Preset = (typeof PRESETS)[number];

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';
/** Non-fingerprinted assets (favicon.ico, robots.txt, images by fixed name) under the `static` preset. */
export const SHORT_CACHE = 'public, max-age=3600';

/** Headers S3 stores with the object and serves back; the only ones a rule may set. */
const SYSTEM_HEADERS = ['cache-control', 'content-type', 'content-disposition', 'content-encoding', 'content-language'] as const;
type SystemHeader = (typeof SYSTEM_HEADERS)[number];

export interface ObjectHeaders {
  contentType: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  /** User metadata (`x-amz-meta-<name>`), names lower-cased without the prefix. */
  metadata: Record<string, string>;
}

export interface HeaderRule {
  glob: string;
  /** Lower-cased header name, e.g. `cache-control` or `x-amz-meta-team`. */
  header: string;
  value: string;
  line: number;
  match: (rel: string) => boolean;
}

/**
 * Entry files: what a visitor loads first and what points at the other files.
 * They are uploaded after everything else so new HTML never references an
 * asset that is not there yet, and they get `no-cache` from the presets.
 */
const ENTRY_GLOBS = ['*.html', '*.htm', 'sw.js', 'service-worker.js', '*.webmanifest', 'manifest.json'];
const isEntryGlob = picomatch(ENTRY_GLOBS, { dot: true, basename: true });

/** Pre-compressed copies (`index.html.br`, `index.html.gz`) are what some origins serve in place of the file: entry files too. */
export function isEntry(rel: string): boolean {
  return isEntryGlob(rel.replace(/\.(br|gz)$/, ''));
}

export { fingerprintStem, isFingerprinted } from './fingerprint.js';

/** Content-Type from the maintained mime-types table; text types carry `charset=utf-8`. */
export function contentTypeFor(rel: string): string {
  const type = mime.lookup(rel);
  if (!type) return 'application/octet-stream';
  const full = mime.contentType(type) || type;
  // The table gives no charset to XML-based text (SVG, RSS, XML); browsers then guess.
  if (!full.includes('charset') && (/\+xml$/.test(type) || type === 'application/xml' || type === 'text/xml'))
    return `${type}; charset=utf-8`;
  return full;
}

function presetCacheControl(rel: string, preset: Preset): string | undefined {
  if (preset === 'none') return undefined;
  const entry = isEntry(rel);
  if (isFingerprinted(rel) && !entry) return IMMUTABLE;
  if (entry || preset === 'spa') return NO_CACHE;
  return SHORT_CACHE;
}

/**
 * Parses `headers` lines: `<glob>: <Header-Name>: <value>`. Later lines win
 * over earlier ones and over the preset; an empty value removes the header.
 */
export function parseHeaderRules(raw: string, input = 'headers'): HeaderRule[] {
  const rules: HeaderRule[] = [];
  const problems: ActionError[] = [];
  raw.split(/\r?\n/).forEach((text, i) => {
    const line = text.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(.+?):\s+([A-Za-z0-9-]+)\s*:(.*)$/.exec(line);
    const at = `line ${i + 1} of input '${input}'`;
    if (!m) {
      problems.push(
        new ActionError(`${at} is '${line}', not '<glob>: <Header-Name>: <value>'.`, {
          input,
          fix: "Write e.g. '*.pdf: Content-Disposition: attachment' (a space after the glob's colon).",
        }),
      );
      return;
    }
    const header = m[2]!.toLowerCase();
    if (!(SYSTEM_HEADERS as readonly string[]).includes(header) && !/^x-amz-meta-[a-z0-9-]+$/.test(header)) {
      problems.push(
        new ActionError(`${at} sets '${m[2]}', which S3 does not store per object.`, {
          input,
          fix: `Use one of ${SYSTEM_HEADERS.map(titleCase).join(', ')} or x-amz-meta-<name>.`,
        }),
      );
      return;
    }
    const glob = m[1]!.trim();
    rules.push({ glob, header, value: m[3]!.trim(), line: i + 1, match: picomatch(glob, { dot: true, basename: !glob.includes('/') }) });
  });
  if (problems.length > 0) throw aggregate(`Input '${input}' has errors`, problems);
  return rules;
}

function titleCase(h: string): string {
  return h.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

const FIELD: Record<SystemHeader, keyof Omit<ObjectHeaders, 'metadata'>> = {
  'cache-control': 'cacheControl',
  'content-type': 'contentType',
  'content-disposition': 'contentDisposition',
  'content-encoding': 'contentEncoding',
  'content-language': 'contentLanguage',
};

export function headersFor(rel: string, preset: Preset, rules: readonly HeaderRule[]): ObjectHeaders {
  const h: ObjectHeaders = { contentType: contentTypeFor(rel), metadata: {} };
  const cc = presetCacheControl(rel, preset);
  if (cc) h.cacheControl = cc;
  for (const rule of rules) {
    if (!rule.match(rel)) continue;
    if (rule.header.startsWith('x-amz-meta-')) {
      const name = rule.header.slice('x-amz-meta-'.length);
      if (rule.value === '') delete h.metadata[name];
      else h.metadata[name] = rule.value;
      continue;
    }
    const field = FIELD[rule.header as SystemHeader];
    if (rule.value === '') {
      if (field === 'contentType') h.contentType = 'application/octet-stream';
      else delete h[field];
    } else h[field] = rule.value;
  }
  return h;
}

/**
 * A short, stable hash of everything we manage about an object except its
 * bytes. Stored in the deploy manifest, it is how a header-rule change is
 * found without a HEAD request per file.
 */
export function headerHash(h: ObjectHeaders, acl?: string): string {
  const canonical = {
    acl: acl ?? '',
    cc: h.cacheControl ?? '',
    cd: h.contentDisposition ?? '',
    ce: h.contentEncoding ?? '',
    cl: h.contentLanguage ?? '',
    ct: h.contentType,
    meta: Object.entries(h.metadata).sort(([a], [b]) => (a < b ? -1 : 1)),
  };
  const text = JSON.stringify(canonical);
  let hash = HEADER_HASHES.get(text);
  if (hash === undefined) {
    hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    if (HEADER_HASHES.size < 1000) HEADER_HASHES.set(text, hash);
  }
  return hash;
}

/** A site has a handful of distinct header sets: hashing each once saves a SHA-256 per file. */
const HEADER_HASHES = new Map<string, string>();
