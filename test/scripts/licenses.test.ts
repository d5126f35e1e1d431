/** scripts/licenses.mjs: the packages a bundle's webpack stats name, and their licenses.txt entries. */
import { describe, expect, it } from 'vitest';
import { bundledPackages, licenseEntry, licenseFileName, modulePaths, renderLicenses } from '../../scripts/licenses.mjs';

describe('modulePaths', () => {
  it('lists every module, the ones concatenated into another included, and skips webpack runtime and externals', () => {
    const stats = {
      modules: [
        {
          nameForCondition: '/repo/actions/a/main.ts',
          modules: [{ nameForCondition: '/repo/node_modules/zod/v4/core/core.js' }, { nameForCondition: '/repo/lib/x.ts' }],
        },
        { identifier: 'external node-commonjs "node:fs"' },
        { identifier: 'webpack/runtime/ensure chunk' },
        { nameForCondition: '/repo/node_modules/yaml/dist/index.js' },
      ],
    };
    expect(modulePaths(stats)).toEqual([
      '/repo/actions/a/main.ts',
      '/repo/node_modules/zod/v4/core/core.js',
      '/repo/lib/x.ts',
      '/repo/node_modules/yaml/dist/index.js',
    ]);
  });
});

describe('bundledPackages', () => {
  it('names scoped and nested packages by the folder after the last node_modules, once each, sorted; ignores files outside node_modules', () => {
    const paths = [
      '/repo/node_modules/zod/v4/classic/schemas.js',
      '/repo/node_modules/@aws-sdk/client-ecs/dist-cjs/index.js',
      '/repo/actions/deploy-ecs/main.ts',
      '/repo/node_modules/zod/index.js',
      '/repo/node_modules/@smithy/core/dist-es/submodules/retry/index.js',
      '/repo/node_modules/@aws-sdk/client-ecs/node_modules/@smithy/core/dist-cjs/index.js',
      '/repo/node_modules/mime-types/node_modules/mime-db/db.json',
      '/repo/lib/aws.ts',
      'C:\\repo\\node_modules\\picomatch\\index.js',
    ];
    expect(bundledPackages(paths)).toEqual([
      { name: '@aws-sdk/client-ecs', dir: '/repo/node_modules/@aws-sdk/client-ecs' },
      { name: '@smithy/core', dir: '/repo/node_modules/@aws-sdk/client-ecs/node_modules/@smithy/core' },
      { name: '@smithy/core', dir: '/repo/node_modules/@smithy/core' },
      { name: 'mime-db', dir: '/repo/node_modules/mime-types/node_modules/mime-db' },
      { name: 'picomatch', dir: 'C:/repo/node_modules/picomatch' },
      { name: 'zod', dir: '/repo/node_modules/zod' },
    ]);
  });

  it('finds no package in a path that ends at node_modules or at a scope folder', () => {
    expect(bundledPackages(['/repo/node_modules/', '/repo/node_modules/@scope', '/repo/src/index.ts'])).toEqual([]);
  });
});

describe('licenseFileName', () => {
  it('takes LICENSE, LICENCE or COPYING in any case, the first by name when there are several', () => {
    expect(licenseFileName(['package.json', 'README.md', 'LICENSE'])).toBe('LICENSE');
    expect(licenseFileName(['licence.txt', 'index.js'])).toBe('licence.txt');
    expect(licenseFileName(['COPYING', 'index.js'])).toBe('COPYING');
    expect(licenseFileName(['LICENSE.md', 'LICENSE-MIT'])).toBe('LICENSE-MIT');
    expect(licenseFileName(['index.js', 'README.md'])).toBeUndefined();
  });
});

describe('licenseEntry and renderLicenses', () => {
  it('writes name, license field and text; the license field alone without a text; the object and old array forms', () => {
    expect(licenseEntry('zod', { license: 'MIT' }, 'MIT License\r\n\r\nCopyright\r\n')).toBe('zod\nMIT\nMIT License\n\nCopyright\n');
    expect(licenseEntry('@smithy/core', { license: 'Apache-2.0' }, undefined)).toBe('@smithy/core\nApache-2.0');
    expect(licenseEntry('old', { license: { type: 'BSD-3-Clause' } }, undefined)).toBe('old\nBSD-3-Clause');
    expect(licenseEntry('older', { licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }, undefined)).toBe('older\nMIT OR Apache-2.0');
    expect(licenseEntry('none', {}, undefined)).toBe('none');
  });

  it('joins the entries with a blank line, once each, ending with one newline (the format of ncc --license)', () => {
    const a = licenseEntry('a', { license: 'MIT' }, 'text a\n');
    const b = licenseEntry('b', { license: 'ISC' }, undefined);
    expect(renderLicenses([a, b, b])).toBe('a\nMIT\ntext a\n\n\nb\nISC\n');
  });
});
