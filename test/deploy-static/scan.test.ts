import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanSource } from '../../actions/deploy-static/scan.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'scan-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

describe('scanning the source folder', () => {
  it('lists files with /-separated paths and their content MD5', async () => {
    const root = tree({ 'index.html': 'hello', 'assets/a.js': '' });
    const files = await scanSource(root);
    expect(files.map((f) => [f.rel, f.size, f.md5])).toEqual([
      ['assets/a.js', 0, 'd41d8cd98f00b204e9800998ecf8427e'],
      ['index.html', 5, '5d41402abc4b2a76b9719d911017c592'],
    ]);
  });

  it('refuses a missing folder and an empty one (which would delete the site)', async () => {
    await expect(scanSource('/nonexistent/dist')).rejects.toThrow(/does not exist/);
    await expect(scanSource(tree({}))).rejects.toThrow(/has no files.*refusing to deploy an empty site/);
    await expect(scanSource(tree({ '.DS_Store': 'x' }), { exclude: ['.DS_Store'] })).rejects.toThrow(/after exclude/);
  });

  it('rejects symlinks that leave the source and follows those that stay inside', async () => {
    const outside = tree({ credentials: 'secret' });
    const root = tree({ 'index.html': 'x', 'real/a.txt': 'a' });
    symlinkSync(join(outside, 'credentials'), join(root, 'leak.txt'));
    await expect(scanSource(root)).rejects.toThrow(/'leak.txt' is a symlink that points outside the source folder/);
    const ok = tree({ 'index.html': 'x', 'real/a.txt': 'a' });
    symlinkSync(join(ok, 'real'), join(ok, 'alias'));
    symlinkSync(ok, join(ok, 'real', 'loop'));
    expect((await scanSource(ok)).map((f) => f.rel)).toEqual(['alias/a.txt', 'index.html']);
  });

  it('skips excluded files', async () => {
    const root = tree({ 'index.html': 'x', '.git/config': 'y', 'a/.DS_Store': 'z' });
    expect((await scanSource(root, { exclude: ['.git/**', '.DS_Store'] })).map((f) => f.rel)).toEqual(['index.html']);
  });
});
