#!/usr/bin/env bash
# Checks ci/gitlab-ci.yml before GitLab ever sees it: gitlab-ci-local
# validates it against GitLab's JSON schema, then ci/check_gitlab_ci.py
# checks the stages and jobs and that every file and Bazel target a script
# line names exists. Then proves the check bites: copies with a renamed
# script, a renamed target and a schema violation must each fail it.
#   bash ci/check_gitlab_ci.sh [FILE]   (default ci/gitlab-ci.yml)
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/tools.sh
GCL="$TOOLS_DIR/node_modules/.bin/gitlab-ci-local"
if [ ! -x "$GCL" ]; then
  echo "gitlab-ci-local not found at $GCL: run ci/setup.sh" >&2
  exit 2
fi
file=${1:-ci/gitlab-ci.yml}
mkdir -p .gitlab-ci-local
work=$(mktemp -d .gitlab-ci-local/check.XXXXXX)
trap 'rm -rf "$work"' EXIT
bazel query //... >"$work/targets" 2>"$work/query.log" || {
  cat "$work/query.log"
  exit 2
}

check() {  # check FILE: 0 when it validates and passes every check
  if ! "$GCL" --file "$1" --list-csv >"$work/list" 2>&1; then
    grep -v "default remote branch" "$work/list"
    echo "gitlab-ci: $1 does not validate"
    return 1
  fi
  "$GCL" --file "$1" --preview 2>/dev/null |
    NODE_PATH="$TOOLS_DIR/node_modules" node -e '
      let text = "";
      process.stdin.on("data", d => text += d).on("end", () =>
        console.log(JSON.stringify(require("js-yaml").load(text))));
    ' >"$work/preview.json" || return 1
  python3 ci/check_gitlab_ci.py "$work/preview.json" "$work/targets"
}

echo "--- $file"
check "$file" || exit 1

# Each broken copy must fail.
status=0
mutate() {  # mutate NAME SED_SCRIPT
  local copy="$work/$1.yml"
  sed -e "$2" "$file" >"$copy"
  if cmp -s "$copy" "$file"; then
    echo "self-test $1: the edit changed nothing; fix this script"
    status=1
  elif check "$copy" >"$work/$1.log" 2>&1; then
    cat "$work/$1.log"
    echo "self-test $1: a broken file passed the check"
    status=1
  else
    echo "self-test $1: rejected ($(grep -m1 'gitlab-ci:' "$work/$1.log"))"
  fi
}
mutate renamed_script 's#ci/run_fuzzers.sh#ci/run_fuzzer.sh#'
mutate renamed_target 's#//eval:gate#//eval:gates#'
mutate schema 's#^    when: always#    when: sometimes#'
exit $status
