#!/usr/bin/env bash
# Runs the whole test suite (`npm test`) with a CPU hog beside it — Debian's `stress --cpu 4` —
# and prints the suite's wall time: the check that no test depends on how fast the machine is.
# Installs `stress` with apt-get when it is missing (needs root, as on CI images and here).
# Usage: bash scripts/test-under-load.sh [extra vitest args]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v stress >/dev/null; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "stress is not installed and this is not root: run 'sudo apt-get install -y stress' first." >&2
    exit 1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress >&2
fi
# Its own process group, so the trap ends stress and the workers it forked, and nothing else.
setsid stress --cpu 4 >/dev/null 2>&1 &
hog=$!
trap 'kill -- "-$hog" 2>/dev/null || true; wait "$hog" 2>/dev/null || true' EXIT
start=$(date +%s)
status=0
npx vitest run "$@" || status=$?
echo "under-load: npm test with 'stress --cpu 4' beside it on $(nproc) cores took $(( $(date +%s) - start )) s (exit $status)"
exit "$status"
