/**
 * Header rules and presets at their edges: which files are entry files, which cache lifetime an
 * entry file with a hash gets, which `headers` lines are refused and how, and the header hash the
 * deploy record stores (a change of it makes every object look re-headed on the next deploy).
 */
import { describe, expect, it } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import { IMMUTABLE, NO_CACHE, SHORT_CACHE, headerHash, headersFor, isEntry, parseHeaderRules } from '../../actions/deploy-static/rules.js';

function refusal(raw: string): ActionError {
  try {
    parseHeaderRules(raw);
  } catch (e) {
    return e as ActionError;
  }
  throw new Error(`'${raw}' was accepted`);
}

describe('entry files and presets', () => {
  it.each([
    ['docs/sw.js', true],
    ['.hidden/index.html', true],
    ['app/service-worker.js', true],
    ['sw.gz.js', false],
    ['index.html.zst', false],
    ['manifest.json.map', false],
    ['.index.html', true],
  ])('%s is an entry file: %s', (rel, entry) => {
    expect(isEntry(rel)).toBe(entry);
  });

  it('an entry file whose name has a hash is still no-cache, never immutable', () => {
    expect(headersFor('index.3f9a1c2b.html', 'static', []).cacheControl).toBe(NO_CACHE);
    expect(headersFor('index.3f9a1c2b.html', 'spa', []).cacheControl).toBe(NO_CACHE);
    expect(headersFor('index.html', 'none', []).cacheControl).toBeUndefined();
    expect(headersFor('robots.txt', 'spa', []).cacheControl).toBe(NO_CACHE);
    expect(headersFor('robots.txt', 'static', []).cacheControl).toBe(SHORT_CACHE);
    expect(headersFor('assets/app.3f9a1c.js', 'spa', []).cacheControl).toBe(IMMUTABLE);
  });
});

describe('headers lines refused', () => {
  it('a line without a space after the glob colon names the line, the input and the form', () => {
    const err = refusal('*.pdf:Content-Disposition: attachment');
    expect([err.message, err.location.input, err.fix]).toEqual([
      "line 1 of input 'headers' is '*.pdf:Content-Disposition: attachment', not '<glob>: <Header-Name>: <value>'.",
      'headers',
      "Write e.g. '*.pdf: Content-Disposition: attachment' (a space after the glob's colon).",
    ]);
  });

  it.each(['*.txt: x-amz-meta-: v', '*.txt: Foo-X-Amz-Meta-A: v', '*.txt: Expires: 0', '*.txt: x-amz-meta: v'])(
    '%s: a header S3 does not store per object',
    (line) => {
      expect(refusal(line).message).toMatch(/which S3 does not store per object\.$/);
    },
  );

  it('every bad line at once: the summary counts them', () => {
    const err = refusal('*.txt: Expires: 0\n\n   \n# fine\n*.css X-Frame-Options DENY');
    expect(err.message).toMatch(/^Input 'headers' has errors \(2 problems\):/);
    expect(err.problems.map((p) => p.message.slice(0, 30))).toEqual(["line 1 of input 'headers' sets", "line 5 of input 'headers' is '"]);
  });
});

describe('headers lines accepted', () => {
  it('metadata names in any case, values with colons, and blank or comment lines around them', () => {
    const rules = parseHeaderRules('\n  \n# c\n*.txt: X-Amz-Meta-Team: a:b\n*.txt: Cache-Control: max-age=60, s-maxage=1:2');
    expect(rules.map((r) => [r.header, r.value, r.line])).toEqual([
      ['x-amz-meta-team', 'a:b', 4],
      ['cache-control', 'max-age=60, s-maxage=1:2', 5],
    ]);
    expect(headersFor('a.txt', 'static', rules)).toMatchObject({ metadata: { team: 'a:b' }, cacheControl: 'max-age=60, s-maxage=1:2' });
  });

  it('a glob reaches into dot folders (`.vuepress/`)', () => {
    const rules = parseHeaderRules('docs/**: Cache-Control: max-age=600');
    expect(headersFor('docs/.vuepress/x.js', 'static', rules).cacheControl).toBe('max-age=600');
  });

  it('a rule that does not match leaves the preset; an emptied metadata value removes only that name', () => {
    const rules = parseHeaderRules('*.txt: x-amz-meta-a: 1\n*.txt: x-amz-meta-b: 2\nold/*.txt: x-amz-meta-a:');
    expect(headersFor('old/x.txt', 'static', rules).metadata).toEqual({ b: '2' });
    expect(headersFor('x.css', 'static', rules)).toEqual({
      contentType: 'text/css; charset=utf-8',
      cacheControl: SHORT_CACHE,
      metadata: {},
    });
  });
});

describe('the header hash', () => {
  it('is the value this version writes into records: a different one would make every object look re-headed once', () => {
    const html = { contentType: 'text/html; charset=utf-8', cacheControl: NO_CACHE, metadata: {} };
    expect([headerHash(html), headerHash(html, '')]).toEqual(['59d900a3178c5cbd', '59d900a3178c5cbd']);
    const all = {
      contentType: 'text/plain',
      cacheControl: 'max-age=1',
      contentDisposition: 'attachment',
      contentEncoding: 'br',
      contentLanguage: 'de',
      metadata: { b: '2', a: '1' },
    };
    expect(headerHash(all, 'public-read')).toBe('07faf21670e49f73');
    // The `none` preset: no Cache-Control at all.
    expect(headerHash(headersFor('a.txt', 'none', []))).toBe('a24d864f0283b4d7');
  });
});
