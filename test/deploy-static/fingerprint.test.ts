/**
 * Content-named build outputs against versioned, dated and numbered names
 * people give files by hand. A name in the first table that is missed loses
 * its year of caching; a name in the second that is taken for a fingerprint is
 * cached `immutable` for a year and treated by rollback as an asset that never
 * changes. The patterns are each tool's documented default:
 *
 * - Vite / Rollup: output.assetFileNames `assets/[name]-[hash][extname]`,
 *   chunkFileNames `[name]-[hash].js`, 8 url-safe base64 characters
 *   (https://rollupjs.org/configuration-options/#output-assetfilenames,
 *   #output-hashcharacters; https://vite.dev/config/build-options#build-assetsdir).
 * - webpack: `[name].[contenthash].js`, e.g. `main.7e2c49a622975ebd9b7e.js`
 *   (https://webpack.js.org/guides/caching/); Create React App
 *   `static/js/main.[contenthash:8].js`.
 * - Next.js: `_next/static/chunks/[name]-[16 hex].js`, `_next/static/css/[16 hex].css`,
 *   `_next/static/media/[name].[8 hex].[ext]`; everything under `_next/static/`
 *   is served immutable (https://nextjs.org/docs/app/api-reference/adapters/immutable-static-assets).
 * - Nuxt: Vite client build with chunks named `_nuxt/[hash].js`
 *   (https://nuxt.com/docs/getting-started/assets; nuxt/nuxt packages/vite client build options).
 * - Angular: application builder (esbuild) `main-[hash].js`, `chunk-[hash].js`,
 *   `styles-[hash].css`; webpack builder `main.[16 hex].js`
 *   (https://angular.dev/reference/configs/workspace-config#output-hashing-options).
 * - Astro: `_astro/[name].[hash].[ext]`, e.g. `_astro/index.DRf8L97S.js`
 *   (https://docs.astro.build/en/recipes/customizing-output-filenames/).
 * - SvelteKit: `${appDir}/immutable/{entry,chunks,nodes,assets}/[name].[hash][extname]`
 *   (https://svelte.dev/docs/kit/configuration#appDir).
 * - Parcel: `[name].[hash].[ext]`, 8 hex, e.g. `index.c2dc1f85.js`
 *   (https://parceljs.org/features/production/#content-hashing).
 * - esbuild: `--asset-names=[name]-[hash]`, 8 upper-case base32 characters,
 *   e.g. `image-CQFGD2NG.png` (https://esbuild.github.io/api/#asset-names).
 */
import { describe, expect, it } from 'vitest';
import { fingerprintStem, isFingerprinted } from '../../actions/deploy-static/fingerprint.js';
import { IMMUTABLE, SHORT_CACHE, headersFor } from '../../actions/deploy-static/rules.js';

