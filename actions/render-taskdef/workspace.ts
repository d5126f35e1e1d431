import { isAbsolute, relative, resolve } from 'node:path';

/** Paths in inputs are relative to GITHUB_WORKSPACE; paths in messages are shown relative to it too. */
export interface Workspace {
  root: string;
  resolve(path: string): string;
}

export function workspace(root = process.env.GITHUB_WORKSPACE || process.cwd()): Workspace {
  return { root, resolve: (p) => (isAbsolute(p) ? p : resolve(root, p)) };
}

export function displayPath(abs: string, ws: Workspace): string {
  const rel = relative(ws.root, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split('\\').join('/') : abs;
}
