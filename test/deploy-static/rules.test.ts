import { describe, expect, it } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import {
  IMMUTABLE,
  NO_CACHE,
  SHORT_CACHE,
  contentTypeFor,
  headerHash,
  headersFor,
  isEntry,
  fingerprintStem,
  isFingerprinted,
  parseHeaderRules,
} from '../../actions/deploy-static/rules.js';

describe('Content-Type', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['assets/app.mjs', 'text/javascript; charset=utf-8'],
    ['assets/app.3f9a1c.js', 'text/javascript; charset=utf-8'],
    ['assets/app.3f9a1c.css', 'text/css; charset=utf-8'],
    ['assets/app.3f9a1c.js.map', 'application/json; charset=utf-8'],
    ['engine.wasm', 'application/wasm'],
    ['manifest.webmanifest', 'application/manifest+json; charset=utf-8'],
    ['img/hero.avif', 'image/avif'],
    ['fonts/inter.woff2', 'font/woff2'],
    ['logo.svg', 'image/svg+xml; charset=utf-8'],
    ['robots.txt', 'text/plain; charset=utf-8'],
    ['data.json', 'application/json; charset=utf-8'],
    ['LICENSE', 'application/octet-stream'],
  ])('%s → %s', (rel, type) => {
    expect(contentTypeFor(rel)).toBe(type);
  });
});

describe('fingerprinted names', () => {
  it.each([
    ['assets/app.3f9a1c.js', true],
    ['assets/index-BqG5W8cL.js', true],
    ['assets/index-dk3pq8al.css', true],
    ['chunk-3f9a1c2b.js', true],
    ['assets/app.3f9a1c.js.map', true],
    ['app.js', false],
    ['jquery.min.js', false],
    ['polyfills-es2015.js', false],
    ['lib-v2.0.1.js', false],
    ['decade.js', false],
    ['favicon.ico', false],
    // Real names from default bundler output (Vite 5/Rollup 4 base64url, webpack 5, CRA, Angular, Next.js, Parcel, esbuild).
    ['assets/index-C-HkVLXe.js', true],
    ['assets/vendor-DlYcN_7x.js', true],
    ['assets/index-_aB3xY9q.css', true],
    ['assets/react-CHdo91hT.svg', true],
    ['assets/index-Bf-4Wq_e.js.map', true],
    ['static/js/main.8e3f9c1a.js', true],
    ['static/js/2.a1b2c3d4.chunk.js', true],
    ['static/css/main.8e3f9c1a.chunk.css', true],
    ['main.a1b2c3d4e5f6a7b8.js', true],
    ['_next/static/chunks/pages/_app-0a1b2c3d4e5f6a7b.js', true],
    ['index.7f8e9d0c.js', true],
    ['out/index-5KPJQKUN.js', true],
    ['main.3f9a1c2b4d5e6f708192.js', true],
    // Mutable names that look hashy: sizes, dates, seasons, versions, words.
    ['img/hero-1920x1080.jpg', false],
    ['img/banner-spring2024.png', false],
    ['img/banner-spring24.png', false],
    ['icons/icon-192x192.png', false],
    ['apple-touch-icon-180x180.png', false],
    ['favicon-32x32.png', false],
    ['photo-20240115.jpg', false],
    ['report-q3-2024.pdf', false],
    ['fonts/Roboto-Regular.woff2', false],
    ['fonts/fa-solid-900.woff2', false],
    ['sprite-my-icons.svg', false],
    ['docs/Product-Overview.pdf', false],
    ['app.settings.json', false],
    ['bootstrap.bundle.min.js', false],
    ['jquery-3.7.1.min.js', false],
    ['sitemap-0.xml', false],
  ])('%s → %s', (rel, expected) => {
    expect(isFingerprinted(rel)).toBe(expected);
  });

  it.each([
    ['assets/index-C-HkVLXe.js', 'assets/index-*.js'],
    ['assets/app.3f9a1c.js.map', 'assets/app.*.js.map'],
    ['static/js/2.a1b2c3d4.chunk.js', 'static/js/2.*.chunk.js'],
    ['robots.txt', undefined],
  ])('stem of %s is %s', (rel, stem) => {
    expect(fingerprintStem(rel)).toBe(stem);
  });
});

describe('Cache-Control presets', () => {
  it.each([
    ['static', 'assets/app.3f9a1c.js', IMMUTABLE],
    ['static', 'index.html', NO_CACHE],
    ['static', 'docs/index.html', NO_CACHE],
    ['static', 'sw.js', NO_CACHE],
    ['static', 'manifest.webmanifest', NO_CACHE],
    ['static', 'favicon.ico', SHORT_CACHE],
    ['spa', 'favicon.ico', NO_CACHE],
    ['spa', 'assets/index-BqG5W8cL.js', IMMUTABLE],
    ['none', 'assets/app.3f9a1c.js', undefined],
  ] as const)('%s: %s → %s', (preset, rel, cc) => {
    expect(headersFor(rel, preset, []).cacheControl).toBe(cc);
  });

  it('treats HTML, service workers and web manifests as entry files, assets not', () => {
    expect(['index.html', 'a/b.htm', 'sw.js', 'service-worker.js', 'site.webmanifest', 'manifest.json'].every(isEntry)).toBe(true);
    expect(['assets/app.3f9a1c.js', 'logo.svg', 'robots.txt'].some(isEntry)).toBe(false);
  });
});