const FINGERPRINTED: [tool: string, rel: string][] = [
  ['Vite', 'assets/index-C-HkVLXe.js'],
  ['Vite', 'assets/index-BqG5W8cL.css'],
  ['Vite', 'assets/vendor-DlYcN_7x.js'],
  ['Vite', 'assets/react-CHdo91hT.svg'],
  ['Vite', 'assets/index-_aB3xY9q.css'],
  ['Vite', 'assets/index-Bf-4Wq_e.js.map'],
  ['Vite', 'assets/inter-latin-400-normal-BOOGhInR.woff2'],
  ['Rollup', 'dist/main-dk3pq8al.js'],
  ['Rollup', 'dist/chunk-Cz8m2Wq1.js'],
  ['webpack', 'main.7e2c49a622975ebd9b7e.js'],
  ['webpack', 'vendors.a3f9c2e41b7d5068e1f2.js'],
  ['webpack', '2.a1b2c3d4.chunk.js'],
  ['webpack', 'runtime.3f9a1c2b4d5e6f708192.js'],
  ['webpack', 'styles.8e3f9c1a2b4d6e7f9012.css'],
  ['Create React App', 'static/js/main.8e3f9c1a.js'],
  ['Create React App', 'static/js/787.2c9b4f1e.chunk.js'],
  ['Create React App', 'static/css/main.8e3f9c1a.css'],
  ['Create React App', 'static/media/logo.6ce24c58023cc2f8fd88fe9d219db6c6.svg'],
  ['Next.js', '_next/static/css/3f4a9b1c2d3e4f50.css'],
  ['Next.js', '_next/static/chunks/framework-2c79e2a64abdb08b.js'],
  ['Next.js', '_next/static/chunks/pages/_app-0a1b2c3d4e5f6a7b.js'],
  ['Next.js', '_next/static/chunks/app/page-8d1c4e2f9a0b3c5d.js'],
  ['Next.js', '_next/static/chunks/webpack-59c5c889f52620d6.js'],
  ['Next.js', '_next/static/media/logo.a1b2c3d4.svg'],
  ['Next.js', '_next/static/k3Jd8sLq9ZxW1vB2nM4pT/_buildManifest.js'],
  ['Nuxt', '_nuxt/BkxZ5Le2.js'],
  ['Nuxt', '_nuxt/entry.DqW2mZ8v.css'],
  ['Nuxt', '_nuxt/C9yF1q-B.js'],
  ['Angular', 'browser/main-KQGTCO2D.js'],
  ['Angular', 'browser/polyfills-FFHMD2TL.js'],
  ['Angular', 'browser/styles-5INURTSO.css'],
  ['Angular', 'browser/chunk-QWERTYUI.js'],
  ['Angular (webpack)', 'main.a1b2c3d4e5f6a7b8.js'],
  ['Angular (webpack)', 'polyfills.0f1e2d3c4b5a6978.js'],
  ['Astro', '_astro/index.DRf8L97S.js'],
  ['Astro', '_astro/hoisted.BqK1zX9a.js'],
  ['Astro', '_astro/about.Cx3mP0aZ.css'],
  ['SvelteKit', '_app/immutable/entry/start.CjG1aBcD.js'],
  ['SvelteKit', '_app/immutable/chunks/index.B2xq5vLz.js'],
  ['SvelteKit', '_app/immutable/nodes/0.BqL7x8Yt.js'],
  ['SvelteKit', '_app/immutable/assets/0.DQ3k1q2a.css'],
  ['Parcel', 'index.c2dc1f85.js'],
  ['Parcel', 'index.178894d8.css'],
  ['Parcel', 'logo.4f32dfb3.svg'],
  ['esbuild', 'out/index-5KPJQKUN.js'],
  ['esbuild', 'assets/png/image-CQFGD2NG.png'],
  ['esbuild', 'chunks/chunk-HZ2XWVPL.js'],
];

const NOT_FINGERPRINTED: string[] = [
  'docs/user-guide-v2.pdf',
  'legal/site-terms-v2.pdf',
  'data/covid-19-cases.csv',
  'img/slide-01-intro.png',
  'img/slide-12-Outro.png',
  'reports/annual-report-2023.pdf',
  'docs/release-notes-v10.pdf',
  'downloads/app-setup-1.4.2.exe',
  'img/team-photo-2024-06-01.jpg',
  'data/sales_2024_q1.csv',
  'fonts/OpenSans-SemiBold.woff2',
  'fonts/Inter-Variable.woff2',
  'fonts/Roboto-Regular.woff2',
  'fonts/fa-solid-900.woff2',
  'img/IMG_1234.jpg',
  'img/DSC01234.jpg',
  'media/podcast-ep-042.mp3',
  'docs/api-v1.2.0.yaml',
  'img/hero-2560x1440.webp',
  'img/banner-Summer24.png',
  'files/Invoice-Template.docx',
  'img/screenshot-01-Login.png',
  'downloads/setup-x64-v3.msi',
  'docs/Q3Report.pdf',
  'img/photo-20240115.jpg',
  'img/banner-spring2024.png',
  'icons/apple-touch-icon-180x180.png',
  'favicon-32x32.png',
  'docs/Product-Overview.pdf',
  'app.settings.json',
  'theme.DarkMode.css',
  'js/jquery-3.7.1.min.js',
  'bootstrap.bundle.min.js',
  'sitemap-0.xml',
  'sprite-my-icons.svg',
  'polyfills-es2015.js',
  'video/intro-1080p60.mp4',
  'data/metrics-2nd-half.csv',
  '_app/version.json',
];

