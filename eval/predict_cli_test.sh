#!/usr/bin/env bash
# //eval:predict on bad input: exit 2, one "error:" line naming the file or
# flag, and no file written or changed.
set -uo pipefail
predict="$1"
store="$2"
normalization="$3"
training="$4"
source "$5"

work=$(fresh_workdir)
copy_model_of "$store" "$normalization" "$training" "$work"
n="$work/normalization.pb"
model="$work/best_model.pt"
{ printf 'P5\n28 28\n255\n'; head -c 784 /dev/urandom; } > "$work/shirt.pgm"
run() { refuses 2 "$1" "$work" -- "$predict" "${@:2}"; }

run "at least one image" --model="$model" --normalization="$n"
run "required" --normalization="$n" "$work/shirt.pgm"
run "top_k" --model="$model" --normalization="$n" --top_k=0 "$work/shirt.pgm"
run "missing.png" --model="$model" --normalization="$n" "$work/missing.png"
# Images that are not, or lie about their size.
: > "$work/empty.png"
run "empty.png" --model="$model" --normalization="$n" "$work/empty.png"
echo "not an image" > "$work/text.png"
run "text.png" --model="$model" --normalization="$n" "$work/text.png"
printf 'P5\n100000 100000\n255\n' > "$work/huge.pgm"
run "huge.pgm" --model="$model" --normalization="$n" "$work/huge.pgm"
{ printf 'P5\n28 28\n255\n'; head -c 100 /dev/zero; } > "$work/short.pgm"
run "short.pgm" --model="$model" --normalization="$n" "$work/short.pgm"
# Artifacts that do not belong together or are not what they claim.
printf '\x0a\x18\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xe0\x3f\x12\x18\x00\x00\x00\x00\x00\x00\xd0\x3f\x00\x00\x00\x00\x00\x00\xd0\x3f\x00\x00\x00\x00\x00\x00\xd0\x3f' > "$work/rgb.pb"
run "rgb.pb.*3 channels" --model="$model" --normalization="$work/rgb.pb" "$work/shirt.pgm"
run "normalization.pb" --model="$n" --normalization="$n" "$work/shirt.pgm"
run "best_model.pt" --model="$model" --normalization="$n" --manifest="$model" "$work/shirt.pgm"
head -c 3000 "$model" > "$work/truncated.pt"
run "truncated.pt" --model="$work/truncated.pt" --normalization="$n" "$work/shirt.pgm"

succeeds "$predict" --model="$model" --normalization="$n" --manifest="$work/manifest.pb" "$work/shirt.pgm"
finish
