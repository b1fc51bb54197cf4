#!/usr/bin/env bash
# A crash: no input reaches a CHECK, an abort or a LibTorch error. A
# normalization that records the manifest's digest but holds 3 channels for
# a grey store, a folder where a file belongs: each is refused with exit 2
# and one line, never a core dump, and no file changes.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/contract/contract_lib.sh" "$@"

work=$(fresh_workdir)
copy_fixtures "$work"
forged_normalization "$m" 3 "$work/forged.pb"
mkdir "$work/folder.pt"
run() { refuses 2 "$1" "$work" -- "${@:2}"; }

forged="--normalization=.*forged.pb does not belong with --manifest=.*manifest.pb: 3 mean\(s\) and 3 std\(s\) for 1-channel images"
run "$forged" "$evaluate" --model="$model" --manifest="$m" \
  --normalization="$work/forged.pb" --out_dir="$work/eval" "${quick[@]}"
run "$forged" "$preview" --manifest="$m" --normalization="$work/forged.pb" \
  --out="$work/grid.png"
run "forged.pb does not belong with --(model|manifest)=.*: 3 mean\(s\) and 3 std\(s\) for 1-channel images" \
  "$export_onnx" --model="$model" --manifest="$m" \
  --normalization="$work/forged.pb" --out="$work/model.onnx"
run "$forged" \
  "$train" --config="$config" --manifest="$m" \
  --normalization="$work/forged.pb" --output_dir="$work/run" "${tiny[@]}"
{ printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero; } >"$work/image.pgm"
run "forged.pb does not belong with --model=.*best_model.pt" \
  "$predict" --model="$model" --normalization="$work/forged.pb" \
  "$work/image.pgm"

# A folder where a model file belongs is called a folder.
run "folder.pt is a folder, not a file" \
  "$evaluate" --model="$work/folder.pt" --manifest="$m" --normalization="$n" \
  --out_dir="$work/eval" "${quick[@]}"
run "folder.pt is a folder, not a file" \
  "$export_onnx" --model="$work/folder.pt" --out="$work/model.onnx"
run "folder.pt is a folder, not a file" \
  "$predict" --model="$work/folder.pt" --normalization="$n" "$work/image.pgm"
finish
