#!/usr/bin/env bash
# The README's test command (and CI's, via .ci/run): installs what is
# missing, then runs every check, printing a closing tally.
#   1. bazel test //...     unit, integration and CLI tests, format check,
#                           the gate-bites test on real Fashion-MNIST
#   2. fuzzers              each libFuzzer target for a bounded time
#   3. --config=cuda        must stop with a clear message (no CUDA here)
#   4. real-data gate       the CI chain on Fashion-MNIST, gated on accuracy
#   5. GitLab CI file       ci/gitlab-ci.yml validates against GitLab's
#                           schema and names only files and targets that exist
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start ))s"; }

bash ci/setup.sh || { echo "setup failed"; exit 1; }
echo "setup done after $(elapsed)"

passed=0
failed=0
failures=()
check() {  # check NAME COMMAND...
  local name=$1
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed ($(elapsed) so far)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED ($(elapsed) so far)"
  fi
}

cuda_config_fails_clearly() {
  local log
  log=$(bazel build --config=cuda --nobuild //common:startup 2>&1)
  if [ $? -eq 0 ]; then
    echo "--config=cuda built without a CUDA LibTorch"
    return 1
  fi
  grep -q "needs a CUDA LibTorch" <<<"$log" || { echo "$log"; return 1; }
}

check "bazel test //..." bazel test //...
check "fuzzers (20 s each)" bash ci/run_fuzzers.sh 20
check "--config=cuda without CUDA LibTorch fails clearly" cuda_config_fails_clearly
check "real-data gate //pipeline:fashion_mnist_ci" \
  bazel build //pipeline:fashion_mnist_ci
check "GitLab CI definition ci/gitlab-ci.yml" bash ci/check_gitlab_ci.sh

echo "total time $(elapsed)"
for name in "${failures[@]}"; do echo "failed: $name"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
