#!/usr/bin/env bash
# Builds the data stage's libFuzzer targets with --config=fuzz (clang +
# ASan) and runs each for a bounded time, starting from a small seed corpus
# of valid inputs. Usage: ci/run_fuzzers.sh SECONDS_PER_TARGET
# Exit status: 0 when no target crashed, 1 otherwise (the crash input is
# kept under $WORK/<target>/ and named in the output). Set
# VIT_MOE_FUZZ_WORK=DIR to keep and reuse the grown corpora.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: ci/run_fuzzers.sh SECONDS_PER_TARGET" >&2
  exit 2
fi

TARGETS=(cifar_record_fuzzer gtsrb_csv_fuzzer idx_fuzzer ppm_fuzzer)

# A separate output base: switching the main one to clang and back would
# reconfigure its C++ toolchain and rebuild everything twice.
OUTPUT_BASE="${VIT_MOE_FUZZ_OUTPUT_BASE:-$HOME/.cache/vit_moe/fuzz-output-base}"
WORK="${VIT_MOE_FUZZ_WORK:-$(mktemp -d -t vit_moe_fuzz.XXXXXX)}"
start=$(date +%s)

# --symlink_prefix=/ keeps bazel-bin etc. pointing at the main output base.
bazel --output_base="$OUTPUT_BASE" build --config=fuzz --symlink_prefix=/ \
  "${TARGETS[@]/#/\/\/data:}"
BIN="$(bazel --output_base="$OUTPUT_BASE" info --config=fuzz bazel-bin 2>/dev/null)/data"
echo "fuzz build: $(( $(date +%s) - start ))s"

seed() {  # seed TARGET NAME PRINTF_FORMAT...
  local dir="$WORK/$1/corpus"
  mkdir -p "$dir"
  shift
  local name="$1"
  shift
  printf "$@" > "$dir/$name"
}
seed ppm_fuzzer tiny 'P6\n# seed\n2 1\n255\n\001\002\003\004\005\006'
seed ppm_fuzzer maxval 'P6 1 1 15 \017\000\005'
seed gtsrb_csv_fuzzer train 'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\r\n00000_00000.ppm;29;30;5;6;24;25;0\r\n'
seed gtsrb_csv_fuzzer test 'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n00000.ppm;53;54;6;5;48;49\n'
seed idx_fuzzer images '\000\000\010\003\000\000\000\001\000\000\000\002\000\000\000\002\001\002\003\004'
seed idx_fuzzer labels '\000\000\010\001\000\000\000\002\007\011'
seed cifar_record_fuzzer meta 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n'
head -c 3073 /dev/zero > "$WORK/cifar_record_fuzzer/corpus/record"

status=0
for target in "${TARGETS[@]}"; do
  dir="$WORK/$target"
  mkdir -p "$dir/corpus"
  echo "fuzzing $target for ${seconds}s"
  if ! (cd "$dir" && "$BIN/$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 corpus > log.txt 2>&1); then
    echo "FAILED: $target; see $dir/log.txt and the crash-* file there" >&2
    tail -n 30 "$dir/log.txt" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" "$dir/log.txt" \
      | sed "s/^/  /"
  fi
done
bazel --output_base="$OUTPUT_BASE" shutdown
if [ "$status" = 0 ] && [ -z "${VIT_MOE_FUZZ_WORK:-}" ]; then
  rm -rf "$WORK"
else
  echo "corpora and logs kept in $WORK"
fi
echo "run_fuzzers: exit $status after $(( $(date +%s) - start ))s"
exit $status
