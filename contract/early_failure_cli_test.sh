#!/usr/bin/env bash
# Late or misleading failures: every flag and config value is checked
# before work starts, within bounds that prevent absurd allocations, and
# the error names what the user set: the flag for a flag's value (not the
# config), no flag the binary lacks, the debug subset a batch outgrows.
# Exit 2, one line, no file changed.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/contract/contract_lib.sh" "$@"

work=$(fresh_workdir)
copy_fixtures "$work"
copy_of "$training" "$work/finished"
copy_of "$training/training_run.pb" "$work/training_run.pb"
run() { refuses 2 "$1" "$work" -- "${@:2}"; }
paths=(--config="$config" --manifest="$m" --normalization="$n")

# A bad split name is refused before the test pass: within a time limit
# that the pass over 10,000 images on a loaded machine would outlast.
run "--temperature_split=valdation: the store has no split \"valdation\"" \
  timeout 30 "$evaluate" --model="$model" --manifest="$m" --normalization="$n" \
  --out_dir="$work/eval" --corruption_images=0 --latency_runs=0 \
  --temperature_split=valdation
# Bounds: a batch no machine holds, a model no machine builds.
run "--batch_size must lie in 1..65536 \(got 100000000\)" \
  "$evaluate" --model="$model" --manifest="$m" --normalization="$n" \
  --out_dir="$work/eval" --batch_size=100000000
run "--image_size=100000: model.image_size must be <= 1024 \(got 100000\)" \
  bash -c 'ulimit -v 8000000; exec "$0" --image_size=100000' "$describe"
# A flag's value is the flag's fault, not the config file's.
run "--batch_size=-4: batch_size must be > 0 \(got -4\)" \
  "$train" "${paths[@]}" --output_dir="$work/run" --batch_size=-4
run "--set=schedule.epochs=0: schedule.epochs must be > 0 \(got 0\)" \
  "$train" "${paths[@]}" --output_dir="$work/run" --set=schedule.epochs=0
# A batch larger than the debug subset names the subset.
run "batch_size 128 exceeds the 100 training images debug.subset_images keeps" \
  "$train" "${paths[@]}" --output_dir="$work/run" \
  --set=debug.subset_images=100,schedule.epochs=1
# //pipeline:reproduce has no --resume: its refusal does not suggest one.
run "--out_dir=.*finished holds files of an earlier run \(.*\); choose a new or empty --out_dir$" \
  "$reproduce" --run="$work/training_run.pb" --manifest="$m" \
  --normalization="$n" --out_dir="$work/finished"

# An empty validation split is named before any training or evaluation
# pass: a store imported with a validation share too small to hold an
# image of either class.
make_image_folder "$work/images"
"$import" --from="$work/images" --out_dir="$work/tiny" --side=8 --channels=1 \
  --validation_fraction=0.01 >/dev/null 2>&1 || fail "import of the tiny store failed"
"$normalize" --manifest="$work/tiny/manifest.pb" --out="$work/tiny/normalization.pb" \
  >/dev/null 2>&1 || fail "normalize of the tiny store failed"
run "manifest=.*tiny/manifest.pb: the \"validation\" split has no images" \
  "$train" --config="$config" --manifest="$work/tiny/manifest.pb" \
  --normalization="$work/tiny/normalization.pb" --output_dir="$work/run" \
  --set=model.patch_size=4,batch_size=4,schedule.epochs=1
finish
