import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** Paths in inputs are relative to GITHUB_WORKSPACE; paths in messages are shown relative to it too. */
export interface Workspace {
  root: string;
  resolve(path: string): string;
}

export function workspace(root = process.env.GITHUB_WORKSPACE || process.cwd()): Workspace {
  return { root, resolve: (p) => (isAbsolute(p) ? p : resolve(root, p)) };
}

const inside = (rel: string) => rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);

/**
 * The path to show (and to annotate) for a file: relative to the git checkout
 * that holds it when that checkout sits inside the workspace, else relative to
 * the workspace. GitHub resolves annotation paths against the repository root,
 * and the reusable workflows check the application out into `app/`, so
 * `app/infra/x.json` would point at nothing while `infra/x.json` links to the file.
 */
export function displayPath(abs: string, ws: Workspace): string {
  const fromWorkspace = relative(ws.root, abs);
  if (!inside(fromWorkspace)) return abs;
  for (let dir = dirname(abs); inside(relative(ws.root, dir)); dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return relative(dir, abs).split('\\').join('/');
  }
  return fromWorkspace.split('\\').join('/');
}
