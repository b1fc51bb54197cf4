#!/usr/bin/env bash
# The README's test command (and CI's, via .ci/run): installs what is
# missing, then runs every check, printing where the time went and a
# closing tally.
#   1. compile            every binary and test, and no pipeline stage: a
#                         training beside compile actions ran 15x slower
#   2. real-data chains   the pipeline stages tests read, one at a time,
#                         nothing compiling beside them; the CI chain's gate
#                         fails the run on an accuracy drop
#   3. bazel test //...   unit, integration and CLI tests, format check,
#                         the gate-bites test on real Fashion-MNIST
#   4. fuzzers            each libFuzzer target for a bounded time
#   5. --config=cuda      must stop with a clear message (no CUDA here)
#   6. GitLab CI file     ci/gitlab-ci.yml validates against GitLab's
#                         schema and names only files and targets that exist
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
elapsed() { echo "$(($(date +%s) - start))s"; }
log_dir=$(mktemp -d -t vit_moe_test.XXXXXX)

bash ci/setup.sh || {
  echo "setup failed"
  exit 1
}
echo "setup done after $(elapsed)"

passed=0
failed=0
failures=()
times=("$(printf '%6ss  %s' "$(($(date +%s) - start))" "setup")")
check() { # check NAME COMMAND...
  local name=$1 began
  shift
  began=$(date +%s)
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed ($(elapsed) so far)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED ($(elapsed) so far)"
  fi
  times+=("$(printf '%6ss  %s' "$(($(date +%s) - began))" "$name")")
}

# Everything //... builds except the pipeline stages and what reads them.
compile_only() {
  local targets
  targets=$(bazel query --output=label \
    '(//... except attr(tags, "\bmanual\b", //...)) except rdeps(//..., kind("^pipeline_", //...))') ||
    return 1
  # shellcheck disable=SC2086
  bazel build $targets
}

cuda_config_fails_clearly() {
  local log
  log=$(bazel build --config=cuda --nobuild //common:startup 2>&1)
  if [ $? -eq 0 ]; then
    echo "--config=cuda built without a CUDA LibTorch"
    return 1
  fi
  grep -q "needs a CUDA LibTorch" <<<"$log" || {
    echo "$log"
    return 1
  }
}

# Bazel's per-test times ("PASSED in 12.3s"), kept for the summary.
test_all() {
  bazel test --test_summary=short //... 2>&1 | tee "$log_dir/test.log"
  return "${PIPESTATUS[0]}"
}

check "compile (no pipeline stage)" compile_only
check "real-data gate //pipeline:fashion_mnist_ci and the stages tests read" \
  bazel build //pipeline:fashion_mnist_ci //...
check "bazel test //..." test_all
check "fuzzers (20 s each)" bash ci/run_fuzzers.sh 20
check "--config=cuda without CUDA LibTorch fails clearly" cuda_config_fails_clearly
check "GitLab CI definition ci/gitlab-ci.yml" bash ci/check_gitlab_ci.sh

echo "where the time went:"
printf '%s\n' "${times[@]}"
echo "slowest tests:"
grep -E " (PASSED|FAILED|TIMEOUT|FLAKY) in [0-9.]+s" "$log_dir/test.log" |
  grep -v "(cached)" | sed -E 's/^(\S+).* in ([0-9.]+)s.*/\2s  \1/' |
  sort -rn | head -12 | sed 's/^/  /'
echo "total time $(elapsed)"
for name in "${failures[@]}"; do echo "failed: $name"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
