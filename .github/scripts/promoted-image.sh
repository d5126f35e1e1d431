#!/usr/bin/env bash
# promote-from: the image, by digest, that another environment's service runs, so the
# render step puts exactly those bytes into this environment's task definition
# (deploy-ecs checks the same digest again and shows both in its summary).
# The same rule as deploy-ecs's promote-from: only from a steady source (one COMPLETED
# deployment, running = desired), and the digest from its service revision
# (containerImages[].imageDigest: ECS resolves a tag to a digest when it creates the
# revision and keeps running that digest), never from where the tag points now.
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
read -r taskdef deployments state running desired < <(aws ecs describe-services --cluster "$cluster" --services "$service" \
  --query 'services[0].[taskDefinition, length(deployments), deployments[0].rolloutState, runningCount, desiredCount]' --output text)
[[ "$taskdef" == arn:* ]] || fail "service '$service' was not found in cluster '$cluster' (promote-from)."
if [[ "$deployments" != 1 || ( "$state" != COMPLETED && "$state" != None ) || "$running" != "$desired" ]]; then
  fail "$cluster/$service is not steady ($deployments deployment(s), rollout ${state}, running $running of $desired), so what it runs is not one tested image (promote-from). Wait until it has one COMPLETED deployment with all its tasks running, then promote."
fi
td_json="$(aws ecs describe-task-definition --task-definition "$taskdef" --query 'taskDefinition.containerDefinitions[].[name, image]' --output text)"
if [[ -n "${CONTAINER:-}" ]]; then
  read -r container image < <(awk -v c="$CONTAINER" '$1 == c' <<<"$td_json") || true
else
  read -r container image < <(head -n 1 <<<"$td_json") || true
fi
[[ -n "${image:-}" && "$image" != None ]] || fail "$taskdef has no container '${CONTAINER:-}' (promote-from)."
if [[ "$image" == *@sha256:* ]]; then
  digest="${image##*@}"
  repo_uri="${image%@*}"
  repo_uri="${repo_uri%:*}"
else
  repo_uri="${image%:*}"
  revision="$(aws ecs list-service-deployments --cluster "$cluster" --service "$service" --status SUCCESSFUL \
    --query 'sort_by(serviceDeployments, &createdAt)[-1].targetServiceRevisionArn' --output text)"
  digest=None
  if [[ "$revision" == arn:* ]]; then
    read -r revision_td digest < <(aws ecs describe-service-revisions --service-revision-arns "$revision" \
      --query "serviceRevisions[0].[taskDefinition, containerImages[?containerName=='${container}'].imageDigest | [0]]" --output text)
    [[ "$revision_td" == "$taskdef" ]] || digest=None
  fi
  [[ "$digest" == sha256:* ]] ||
    fail "$cluster/$service runs $image, and its service revision names no image digest, so the bytes it runs cannot be identified (the tag may point elsewhere now). Deploy the source by digest or redeploy it, then promote."
fi
echo "$cluster/$service runs $image ($digest) in ${taskdef##*/}"
{ echo "uri=$repo_uri@$digest"; echo "digest=$digest"; } >> "$out"
