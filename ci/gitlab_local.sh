#!/usr/bin/env bash
# Runs every non-manual job of ci/gitlab-ci.yml on this machine through
# gitlab-ci-local (shell executor: no container engine here), in stage
# order, as a GitLab shell runner would: jobs run in this checkout, the
# pipeline job's artifacts (ci-artifacts/) are what the gate job judges, and
# a failed job stops the later stages. Prints each job's result and time.
#   bash ci/gitlab_local.sh [gitlab-ci-local options...]
# e.g. --variable GATE_THRESHOLDS=path/to/other.textproto to try a gate.
set -uo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh >/dev/null || { echo "setup failed"; exit 2; }
source ci/tools.sh
GCL="$TOOLS_DIR/node_modules/.bin/gitlab-ci-local"
file=ci/gitlab-ci.yml

# Non-manual jobs in stage order, from gitlab-ci-local's own parse.
mapfile -t jobs < <("$GCL" --file "$file" --list-csv 2>/dev/null |
  awk -F';' 'NR > 1 && $4 != "manual" { print $1 }')
if [ "${#jobs[@]}" -eq 0 ]; then
  "$GCL" --file "$file" --list
  echo "no jobs: $file does not validate"
  exit 2
fi
echo "jobs in stage order: ${jobs[*]}"

results=()
status=0
for job in "${jobs[@]}"; do
  if [ "$status" -ne 0 ]; then
    results+=("$(printf '%-12s %-8s %6s' "$job" skipped -)")
    continue
  fi
  echo "=== job $job"
  start=$(date +%s)
  "$GCL" --file "$file" --force-shell-executor "$@" "$job"
  code=$?
  seconds=$(($(date +%s) - start))
  if [ "$code" -eq 0 ]; then
    results+=("$(printf '%-12s %-8s %5ss' "$job" passed "$seconds")")
  else
    results+=("$(printf '%-12s %-8s %5ss' "$job" FAILED "$seconds")")
    status=1
  fi
done
echo
echo "job          result     time"
printf '%s\n' "${results[@]}"
exit $status
