import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { holdsMoreFilesThan } from '../../actions/deploy-static/source-size.js';

/** A folder with `n` files spread over nested folders (3 per folder, 2 levels deep). */
function build(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'source-size-'));
  for (let i = 0; i < n; i++) {
    const folder = join(dir, `a${i % 3}`, `b${Math.floor(i / 3) % 4}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.js`), '');
  }
  return dir;
}

describe('holdsMoreFilesThan (where the entry point runs a deploy)', () => {
  it('counts the files in nested folders, not the folders: exactly the limit is not more', () => {
    const dir = build(25);
    expect(holdsMoreFilesThan(dir, 25)).toBe(false);
    expect(holdsMoreFilesThan(dir, 24)).toBe(true);
    expect(holdsMoreFilesThan(dir, 0)).toBe(true);
  });

  it('counts a symlink as one entry without following it', () => {
    const dir = build(2);
    symlinkSync(join(dir, 'a0'), join(dir, 'link'));
    expect(holdsMoreFilesThan(dir, 2)).toBe(true);
    expect(holdsMoreFilesThan(dir, 3)).toBe(false);
  });

  it('answers no for a run without a source, or a folder it cannot read (the run reports that itself)', () => {
    expect(holdsMoreFilesThan('', 0)).toBe(false);
    expect(holdsMoreFilesThan(join(tmpdir(), 'no-such-build-folder-9f3a'), 0)).toBe(false);
    const file = join(build(0), 'a-file');
    writeFileSync(file, '');
    expect(holdsMoreFilesThan(file, 0)).toBe(false);
  });
});
