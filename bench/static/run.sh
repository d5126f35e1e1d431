#!/usr/bin/env bash
# deploy-static vs `aws s3 sync` on the same local S3. Takes a few minutes; not run in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -x /usr/bin/aws ]; then
  export AWS_CLI=/usr/bin/aws
elif ! command -v aws >/dev/null 2>&1; then
  echo "installing Debian's awscli…"
  (apt-get install -y awscli || (apt-get update && apt-get install -y awscli)) >/dev/null
  export AWS_CLI=/usr/bin/aws
fi
node scripts/build.mjs deploy-static >/dev/null
# s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES (OpenSSL legacy provider).
NODE_OPTIONS=--openssl-legacy-provider exec npx tsx bench/static/run.ts