describe('fingerprinted build outputs', () => {
  it(`has at least 40 content-named outputs from the ten tools and 20 names that are not`, () => {
    expect(FINGERPRINTED.length).toBeGreaterThanOrEqual(40);
    expect(new Set(FINGERPRINTED.map(([tool]) => tool.replace(/ \(.*\)$/, '').replace('Create React App', 'webpack')))).toEqual(
      new Set(['Vite', 'Rollup', 'webpack', 'Next.js', 'Nuxt', 'Angular', 'Astro', 'SvelteKit', 'Parcel', 'esbuild']),
    );
    expect(NOT_FINGERPRINTED.length).toBeGreaterThanOrEqual(20);
  });

  it.each(FINGERPRINTED)('%s: %s is content-named, cached immutable', (_tool, rel) => {
    expect(isFingerprinted(rel)).toBe(true);
    expect(headersFor(rel, 'static', []).cacheControl).toBe(IMMUTABLE);
  });

  it.each(NOT_FINGERPRINTED)('%s is not a fingerprint, cached briefly', (rel) => {
    expect(isFingerprinted(rel)).toBe(false);
    if (!/\.(html|json)$/.test(rel)) expect(headersFor(rel, 'static', []).cacheControl).toBe(SHORT_CACHE);
  });

  it.each([
    ['assets/index-C-HkVLXe.js', 'assets/index-*.js'],
    ['_next/static/css/3f4a9b1c2d3e4f50.css', '_next/static/css/*.css'],
    ['_nuxt/BkxZ5Le2.js', '_nuxt/*.js'],
    ['_astro/index.DRf8L97S.js', '_astro/index.*.js'],
    ['browser/main-KQGTCO2D.js', 'browser/main-*.js'],
  ])('stem of %s is %s', (rel, stem) => {
    expect(fingerprintStem(rel)).toBe(stem);
  });
});

/**
 * The edges of each rule, one name per edge: where a hash is looked for, how long hex may be, which
 * 8-character tokens read as words, numbers, sizes or acronyms, and which read as random. Names on
 * the left are content-named (a cache miss costs a year of caching), on the right they are not.
 */
describe('fingerprint rules at their edges', () => {
  it.each([
    // `[name]-[8]`: a name of one character is enough; Rollup / esbuild hashes that happen to read oddly are still hashes.
    ['a-BqG5W8cL.js', 'the shortest `[name]-[hash]`'],
    ['js/vendor-2c79e2a64abdb08b.js', '`[name]-[16 hex]` outside _next/ (Next.js chunk naming)'],
    [`main.${'a1'.repeat(32)}.js`, '64 hex digits (a SHA-256)'],
    ['css/3f4a9b1c2d3e4f50.css', '`[16 hex].css` outside _next/'],
    ['assets/logo-bcdfgh12.svg', 'letters without a vowel and digits'],
    ['assets/img-ab12x345.png', 'a size-like run inside the token'],
    ['assets/img-12x345ab.png', 'a size-like run at the start of the token'],
    ['assets/clip-zq1080px.mp4', 'a unit-like run after letters'],
    ['assets/deck-x-Intro1.js', 'a lone letter not before a number'],
    ['assets/img-ab-Intro.png', 'a two-letter run'],
    ['assets/app-x1y2z3w4.js', 'letters and digits alternating'],
  ])('%s is content-named (%s)', (rel) => {
    expect(isFingerprinted(rel)).toBe(true);
  });

  it.each([
    ['backup.a1b2c3d4', 'the extension is never the hash'],
    ['c0ffee.js', 'a whole name must be 16 hex digits or more'],
    ['a1b2c3d4e5.js', 'a whole name of 10 hex digits'],
    ['-BqG5W8cL.js', '`-[hash]` without a name'],
    ['-2c79e2a64abdb08b.js', '`-[hex]` without a name'],
    [`main.${'a1'.repeat(32)}f.js`, '65 hex digits is no hash'],
    ['app.deadbeef.js', 'hex letters without a digit'],
    ['img/logo-QWERTYUI.png', 'upper-case letters alone, not an Angular bundle'],
    ['domain-QWERTYUI.js', 'a name that ends in an Angular bundle name'],
    ['mainframe-QWERTYUI.js', 'a name that starts with one'],
    ['main-abcdefgh.js', 'an Angular bundle with a lower-case word'],
    ['file-Xqzvbnmk.txt', 'a capital first letter is not a second character class'],
    ['og-1200x630.png', 'a size of 8 characters'],
    ['video/trailer-2160p-4k.mp4', 'resolution and unit pieces'],
    ['img/IMAGE001.jpg', 'a five-letter acronym and a number'],
    ['IMG__123.jpg', 'an empty piece between two separators'],
  ])('%s is not (%s)', (rel) => {
    expect(isFingerprinted(rel)).toBe(false);
  });

  it.each([
    ['index-C-HkVLXe.js', 'index-*.js'],
    ['js/vendor-2c79e2a64abdb08b.js', 'js/vendor-*.js'],
    ['main.3f9a1c2b.js.map', 'main.*.js.map'],
  ])('stem of %s is %s', (rel, stem) => {
    expect(fingerprintStem(rel)).toBe(stem);
  });
});
