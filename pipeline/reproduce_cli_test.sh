#!/usr/bin/env bash
# //pipeline:reproduce on bad input: exit 2, one "error:" line naming the
# file or flag, checked before any training, and no file written or changed.
set -uo pipefail
reproduce="$1"
store="$2"
normalization="$3"
training="$4"
source "$5"

work=$(fresh_workdir)
copy_model_of "$store" "$normalization" "$training" "$work"
copy_of "$training/training_run.pb" "$work/training_run.pb"
record="$work/training_run.pb"
run() { refuses 2 "$1" "$work" -- "$reproduce" "${@:2}"; }

run "run=training_run.pb is required" --out_dir="$work/again"
run "out_dir is required" --run="$record"
run "out_dir.*run" --run="$record" --out_dir="$record"
run "out_dir.*normalization" --run="$record" --out_dir="$work/normalization.pb/x" --normalization="$work/normalization.pb"
run "tolerance must be >= 0" --run="$record" --out_dir="$work/again" --tolerance=-1
run "threads=-2" --run="$record" --out_dir="$work/again" --threads=-2
run "missing.pb" --run="$work/missing.pb" --out_dir="$work/again"
: > "$work/empty.pb"
run "empty.pb: empty file" --run="$work/empty.pb" --out_dir="$work/again"
run "normalization.pb: not a valid binary" --run="$work/normalization.pb" --out_dir="$work/again"
head -c 100 "$record" > "$work/truncated.pb"
run "truncated.pb" --run="$work/truncated.pb" --out_dir="$work/again"
finish
