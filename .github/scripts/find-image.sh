#!/usr/bin/env bash
# Build once per commit: looks up the commit's image tag in ECR before the build job
# builds it. Found = its digest (no build: a second branch on the same commit, or a
# re-run, promotes the same bytes); ImageNotFoundException = build it. Any other error
# (no permission, no repository) stops the job with the reason. Uses the AWS CLI
# that GitHub-hosted runners ship. Tested by test/workflows/build-once-e2e.test.ts.
#
# Env: ECR_REPOSITORY, IMAGE_TAG, REGISTRY_ID (optional: another account's registry)
# Outputs (GITHUB_OUTPUT): exists (true|false), digest
set -euo pipefail
out="${GITHUB_OUTPUT:-/dev/stdout}"
args=(ecr describe-images --repository-name "$ECR_REPOSITORY" --image-ids "imageTag=$IMAGE_TAG" --query 'imageDetails[0].imageDigest' --output text)
[[ -n "${REGISTRY_ID:-}" ]] && args+=(--registry-id "$REGISTRY_ID")
if digest="$(aws "${args[@]}" 2> "${RUNNER_TEMP:-/tmp}/find-image.err")"; then
  echo "$ECR_REPOSITORY:$IMAGE_TAG is already in ECR ($digest): not building it again."
  { echo "exists=true"; echo "digest=$digest"; } >> "$out"
elif grep -q 'ImageNotFoundException' "${RUNNER_TEMP:-/tmp}/find-image.err"; then
  echo "$ECR_REPOSITORY:$IMAGE_TAG is not in ECR yet: building it."
  { echo "exists=false"; echo "digest="; } >> "$out"
else
  cat "${RUNNER_TEMP:-/tmp}/find-image.err" >&2
  echo "::error title=find-image::Cannot look up $ECR_REPOSITORY:$IMAGE_TAG in ECR (see above). The build role needs ecr:DescribeImages on the repository, and the repository must exist."
  exit 1
fi
