#!/usr/bin/env bash
# GPU check of the ViT-MoE model without Bazel: builds ci/gpu_check/ with
# CMake (ninja when present) against LIBTORCH_DIR and runs it, writing
# "key: value" results to RESULTS_FILE. Exit 0 when every check passed,
# 1 when one failed, 2 for bad usage or a failed build.
#
#   ci/gpu_check.sh LIBTORCH_DIR RESULTS_FILE [--cpu-self-test]
#
# Without a visible NVIDIA GPU, or with --cpu-self-test, it builds against
# Debian's CPU LibTorch (/usr) instead and runs every check on the CPU with
# small sizes, which tests this script and program on any machine.
# Environment:
#   GPU_CHECK_DEPS_DIR   Debian packages unpacked by ci/gpu_check/fetch_debs.sh
#   GPU_CHECK_BUILD_DIR  build folder (default: a new temporary folder)
#   GPU_CHECK_ARGS       extra flags for the program, e.g. "--train_steps=50"
set -euo pipefail

usage() {
  echo "usage: $0 LIBTORCH_DIR RESULTS_FILE [--cpu-self-test]" >&2
  exit 2
}
[[ $# -eq 2 || $# -eq 3 ]] || usage
libtorch=$1
results=$2
self_test=0
if [[ $# -eq 3 ]]; then
  [[ "$3" == "--cpu-self-test" ]] || usage
  self_test=1
fi
repo=$(cd "$(dirname "$0")/.." && pwd)

if [[ $self_test -eq 0 ]] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no NVIDIA GPU visible (nvidia-smi -L failed); running the CPU self-test"
  self_test=1
fi
if [[ $self_test -eq 1 ]]; then
  [[ "$libtorch" == /usr ]] ||
    echo "gpu_check: CPU self-test builds against Debian's LibTorch in /usr, not $libtorch"
  libtorch=/usr
  program_args=(--cpu_self_test --batch_size=4 --warmup_steps=1 --train_steps=2 --speed_steps=1)
else
  [[ -d "$libtorch/include" ]] || {
    echo "error: $libtorch has no include/ folder; expected a LibTorch tree" >&2
    exit 2
  }
  program_args=()
fi
for tool in cmake c++; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool not found" >&2
    exit 2
  }
done
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

build=${GPU_CHECK_BUILD_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")}
deps=${GPU_CHECK_DEPS_DIR:-}
[[ -z "$deps" ]] || deps=$(cd "$deps" && pwd)
mkdir -p "$build"
echo "gpu_check: building in $build (LibTorch $libtorch${deps:+, deps $deps})"
start=$(date +%s)
if ! cmake -S "$repo/ci/gpu_check" -B "$build" "${generator[@]}" \
  -DLIBTORCH_DIR="$libtorch" -DGPU_CHECK_DEPS_DIR="$deps" >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  echo "error: cmake configuration failed (log above)" >&2
  exit 2
fi
jobs=$(nproc 2>/dev/null || echo 2)
if ! cmake --build "$build" --parallel "$jobs"; then
  echo "error: build failed" >&2
  exit 2
fi
echo "gpu_check: built in $(($(date +%s) - start))s"

status=0
# shellcheck disable=SC2086  # GPU_CHECK_ARGS is a list of flags
"$build/gpu_check" --results="$results" "${program_args[@]}" ${GPU_CHECK_ARGS:-} || status=$?
if [[ $status -ne 0 ]]; then
  echo "gpu_check: exit status $status" >&2
fi
exit $status
