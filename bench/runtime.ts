/**
 * The node binary a bench runs the bundles on: the Node release every action.yml declares
 * (`using: node24`, pinned in package.json `config.node24`), as the tests do
 * (test/helpers/bundle-node.ts), not the node that runs the bench. A runner starts the action on
 * that release, and start-up and CPU per request differ between releases. `BUNDLE_NODE` set
 * beforehand wins (e.g. `BUNDLE_NODE="$(command -v node)"` to measure on the machine's node).
 */
import { execFileSync } from 'node:child_process';
import useActionNode from '../test/helpers/bundle-node.js';

/** Sets BUNDLE_NODE for runBundle and returns the line a bench prints with its figures. */
export function bundleRuntime(): string {
  useActionNode();
  const version = execFileSync(process.env.BUNDLE_NODE!, ['--version'], { encoding: 'utf8' }).trim();
  return `bundles run on node ${version} (${process.env.BUNDLE_NODE})`;
}
