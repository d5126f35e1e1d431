#!/usr/bin/env bash
# Starts the local AWS emulator in the background for a CI smoke job and exports
# its endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, dummy credentials, region,
# SMOKE_DISTRIBUTION_ID) to the following steps through GITHUB_ENV. The runner
# stops the process when the job ends.
set -euo pipefail
env_file="${RUNNER_TEMP:-/tmp}/emulator.env"
log_file="${RUNNER_TEMP:-/tmp}/emulator.log"
rm -f "$env_file"
nohup npx tsx test/workflows/smoke-emulator.ts "$env_file" > "$log_file" 2>&1 &
for _ in $(seq 1 120); do
  if [[ -s "$env_file" ]]; then
    cat "$env_file" >> "${GITHUB_ENV:-/dev/null}"
    cat "$log_file"
    exit 0
  fi
  sleep 0.5
done
cat "$log_file"
echo "::error::The local AWS emulator did not start within 60 seconds (log above)."
exit 1
