#!/usr/bin/env bash
# Artifacts that do not belong together: every stage that reads a pair
# checks it, in one message form ("A=PATH does not belong with B=PATH:
# ..."): a normalization of another store with a manifest (evaluate,
# predict, preview, export_onnx, train), a model for another image shape
# or class count with a store. Exit 2, one line, no file changed (no ONNX
# file with another store's mean and std).
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/contract/contract_lib.sh" "$@"

work=$(fresh_workdir)
copy_fixtures "$work"
other_store "$work/other"
other_n="$work/other/normalization.pb"
other_m="$work/other/store/manifest.pb"
{ printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero; } >"$work/image.pgm"
run() { refuses 2 "$1" "$work" -- "${@:2}"; }

norm_pair="--normalization=.*other/normalization.pb does not belong with --manifest=.*store/manifest.pb: computed for the manifest with SHA-256 [0-9a-f]{64}, this one has [0-9a-f]{64}; run //data:normalize on this store"
run "$norm_pair" "$export_onnx" --model="$model" --manifest="$m" \
  --normalization="$other_n" --out="$work/model.onnx"
run "$norm_pair" "$predict" --model="$model" --manifest="$m" \
  --normalization="$other_n" "$work/image.pgm"
run "$norm_pair" "$preview" --manifest="$m" --normalization="$other_n" \
  --out="$work/grid.png"
run "$norm_pair" "$evaluate" --model="$model" --manifest="$m" \
  --normalization="$other_n" --out_dir="$work/eval" "${quick[@]}"
run "$norm_pair" "$train" --config="$config" --manifest="$m" --normalization="$other_n" \
  --output_dir="$work/run" "${tiny[@]}"

# The 28x28 grey 10-class model with the 8x8 2-class store.
model_pair="--model=.*best_model.pt does not belong with --manifest=.*other/store/manifest.pb: the model has 10 classes, the store lists 2"
run "$model_pair" "$export_onnx" --model="$model" --manifest="$other_m" \
  --out="$work/model.onnx"
run "$model_pair" "$predict" --model="$model" --manifest="$other_m" \
  --normalization="$other_n" "$work/image.pgm"
run "$model_pair" \
  "$evaluate" --model="$model" --manifest="$other_m" --normalization="$other_n" \
  --out_dir="$work/eval" --split=train "${quick[@]}"
finish
