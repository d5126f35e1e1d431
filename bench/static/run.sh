#!/usr/bin/env bash
# deploy-static vs `aws s3 sync` and `rclone sync --checksum` on the same local S3, under SlowDown,
# and planning at scale. Takes about ten minutes on 2 cores; not run in CI.
# BENCH_REPS (default 3) repeats each sync scenario; BENCH_SCALE (default 2000,20000,100000) picks plan sizes;
# BENCH_RECORD (default 100000) the sizes of the no-op deploy with a record of 5 releases (record.ts).
# BENCH_LATENCY_MS (default 0,20-50) runs the sync scenarios once per per-request delay added by the proxy;
# BENCH_SCENARIOS, BENCH_RCLONE=0, BENCH_SIZE_ONLY=0, BENCH_SLOWDOWN=0 narrow the run (actions/deploy-static/README.md, Benchmark).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -x /usr/bin/aws ]; then
  export AWS_CLI=/usr/bin/aws
elif ! command -v aws >/dev/null 2>&1; then
  echo "installing Debian's awscli…"
  (apt-get install -y awscli || (apt-get update && apt-get install -y awscli)) >/dev/null
  export AWS_CLI=/usr/bin/aws
fi
if ! command -v rclone >/dev/null 2>&1; then
  echo "installing Debian's rclone…"
  (apt-get install -y rclone || (apt-get update && apt-get install -y rclone)) >/dev/null
fi
node scripts/build.mjs deploy-static >/dev/null
# s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES (OpenSSL legacy provider).
NODE_OPTIONS=--openssl-legacy-provider exec npx tsx bench/static/run.ts
