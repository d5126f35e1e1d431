import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BODY_CACHE_BYTES, BODY_CACHE_MAX_FILE, scanSource } from '../../actions/deploy-static/scan.js';

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
    // `latest -> v3` sorts before `v3`: both names are uploaded, so v3/* is never taken for "gone from source".
    const ok = tree({ 'index.html': 'x', 'v3/a.txt': 'a' });
    symlinkSync(join(ok, 'v3'), join(ok, 'latest'));
    symlinkSync('v3/a.txt', join(ok, 'current.txt'));
    const files = await scanSource(ok);
    expect(files.map((f) => f.rel)).toEqual(['current.txt', 'index.html', 'latest/a.txt', 'v3/a.txt']);
    expect(new Set(files.filter((f) => f.rel !== 'index.html').map((f) => f.md5)).size).toBe(1);
  });

  it('rejects a directory link back to one of its ancestors, naming the link', async () => {
    const root = tree({ 'index.html': 'x', 'docs/a.txt': 'a' });
    symlinkSync(root, join(root, 'docs', 'loop'));
    await expect(scanSource(root)).rejects.toThrow(/'docs\/loop' is a symlink to its own ancestor '\.': following it would loop forever/);
  });

  it('skips dotfiles (.git, .env, .DS_Store) unless include-dotfiles, but keeps .well-known', async () => {
    const root = tree({ 'index.html': 'x', '.env': 'SECRET=1', '.git/config': 'y', 'a/.DS_Store': 'z', '.well-known/security.txt': 's' });
    expect((await scanSource(root)).map((f) => f.rel)).toEqual(['.well-known/security.txt', 'index.html']);
    expect((await scanSource(root, { includeDotfiles: true })).map((f) => f.rel)).toEqual([
      '.env',
      '.git/config',
      '.well-known/security.txt',
      'a/.DS_Store',
      'index.html',
    ]);
  });

  it('skips excluded files', async () => {
    const root = tree({ 'index.html': 'x', '.git/config': 'y', 'a/.DS_Store': 'z' });
    expect((await scanSource(root, { exclude: ['.git/**', '.DS_Store'], includeDotfiles: true })).map((f) => f.rel)).toEqual([
      'index.html',
    ]);
  });

  it('hashes a file over 4 MiB by streaming it (no bytes kept), small ones in one read with their bytes kept, in path order', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 3, 'ab');
    const root = tree({ 'a.txt': 'small', 'b/video.mp4': big.toString('latin1'), 'c.txt': 'also small' });
    const files = await scanSource(root);
    const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
    expect(files.map((f) => [f.rel, f.size, f.md5, f.body?.toString('latin1')])).toEqual([
      ['a.txt', 5, md5('small'), 'small'],
      ['b/video.mp4', big.length, md5(big), undefined],
      ['c.txt', 10, md5('also small'), 'also small'],
    ]);
  });

  it('keeps the bytes of files up to BODY_CACHE_MAX_FILE, and of no more than BODY_CACHE_BYTES in all; the rest are hashed all the same', async () => {
    const files: Record<string, string> = { 'a-just-over.bin': 'x'.repeat(BODY_CACHE_MAX_FILE + 1) };
    const count = Math.ceil(BODY_CACHE_BYTES / BODY_CACHE_MAX_FILE) + 4;
    for (let i = 0; i < count; i++) files[`f/${String(i).padStart(3, '0')}.bin`] = String(i % 10).repeat(BODY_CACHE_MAX_FILE);
    const scanned = await scanSource(tree(files));
    const kept = scanned.filter((f) => f.body !== undefined);
    expect(scanned.find((f) => f.rel === 'a-just-over.bin')!.body).toBeUndefined();
    expect(kept).toHaveLength(BODY_CACHE_BYTES / BODY_CACHE_MAX_FILE);
    expect(kept.map((f) => f.rel)).toEqual(
      scanned
        .filter((f) => f.rel.startsWith('f/'))
        .slice(0, kept.length)
        .map((f) => f.rel),
    );
    for (const f of scanned) expect(f.md5).toBe(createHash('md5').update(files[f.rel]!).digest('hex'));
  });
});
