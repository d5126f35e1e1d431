// Builds one minified ncc bundle per action: actions/<name>/main.ts -> dist/<name>/index.js
// (+ licenses.txt). Run with `npm run build`; CI fails when the result differs from git.
// licenses.txt comes from the bundle's webpack stats (scripts/licenses.mjs), not ncc's --license,
// which leaves out the packages of index.js when dynamic imports split the bundle into chunks.
// Types are checked once by `npm run lint` (tsc --noEmit), so ncc only transpiles; the
// bundles are built in parallel, one per core.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { licensesFromStats } from './licenses.mjs';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
// The actions are the folders under actions/ that hold an action.yml: the one list the build,
// the metadata and workflow tests and the CI smoke-job check derive from (test/helpers/actions.ts).
const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'action.yml')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name));

async function build(name) {
  const out = join(root, 'dist', name);
  // Build next to the old bundle and swap at the end, so a failed build
  // leaves the committed bundle in place instead of none.
  const tmp = join(root, 'dist', `.${name}.building`);
  rmSync(tmp, { recursive: true, force: true });
  // The stats are the build's, not the product's: kept out of dist/.
  const statsDir = mkdtempSync(join(tmpdir(), `ncc-stats-${name}-`));
  const stats = join(statsDir, 'stats.json');
  const ncc = join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js');
  const args = [
    'build',
    `actions/${name}/main.ts`,
    '-o',
    tmp,
    '--minify',
    '--stats-out',
    stats,
    '--quiet',
    '--target',
    'es2022',
    '--transpile-only',
  ];
  try {
    await run(process.execPath, [ncc, ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(statsDir, { recursive: true, force: true });
    throw new Error(`ncc failed for actions/${name}/main.ts:\n${err.stdout ?? ''}${err.stderr ?? err.message}`, { cause: err });
  }
  // The bundle is ESM; this marker keeps it ESM even if copied away from our package.json.
  writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
  try {
    writeFileSync(join(tmp, 'licenses.txt'), licensesFromStats(stats));
  } finally {
    rmSync(statsDir, { recursive: true, force: true });
  }
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  console.log(`built dist/${name}/index.js`);
}

const queue = [...actions];
const workers = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
  for (let name = queue.shift(); name; name = queue.shift()) await build(name);
});
const results = await Promise.allSettled(workers);
const failed = results.filter((r) => r.status === 'rejected');
for (const f of failed) console.error(f.reason.message);
if (failed.length > 0) process.exit(1);
