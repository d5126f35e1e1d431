/**
 * Which files vitest runs as bundle tests (long timeouts, and again on Node 24 in .ci/run) is
 * decided by what a file does, not by its name.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/run-bundle.js';
import { bundleTestFiles, isolatedUnitFiles, processTestFiles } from './helpers/suite-files.js';

function fakeRepo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'suite-files-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

// Spelled in pieces: the classifier reads this file's text too, and it runs no bundle.
const CALL = ['run', 'Bundle('].join('');

describe('bundleTestFiles', () => {
  it('follows imports and started scripts to a call of runBundle; importing run-bundle.ts for repoRoot alone is not running a bundle', () => {
    const root = fakeRepo({
      'test/helpers/run-bundle.ts': `export const repoRoot = ""; export async function ${CALL}) {}`,
      'test/a/direct.test.ts': `import { runBundle } from '../helpers/run-bundle.js';\nawait ${CALL}'x');`,
      'test/a/seed.ts': `import { runBundle } from '../helpers/run-bundle.js';\nexport const go = () => ${CALL}'x');`,
      'test/a/via-helper.test.ts': "import { go } from './seed.js';\ngo();",
      'test/a/starts-script.test.ts': "spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts']);",
      'scripts/demo.ts': `import { runBundle } from '../test/helpers/run-bundle.js';\nawait ${CALL}'x');`,
      'test/a/root-only.test.ts': "import { repoRoot } from '../helpers/run-bundle.js';\nconsole.log(repoRoot);",
      'test/a/e2e-named-unit.test.ts': 'export {};',
    });
    expect(bundleTestFiles(root)).toEqual(['test/a/direct.test.ts', 'test/a/starts-script.test.ts', 'test/a/via-helper.test.ts']);
  });

  it('in this repository, includes the bundle tests without e2e in their names and no pure unit test', () => {
    const files = bundleTestFiles(repoRoot);
    expect(files).toEqual(
      expect.arrayContaining([
        'test/actions-metadata.test.ts',
        'test/deploy-ecs/example-app.test.ts',
        'test/emulator/demo.test.ts',
        'test/render-taskdef/legacy.test.ts',
        'test/workflows/ci-smoke.test.ts',
        'test/workflows/examples.test.ts',
        'test/deploy-ecs/e2e-races.test.ts',
      ]),
    );
    expect(files).not.toContain('test/lib/poll.test.ts');
    expect(files).not.toContain('test/workflows/rules.test.ts');
  });
});

describe('processTestFiles', () => {
  it('takes a file that starts a server or a child process itself, and leaves bundle tests and pure unit tests out', () => {
    const root = fakeRepo({
      'test/helpers/run-bundle.ts': `export async function ${CALL}) {}`,
      'test/a/bundle.test.ts': `import { runBundle } from '../helpers/run-bundle.js';\nawait ${CALL}'x'); await startEmulator();`,
      'test/a/emulator.test.ts': 'const emu = await startEmulator();',
      'test/a/bash.test.ts': "spawnSync('bash', ['-n', 'x.sh']);",
      'test/a/pure.test.ts': 'expect(1).toBe(1);',
    });
    expect(processTestFiles(root)).toEqual(['test/a/bash.test.ts', 'test/a/emulator.test.ts']);
  });
});

describe('isolatedUnitFiles', () => {
  it('takes a unit file that mocks a module or a client, fakes the clock or sets the environment (itself or through an import); leaves pure unit files, process and bundle files out', () => {
    // Spelled in pieces, as CALL above: the classifier reads this file's text too.
    const vi = ['vi', '.'].join('');
    const root = fakeRepo({
      'test/helpers/run-bundle.ts': `export async function ${CALL}) {}`,
      'test/a/mocks.test.ts': `${vi}mock('node:fs');`,
      'test/a/client.test.ts': `const s3 = ${['mock', 'Client('].join('')}S3Client);`,
      'test/a/clock.test.ts': `${vi}useFakeTimers();`,
      'test/a/env.test.ts': `process.env.${'AWS_REGION'} = 'x';`,
      'test/a/stub.ts': `export const stub = () => ${vi}spyOn(console, 'log');`,
      'test/a/via-helper.test.ts': "import { stub } from './stub.js';\nstub();",
      'test/a/reads-env.test.ts': `expect(process.env.${'AWS_REGION'} === 'x').toBe(false);`,
      'test/a/pure.test.ts': 'expect(1).toBe(1);',
      'test/a/emulator.test.ts': `const emu = await startEmulator(); ${vi}mock('x');`,
    });
    expect(isolatedUnitFiles(root)).toEqual([
      'test/a/client.test.ts',
      'test/a/clock.test.ts',
      'test/a/env.test.ts',
      'test/a/mocks.test.ts',
      'test/a/via-helper.test.ts',
    ]);
  });
});
