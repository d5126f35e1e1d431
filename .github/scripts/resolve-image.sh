#!/usr/bin/env bash
# Decides which container image a deploy-ecs-service run deploys, and whether it
# must build it first. Run by .github/workflows/deploy-ecs-service.yml from the
# suite checkout; tested directly by test/workflows/scripts.test.ts.
#
# Env (all through env:, never ${{ }} in run:):
#   IMAGE           a full image URI to deploy as is (no build)
#   IMAGE_TAG       a tag already in ECR_REPOSITORY to promote/redeploy (no build)
#   ECR_REPOSITORY  the ECR repository name (needed unless IMAGE is given)
#   ECR_REGISTRY    registry host; default <ACCOUNT_ID>.dkr.ecr.<AWS_REGION>.amazonaws.com
#   ACCOUNT_ID, AWS_REGION, GIT_SHA
# Outputs (GITHUB_OUTPUT): uri, registry, tag, build (true|false)
set -euo pipefail

out="${GITHUB_OUTPUT:-/dev/stdout}"
image="${IMAGE:-}"
tag="${IMAGE_TAG:-}"
repository="${ECR_REPOSITORY:-}"
registry="${ECR_REGISTRY:-}"

fail() {
  echo "::error title=resolve-image::$1"
  exit 1
}

if [[ -n "$image" && -n "$tag" ]]; then
  fail "inputs 'image' and 'image-tag' are both set: give one (a full URI, or a tag in 'ecr-repository')."
fi

build=false
if [[ -n "$image" ]]; then
  [[ "$image" =~ ^[^[:space:]]+$ ]] || fail "input 'image' is '$image': expected an image URI without spaces, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.4.2."
  uri="$image"
  registry="${image%%/*}"
  tag="${image##*:}"
  # A digest reference (repo@sha256:…) has no tag; neither has a registry port (host:5000/repo).
  [[ "$image" == *@* || "$tag" == "$image" || "$tag" == */* ]] && tag=""
else
  [[ -n "$repository" ]] || fail "input 'ecr-repository' is empty: set it to the ECR repository name (e.g. 'delivery/api'), or give 'image' as a full URI."
  [[ "$repository" =~ ^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]] ||
    fail "input 'ecr-repository' is '$repository': ECR repository names are lower-case letters, digits and . _ - /, e.g. 'delivery/api'."
  if [[ -z "$registry" ]]; then
    [[ -n "${ACCOUNT_ID:-}" && -n "${AWS_REGION:-}" ]] ||
      fail "cannot work out the ECR registry: set input 'ecr-registry' (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com)."
    registry="${ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com"
  fi
  if [[ -z "$tag" ]]; then
    [[ -n "${GIT_SHA:-}" ]] || fail "no 'image-tag' given and no commit SHA to tag a new build with."
    tag="$GIT_SHA"
    build=true
  fi
  [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$ ]] ||
    fail "input 'image-tag' is '$tag': a Docker tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'."
  uri="$registry/$repository:$tag"
fi

{
  echo "uri=$uri"
  echo "registry=$registry"
  echo "tag=$tag"
  echo "build=$build"
} >> "$out"
if [[ "$build" == true ]]; then
  echo "Building and pushing $uri"
else
  echo "Deploying existing image $uri (no build)"
fi
