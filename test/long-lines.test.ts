/**
 * Product code (actions/, lib/) keeps its lines at most 160 characters. The formatter wraps code at
 * 140 but never breaks a string, so a long message has to be split by hand (`'…' +` on the next
 * line). ALLOWED is 0: none is over the limit (lib/generated/ is generated JSON, not .ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '..');
const LIMIT = 160;
const ALLOWED = 0;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `file:line (length)` of every line over `limit` characters in the .ts files under `dirs`. */
function longLines(root: string, dirs: string[], limit: number): string[] {
  return dirs.flatMap((dir) =>
    sources(join(root, dir)).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > limit ? [`${relative(root, file)}:${i + 1} (${line.length})`] : [])),
    ),
  );
}

describe('line length of actions/ and lib/', () => {
  it(`has at most ${ALLOWED} lines over ${LIMIT} characters`, () => {
    const long = longLines(repoRoot, ['actions', 'lib'], LIMIT);
    expect(long.length, `lines over ${LIMIT} characters:\n${long.join('\n')}`).toBeLessThanOrEqual(ALLOWED);
  });
});
