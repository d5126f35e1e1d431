// Builds one minified ncc bundle per action: actions/<name>/main.ts -> dist/<name>/index.js
// (+ licenses.txt). Run with `npm run build`; CI fails when the result differs from git.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'main.ts')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name));

for (const name of actions) {
  const out = join(root, 'dist', name);
  // Build next to the old bundle and swap at the end, so a failed build (a
  // type error anywhere) leaves the committed bundle in place instead of none.
  const tmp = join(root, 'dist', `.${name}.building`);
  rmSync(tmp, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'), 'build', `actions/${name}/main.ts`, '-o', tmp, '--minify', '--license', 'licenses.txt', '--quiet', '--target', 'es2022'],
    { cwd: root, stdio: 'inherit' },
  );
  // The bundle is ESM; this marker keeps it ESM even if copied away from our package.json.
  writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  console.log(`built dist/${name}/index.js`);
}
