#!/usr/bin/env bash
# Data loss: no stage's output may replace or destroy an input, whatever
# path names it (a file a manifest lists, a link, a hard link, `..`, a
# folder holding the inputs), and no training overwrites a finished run
# folder, checkpoint or not. Each refusal: exit 2, one line, no file
# changed.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/contract/contract_lib.sh" "$@"

work=$(fresh_workdir)
copy_fixtures "$work"
ln -s "$work/store" "$work/store_link"
ln "$model" "$work/model_hardlink.pt"
run() { refuses 2 "$1" "$work" -- "${@:2}"; }

# A store file the manifest lists, by its own name, through a link to its
# folder, and with `..` in the way.
run "is .*train_images.u8 \(listed by --manifest=" \
  "$normalize" --manifest="$m" --out="$work/store/train_images.u8"
run "is .*test_labels.u8 \(listed by --manifest=" \
  "$preview" --manifest="$m" --out="$work/store_link/test_labels.u8"
run "is .*validation_images.u8 \(listed by --manifest=" \
  "$export_onnx" --model="$model" --manifest="$m" \
  --out="$work/store/../store/validation_images.u8"
# The model through a hard link, the normalization of the built-in pattern.
run "--out=.*model_hardlink.pt is --model=" \
  "$export_onnx" --model="$model" --out="$work/model_hardlink.pt"
run "--out=.*normalization.pb is --normalization=" \
  "$preview" --normalization="$n" --out="$n"
# A run folder that holds the inputs.
run "--out_dir=.*store holds --manifest=" \
  "$evaluate" --model="$model" --manifest="$m" --normalization="$n" \
  --out_dir="$work/store" "${quick[@]}"
run "output_dir=.* holds " \
  "$train" --config="$config" --manifest="$m" --normalization="$n" \
  --output_dir="$work" "${tiny[@]}"

# A finished run folder without its checkpoint is still a run's folder.
# (Its own copies of the inputs: a failure above may have damaged those.)
finished=$(fresh_workdir)
copy_fixtures "$finished"
copy_of "$training" "$finished/run"
rm "$finished/run/checkpoint.pt"
refuses 2 "output_dir=.*run holds files of an earlier run \(.*best_model.pt.*\); pass --resume to continue that run, or choose another --output_dir" \
  "$finished" -- "$train" --config="$config" --manifest="$m" \
  --normalization="$n" --output_dir="$finished/run" "${tiny[@]}"
finish
