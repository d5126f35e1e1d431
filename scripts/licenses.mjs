// licenses.txt for a bundle, written from webpack's stats (ncc --stats-out) instead of ncc's
// --license: ncc's license plugin lists only the packages of the chunks split off by dynamic
// imports, so a bundle with chunks shipped without the licenses of what its index.js holds.
// The format is the one ncc writes: per package its name, its license field and its license
// file's text, one blank line between packages, sorted by name.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const nodeModules = '/node_modules/';

/** The file path of every module in webpack stats, modules concatenated into one included. */
export function modulePaths(stats) {
  const paths = [];
  const walk = (modules) => {
    for (const m of modules ?? []) {
      if (typeof m.nameForCondition === 'string') paths.push(m.nameForCondition);
      walk(m.modules);
    }
  };
  walk(stats.modules);
  return paths;
}

/**
 * The packages the module paths belong to: the folder after the last node_modules/ (two for a
 * scoped name). Paths outside node_modules (the repo's own sources) are not packages.
 * Sorted by name, then folder; each folder once.
 */
export function bundledPackages(paths) {
  const byDir = new Map();
  for (const raw of paths) {
    const path = raw.replaceAll('\\', '/');
    const at = path.lastIndexOf(nodeModules);
    if (at < 0) continue;
    const parts = path.slice(at + nodeModules.length).split('/');
    const size = parts[0]?.startsWith('@') ? 2 : 1;
    // A path that ends at node_modules/ or at a bare scope folder names no package.
    if (parts.length <= size || parts.slice(0, size).some((p) => p === '')) continue;
    const name = parts.slice(0, size).join('/');
    const dir = path.slice(0, at + nodeModules.length) + name;
    byDir.set(dir, { name, dir });
  }
  return [...byDir.values()].sort((a, b) => compare(a.name, b.name) || compare(a.dir, b.dir));
}

/** The license file among a package folder's file names, as ncc's plugin (and COPYING) finds it. */
export function licenseFileName(fileNames) {
  return [...fileNames].sort(compare).find((f) => /^(licen[cs]e|copying)/i.test(f));
}

/** One package's entry: name, license (from package.json), license text when there is one. */
export function licenseEntry(name, manifest, text) {
  const license = licenseId(manifest);
  return [name, license, text?.replace(/\r\n/g, '\n')].filter((l) => l !== undefined && l !== '').join('\n');
}

/** The whole file: entries sorted (they arrive sorted by name), each distinct entry once. */
export function renderLicenses(entries) {
  return `${[...new Set(entries)].join('\n\n').trim()}\n`;
}

function licenseId(manifest) {
  const { license, licenses } = manifest;
  if (typeof license === 'string') return license;
  if (typeof license?.type === 'string') return license.type;
  // The old `licenses: [{ type }]` form.
  if (Array.isArray(licenses))
    return licenses
      .map((l) => (typeof l === 'string' ? l : l?.type))
      .filter(Boolean)
      .join(' OR ');
  return undefined;
}

function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** licenses.txt's text for the bundle described by a webpack stats file. */
export function licensesFromStats(statsFile) {
  const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
  const entries = bundledPackages(modulePaths(stats)).map(({ name, dir }) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
    const file = licenseFileName(files);
    return licenseEntry(manifest.name ?? name, manifest, file === undefined ? undefined : readFileSync(join(dir, file), 'utf8'));
  });
  return renderLicenses(entries);
}
