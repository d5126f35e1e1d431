/**
 * Which test files run the dist bundles, decided from what each file does rather than from its
 * name: a file runs bundles when it, or anything it imports or starts as a script (transitively,
 * inside this repository), calls runBundle (test/helpers/run-bundle.ts). vitest.config.ts puts
 * those files in the `bundles` project (long timeouts). Of the rest, a file that itself starts a
 * server or a child process (the emulator, the test S3, bash, the AWS CLI) goes to `processes` (a longer timeout: a process start
 * is seconds on a busy machine), and every other test file to `unit` (vitest's default 5 s).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const RUNS_A_BUNDLE = /\brunBundle\(/;
// `from './x.js'`, `import('./x.js')`: local modules (the .js suffix names the .ts source).
const IMPORT = /(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
// A script started as a child process: a quoted path to a .ts/.mjs file, relative to the
// repository root or to the file itself (e.g. scripts/demo/index.ts, legacy-s3-main.ts).
const SCRIPT = /['"]([\w./-]+\.(?:ts|mjs))['"]/g;

function sourceOf(candidate: string): string | undefined {
  for (const path of [candidate, candidate.replace(/\.js$/, '.ts'), `${candidate}.ts`]) {
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

function edges(file: string, root: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const found = sourceOf(resolve(dirname(file), m[1]!));
    if (found) out.push(found);
  }
  for (const m of text.matchAll(SCRIPT)) {
    if (m[1]!.endsWith('.test.ts')) continue; // a test file named in another test is not started by it
    const found = sourceOf(resolve(root, m[1]!)) ?? sourceOf(resolve(dirname(file), m[1]!));
    if (found) out.push(found);
  }
  return out.filter((p) => !p.includes(`${join(root, 'node_modules')}`));
}

/** Whether `file` (absolute) reaches a call of runBundle through its imports and started scripts. */
function runsBundles(file: string, root: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  // run-bundle.ts defines runBundle (and names the scripts that use it): importing it is not a call.
  if (file === join(root, 'test/helpers/run-bundle.ts')) return false;
  if (RUNS_A_BUNDLE.test(readFileSync(file, 'utf8'))) return true;
  return edges(file, root).some((next) => runsBundles(next, root, seen));
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

/** The test files that run bundles, as repository-relative paths ('test/deploy-ecs/e2e.test.ts'), sorted. */
export function bundleTestFiles(root: string): string[] {
  return testFiles(join(root, 'test'))
    .filter((f) => runsBundles(f, root))
    .map((f) => relative(root, f))
    .sort();
}

// A call that starts a server or a child process, in the test file or a module it imports.
// A call, not a definition (`function startEmulator(`), so importing the module that defines it is not starting one.
const STARTS_A_PROCESS =
  /(?<!function )\b(?:startEmulator|start\w*S3|clockedEcs|createServer|createLinter|spawn|spawnSync|execFile|execFileSync|execSync)\(/;

/** Whether `file` (absolute) starts a server or a process, itself or through a module it imports. */
function startsProcesses(file: string, root: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  if (STARTS_A_PROCESS.test(readFileSync(file, 'utf8'))) return true;
  return edges(file, root).some((next) => startsProcesses(next, root, seen));
}

/** The test files, not running bundles, that start a server or a child process (themselves or through an import), repository-relative, sorted. */
export function processTestFiles(root: string): string[] {
  const bundles = new Set(bundleTestFiles(root));
  return testFiles(join(root, 'test'))
    .map((f) => relative(root, f))
    .filter((f) => !bundles.has(f) && startsProcesses(join(root, f), root))
    .sort();
}

// A call that replaces a module, a client's `send`, the clock, a global or the environment for the
// rest of the process, in the test file or a module it imports. vitest's module mocks and
// aws-sdk-client-mock's stubs outlive the file that made them when files share a process.
const REPLACES_SHARED_STATE =
  /\bvi\.(?:mock|doMock|useFakeTimers|stubGlobal|stubEnv|spyOn)\(|\bmockClient\(|process\.env(?:\.\w+|\[[^\]]+\])\s*=(?!=)|\bdelete process\.env|process\.chdir\(/;

function replacesSharedState(file: string, root: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  if (REPLACES_SHARED_STATE.test(readFileSync(file, 'utf8'))) return true;
  return edges(file, root).some((next) => replacesSharedState(next, root, seen));
}

/**
 * The unit test files (neither bundles nor processes) that replace shared state (module mocks, SDK
 * client stubs, fake timers, globals, environment variables), repository-relative, sorted: each runs
 * in a process of its own. The other unit files share their worker's process (`isolate: false`), which
 * saves a process start and the imports of every file.
 */
export function isolatedUnitFiles(root: string): string[] {
  const others = new Set([...bundleTestFiles(root), ...processTestFiles(root)]);
  return testFiles(join(root, 'test'))
    .map((f) => relative(root, f))
    .filter((f) => !others.has(f) && replacesSharedState(join(root, f), root))
    .sort();
}