describe('header rules', () => {
  it('override the preset by glob, later lines win, an empty value removes the header', () => {
    const rules = parseHeaderRules(
      [
        '# comment',
        '*.pdf: Content-Disposition: attachment',
        'docs/**: Cache-Control: public, max-age=600',
        'docs/old/**: Cache-Control:',
        '*.js: Content-Type: application/javascript',
        '*.html: x-amz-meta-team: web',
      ].join('\n'),
    );
    expect(headersFor('docs/guide.pdf', 'static', rules)).toMatchObject({
      contentType: 'application/pdf',
      contentDisposition: 'attachment',
      cacheControl: 'public, max-age=600',
    });
    expect(headersFor('docs/old/a.txt', 'static', rules).cacheControl).toBeUndefined();
    expect(headersFor('x/y.js', 'static', rules).contentType).toBe('application/javascript');
    expect(headersFor('index.html', 'static', rules).metadata).toEqual({ team: 'web' });
    // A glob without '/' matches the file name in any folder; with '/', the path from source.
    expect(headersFor('other/guide.pdf', 'static', rules).contentDisposition).toBe('attachment');
    expect(headersFor('other/a.txt', 'static', rules).cacheControl).toBe(SHORT_CACHE);
  });

  it('reports every bad line at once, naming the input and line', () => {
    let err: unknown;
    try {
      parseHeaderRules('*.js Cache-Control max-age=1\n*.css: X-Frame-Options: DENY');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect(String(err)).toMatch(/line 1 of input 'headers'/);
    expect(String(err)).toMatch(/line 2 of input 'headers' sets 'X-Frame-Options'/);
  });

  it('hash changes when any managed header or the ACL changes, not otherwise', () => {
    const base = headersFor('index.html', 'static', []);
    expect(headerHash(base)).toBe(headerHash(headersFor('index.html', 'static', [])));
    expect(headerHash(base)).not.toBe(headerHash({ ...base, cacheControl: 'max-age=1' }));
    expect(headerHash(base)).not.toBe(headerHash(base, 'public-read'));
    expect(headerHash({ ...base, metadata: { a: '1', b: '2' } })).toBe(headerHash({ ...base, metadata: { b: '2', a: '1' } }));
  });

  it('hash covers every managed header, each on its own', () => {
    const base = headersFor('index.html', 'static', []);
    const variants = [
      { ...base, contentType: 'text/plain' },
      { ...base, cacheControl: undefined },
      { ...base, contentDisposition: 'attachment' },
      { ...base, contentEncoding: 'br' },
      { ...base, contentLanguage: 'de' },
      { ...base, metadata: { team: 'web' } },
    ];
    const hashes = new Set([headerHash(base), ...variants.map((v) => headerHash(v))]);
    expect(hashes.size).toBe(variants.length + 1);
    expect(headerHash(base)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('sets and removes every system header and metadata by rule; an emptied Content-Type falls back to octet-stream', () => {
    const rules = parseHeaderRules(
      [
        '*.txt: Content-Encoding: gzip',
        '*.txt: Content-Language: de',
        '*.txt: x-amz-meta-owner: docs',
        'keep/*.txt: x-amz-meta-owner:',
        'raw/*.txt: Content-Type:',
        'raw/*.txt: Content-Encoding:',
      ].join('\r\n'),
    );
    expect(headersFor('a.txt', 'none', rules)).toEqual({
      contentType: 'text/plain; charset=utf-8',
      contentEncoding: 'gzip',
      contentLanguage: 'de',
      metadata: { owner: 'docs' },
    });
    expect(headersFor('keep/a.txt', 'none', rules).metadata).toEqual({});
    expect(headersFor('raw/a.txt', 'none', rules)).toEqual({
      contentType: 'application/octet-stream',
      contentLanguage: 'de',
      metadata: { owner: 'docs' },
    });
  });

  it('names the input it parses and offers the headers S3 stores, title-cased', () => {
    let err: ActionError | undefined;
    try {
      parseHeaderRules('\n*.css: X-Frame-Options: DENY', 'extra-headers');
    } catch (e) {
      err = e as ActionError;
    }
    // One problem is thrown as itself (aggregate), not wrapped.
    expect([err].map((p) => [p?.message, p?.location.input, p?.fix])).toEqual([
      [
        "line 2 of input 'extra-headers' sets 'X-Frame-Options', which S3 does not store per object.",
        'extra-headers',
        'Use one of Cache-Control, Content-Type, Content-Disposition, Content-Encoding, Content-Language or x-amz-meta-<name>.',
      ],
    ]);
  });

  it('keeps the glob and value as written (trimmed) and the line number', () => {
    const [rule] = parseHeaderRules('  # c\n  assets/*.js :  Cache-Control :  max-age=60  ');
    expect(rule).toMatchObject({ glob: 'assets/*.js', header: 'cache-control', value: 'max-age=60', line: 2 });
    expect(rule!.match('assets/a.js')).toBe(true);
    expect(rule!.match('other/assets/a.js')).toBe(false);
  });
});

describe('entry files and text types', () => {
  it.each([
    ['index.html.br', true],
    ['docs/index.htm.gz', true],
    ['assets/app.3f9a1c.js.br', false],
    ['.well-known/manifest.json', true],
  ])('%s is an entry file: %s', (rel, entry) => {
    expect(isEntry(rel)).toBe(entry);
  });

  it('a pre-compressed entry file gets no-cache under static', () => {
    expect(headersFor('index.html.br', 'static', []).cacheControl).toBe(NO_CACHE);
  });

  it.each([
    ['feed.rss', 'application/rss+xml; charset=utf-8'],
    ['data.xml', 'application/xml; charset=utf-8'],
  ])('%s gets a charset (XML text): %s', (rel, type) => {
    expect(contentTypeFor(rel)).toBe(type);
  });
});
