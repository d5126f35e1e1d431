#!/usr/bin/env bash
# promote-from: the image, by digest, that another environment's service runs, so the
# render step puts exactly those bytes into this environment's task definition
# (deploy-ecs checks the same digest again and shows both in its summary).
# Same account and region: ECS has no cross-account reads. Uses the AWS CLI.
#
# Env: PROMOTE_FROM (<cluster>/<service>), CONTAINER (optional: the container whose image to take)
# Outputs (GITHUB_OUTPUT): uri (registry/repository@sha256:…), digest
set -euo pipefail
out="${GITHUB_OUTPUT:-/dev/stdout}"
fail() { echo "::error title=promote-from::$1"; exit 1; }
[[ "${PROMOTE_FROM:-}" =~ ^([A-Za-z0-9][A-Za-z0-9_-]*)/([A-Za-z0-9][A-Za-z0-9_-]*)$ ]] ||
  fail "input 'promote-from' is '${PROMOTE_FROM:-}': expected <cluster>/<service>, e.g. delivery-staging/backend."
cluster="${BASH_REMATCH[1]}"
service="${BASH_REMATCH[2]}"
taskdef="$(aws ecs describe-services --cluster "$cluster" --services "$service" --query 'services[0].taskDefinition' --output text)"
[[ "$taskdef" == arn:* ]] || fail "service '$service' was not found in cluster '$cluster' (promote-from)."
if [[ -n "${CONTAINER:-}" ]]; then
  query="taskDefinition.containerDefinitions[?name=='${CONTAINER}'].image | [0]"
else
  query='taskDefinition.containerDefinitions[0].image'
fi
image="$(aws ecs describe-task-definition --task-definition "$taskdef" --query "$query" --output text)"
[[ -n "$image" && "$image" != None ]] || fail "$taskdef has no container '${CONTAINER:-}' (promote-from)."
if [[ "$image" == *@sha256:* ]]; then
  digest="${image##*@}"
  repo_uri="${image%@*}"
  repo_uri="${repo_uri%:*}"
else
  repo_uri="${image%:*}"
  tag="${image##*:}"
  [[ "$repo_uri" =~ ^([0-9]{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/(.+)$ ]] ||
    fail "$cluster/$service runs $image, which is neither pinned by digest nor in ECR: its bytes cannot be identified."
  digest="$(aws ecr describe-images --registry-id "${BASH_REMATCH[1]}" --repository-name "${BASH_REMATCH[2]}" --image-ids "imageTag=$tag" --query 'imageDetails[0].imageDigest' --output text)"
fi
echo "$cluster/$service runs $image ($digest) in ${taskdef##*/}"
{ echo "uri=$repo_uri@$digest"; echo "digest=$digest"; } >> "$out"
