#!/usr/bin/env bash
# Runs ci/gpu_check.sh's CPU self-test (CMake build against Debian's
# LibTorch, every check on the CPU) and checks its results file.
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
results="$TEST_TMPDIR/results.txt"
GPU_CHECK_BUILD_DIR="$TEST_TMPDIR/build" bash "$root/ci/gpu_check.sh" /usr "$results" --cpu-self-test

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
for key in sparse_vs_dense_block sparse_vs_dense_ffn cpu_vs_device_forward train_loss_finite; do
  grep -q "^$key: PASS" "$results" || fail "$key did not pass"
done
grep -q "^mode: cpu self-test$" "$results" || fail "results do not say cpu self-test"
grep -qE "^train_images_per_second: [0-9.e+]+$" "$results" || fail "no images/s"
grep -qE "^moe_dense_over_sparse_time: [0-9.e+]+$" "$results" || fail "no sparse/dense ratio"
grep -q "^failed_checks: 0$" "$results" || fail "failed checks in $results"

# Bad usage is exit status 2 with a message.
status=0
bash "$root/ci/gpu_check.sh" /usr 2>"$TEST_TMPDIR/usage.txt" || status=$?
[[ $status -eq 2 ]] || fail "missing argument gave exit status $status, want 2"
grep -q "usage:" "$TEST_TMPDIR/usage.txt" || fail "no usage line"
echo "PASS"
