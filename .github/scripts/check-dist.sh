#!/usr/bin/env bash
# Fails when dist/ differs from what `npm run build` just produced: a changed or an
# untracked bundle means the committed bundles do not match the source. Used by
# ci.yml and release.yml (the same check as .ci/run).
set -euo pipefail
if ! git diff --exit-code --stat -- dist; then
  echo "::error::dist/ is out of date with the source: run 'npm run build' and commit dist/."
  exit 1
fi
untracked="$(git status --porcelain --untracked-files=all -- dist)"
if [[ -n "$untracked" ]]; then
  echo "$untracked"
  echo "::error::dist/ has files that are not committed: run 'npm run build' and commit dist/."
  exit 1
fi
echo "dist/ is in sync with the source."
