// `npm run lint`: eslint, tsc --noEmit, the Biome format check and knip. Each is one process on one
// core, so they run side by side (as many at a time as there are cores) instead of one after the
// other; each tool's output is printed whole, in this order, once it is done. Exits 1 when any failed.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const checks = [
  ['tsc', ['--noEmit']],
  ['eslint', ['.']],
  ['knip', []],
  ['biome', ['format', '.']],
];

function run([name, args]) {
  return new Promise((resolve) => {
    const child = spawn(bin(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => resolve({ name, args, out: `${out}${err.message}\n`, code: 1 }));
    child.on('close', (code) => resolve({ name, args, out, code }));
  });
}

const results = new Array(checks.length);
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(availableParallelism(), checks.length) }, async () => {
    for (let i = next++; i < checks.length; i = next++) results[i] = await run(checks[i]);
  }),
);
for (const { name, args, out, code } of results) {
  console.log(`> ${[name, ...args].join(' ')}${code === 0 ? '' : ` (exit ${code})`}`);
  if (out.trim()) console.log(out.trimEnd());
}
const failed = results.filter((r) => r.code !== 0).map((r) => r.name);
if (failed.length > 0) {
  console.error(`lint failed: ${failed.join(', ')}`);
  process.exit(1);
}
