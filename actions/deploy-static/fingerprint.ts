import { posix } from 'node:path';

/**
 * Which build outputs are named by their content, from the default patterns
 * the bundlers document (the table in test/deploy-static/fingerprint.test.ts
 * holds real names of each):
 *
 * - Rollup / Vite: `[name]-[hash]`, 8 url-safe base64 characters (`-` and `_`
 *   included): `assets/index-C-HkVLXe.js` (rollupjs.org output.assetFileNames,
 *   output.hashCharacters). Astro and SvelteKit keep Vite's hash with a dot:
 *   `_astro/index.DRf8L97S.js` (docs.astro.build, "Customize file names in the
 *   build output"), `_app/immutable/chunks/index.B2xq5vLz.js`. Nuxt names
 *   chunks by the hash alone: `_nuxt/BkxZ5Le2.js`.
 * - webpack `[name].[contenthash].js`, hex (webpack.js.org/guides/caching:
 *   `main.7e2c49a622975ebd9b7e.js`); CRA and Angular's webpack builder the
 *   same with 8, 16 or 20 digits; Next.js `[name]-[16 hex].js` and
 *   `_next/static/css/[16 hex].css`.
 * - esbuild `[name]-[hash]`, 8 characters of upper-case base32
 *   (esbuild.github.io/api/#asset-names: `image-CQFGD2NG.png`), also Angular's
 *   application builder (`main-KQGTCO2D.js`, `chunk-7GZVMUXY.js`).
 * - Parcel `[name].[hash].[ext]`, 8 hex (`index.c2dc1f85.js`).
 * - Folders a framework fills with content-named files only and documents as
 *   cacheable for ever: Next.js `_next/static/`, SvelteKit `_app/immutable/`.
 *
 * A miss only costs a shorter cache lifetime; a false hit pins a mutable file
 * for a year and makes a rollback treat it as an asset that never changes.
 * So a candidate counts only when it cannot be read as words, numbers,
 * versions, sizes or dates: `user-guide-v2`, `covid-19-cases`,
 * `slide-01-intro`, `OpenSans-SemiBold`, `IMG_1234` never do.
 */
const IMMUTABLE_DIRS = /(^|\/)(_next\/static|_app\/immutable)\//;

/** Angular's application builder names these with an esbuild hash, which may be all letters. */
const ANGULAR_BUNDLES = /^(main|chunk|polyfills|styles|scripts|worker|server)$/;

function fingerprintToken(rel: string): string | undefined {
  const parts = posix.basename(rel).split('.');
  // The last part is the extension; `.js.map` and `.chunk.js` put the hash further left.
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    // `[name].[hash]`: a whole dot-separated part.
    if (i > 0 && (isHex(p, 6) || isRandomBase64(p))) return p;
    // `[hash].ext` (Nuxt, Next.js CSS): the whole name.
    if (i === 0 && (isHex(p, 16) || isRandomBase64(p))) return p;
    // `[name]-[hash]`: a Rollup hash may itself hold `-`, so take the last 8 characters after a dash.
    if (p.length >= 10 && p[p.length - 9] === '-') {
      const tail = p.slice(-8);
      if (isRandomBase64(tail) || (ANGULAR_BUNDLES.test(p.slice(0, -9)) && /^[A-Z2-7]{8}$/.test(tail))) return tail;
    }
    const dash = p.lastIndexOf('-');
    if (dash > 0 && isHex(p.slice(dash + 1), 8)) return p.slice(dash + 1);
  }
  return undefined;
}

export function isFingerprinted(rel: string): boolean {
  return IMMUTABLE_DIRS.test(rel) || fingerprintToken(rel) !== undefined;
}

/**
 * The name with its fingerprint blanked (`assets/index-*.js`): a deleted key
 * whose stem matches a new upload is a rebuild renaming an asset, not a loss.
 */
export function fingerprintStem(rel: string): string | undefined {
  const token = fingerprintToken(rel);
  if (!token) return undefined;
  const dir = posix.dirname(rel);
  const base = posix.basename(rel);
  const at = base.lastIndexOf(token, base.lastIndexOf('.'));
  const stem = `${base.slice(0, at)}*${base.slice(at + token.length)}`;
  return dir === '.' ? stem : `${dir}/${stem}`;
}

/** Lower-case hex with both digits and letters (`20240115` is a date, `deadbeef` a word). */
function isHex(token: string, min: number): boolean {
  return token.length >= min && token.length <= 64 && /^[0-9a-f]+$/.test(token) && /\d/.test(token) && /[a-f]/.test(token);
}

const VOWEL = /[aeiouy]/i;

/**
 * Pieces people put in names: words (`intro`, `Regular`, `FAQ`), CamelCase
 * words (`SemiBold`, `Q3Report`), numbers (`01`, `2024`), versions and
 * word+number (`v2`, `x64`, `spring24`, `DSC01234`), ordinals and units
 * (`2nd`, `4k`, `1080p`), sizes (`192x192`).
 */
function isWordPiece(piece: string): boolean {
  if (/^\d+x\d+$/.test(piece) || /^\d+(st|nd|rd|th|k|p|px|x)$/i.test(piece)) return true;
  const runs = piece.match(/\d+|[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g);
  if (runs === null || runs.join('') !== piece) return false;
  const lower = /[a-z]/.test(piece);
  return runs.every((r, i) => {
    if (/^\d+$/.test(r)) return true;
    // `v2`, `x64`, `Q3Report`: one letter, first, before a number.
    if (r.length === 1) return i === 0 && /^\d/.test(runs[1] ?? '');
    // An acronym, alone or with a number (`IMG`, `DSC01234`); upper case and digits alternating (`CQFGD2NG`) is base32.
    if (/^[A-Z]+$/.test(r)) return !lower && r.length <= 5 && runs.length <= 2;
    return /^([A-Z][a-z]{2,}|[a-z]{3,})$/.test(r) && VOWEL.test(r);
  });
}

/**
 * 8 url-safe base64 characters that read as random: at least two of
 * upper case (past the first letter), lower case and digits, and not a run of
 * words, numbers and versions joined by `-` or `_`.
 */
function isRandomBase64(token: string): boolean {
  if (!/^[A-Za-z0-9_-]{8}$/.test(token)) return false;
  const classes = [/[A-Z]/.test(token.slice(1)), /[a-z]/.test(token), /\d/.test(token)].filter(Boolean).length;
  if (classes < 2) return false;
  return !token
    .split(/[-_]/)
    .filter((p) => p !== '')
    .every(isWordPiece);
}
