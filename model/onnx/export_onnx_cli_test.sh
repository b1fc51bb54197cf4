#!/usr/bin/env bash
# //model/onnx:export_onnx on bad input: exit 2, one "error:" line naming
# the file or flag, and no file written or changed.
set -uo pipefail
export_onnx="$1"
store="$2"
normalization="$3"
training="$4"
source "$5"

work=$(fresh_workdir)
copy_model_of "$store" "$normalization" "$training" "$work"
n="$work/normalization.pb"
model="$work/best_model.pt"
run() { refuses 2 "$1" "$work" -- "$export_onnx" "${@:2}"; }

run "out.*model" --model="$model" --out="$model"
run "out.*normalization" --model="$model" --normalization="$n" --out="$n"
run "out.*model" --model="$model" --out="$model/m.onnx"
run "required" --model="$model"
run "missing.pt" --model="$work/missing.pt" --out="$work/m.onnx"
: > "$work/empty.pt"
run "empty.pt" --model="$work/empty.pt" --out="$work/m.onnx"
head -c 3000 "$model" > "$work/truncated.pt"
run "truncated.pt" --model="$work/truncated.pt" --out="$work/m.onnx"
run "normalization.pb" --model="$n" --out="$work/m.onnx"
run "best_model.pt" --model="$model" --manifest="$model" --out="$work/m.onnx"
printf '\x0a\x18\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xe0\x3f\x12\x18\x00\x00\x00\x00\x00\x00\xd0\x3f\x00\x00\x00\x00\x00\x00\xd0\x3f\x00\x00\x00\x00\x00\x00\xd0\x3f' > "$work/rgb.pb"
run "rgb.pb" --model="$model" --normalization="$work/rgb.pb" --out="$work/m.onnx"

good=$(fresh_workdir)
succeeds "$export_onnx" --model="$model" --normalization="$n" --manifest="$work/manifest.pb" --out="$good/m.onnx"
[[ -s "$good/m.onnx" ]] || fail "no ONNX file written"
finish
