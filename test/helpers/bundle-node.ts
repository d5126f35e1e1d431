/**
 * globalSetup: the bundles run on the Node release every action.yml declares (`using: node24`),
 * pinned in package.json `config.node24` and installed by scripts/node24.sh, whatever node runs
 * vitest itself (a fresh machine has Node 20). The workers inherit BUNDLE_NODE
 * (test/helpers/run-bundle.ts). A BUNDLE_NODE already set wins: `BUNDLE_NODE="$(command -v node)"
 * npm test` runs the bundles on the machine's node instead.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function setup(): void {
  if (process.env.BUNDLE_NODE) return;
  const root = resolve(import.meta.dirname, '../..');
  const bin = execFileSync('bash', [resolve(root, 'scripts/node24.sh')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.env.BUNDLE_NODE = resolve(root, bin.trim());
}
