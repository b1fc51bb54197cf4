#!/usr/bin/env bash
# //data:export_images on bad input: exit 2, one "error:" line naming the
# file or folder, and no file written or changed.
set -uo pipefail
export_images="$1"
import="$2"
source "$3"

work=$(fresh_workdir)
make_image_folder "$work/from"
"$import" --from="$work/from" --out_dir="$work/store" --side=8 --channels=1 \
  >/dev/null 2>&1 || { echo "fixture import failed"; exit 1; }
m="$work/store/manifest.pb"
run() { refuses 2 "$1" "$work" -- "$export_images" "${@:2}"; }

run "--out_dir=.*store holds --manifest=" --manifest="$m" --out_dir="$work/store"
run "manifest.pb" --manifest="$m" --out_dir="$m"
run "required" --manifest="$m"
run "missing.pb" --manifest="$work/missing.pb" --out_dir="$work/png"
: > "$work/empty.pb"
run "empty.pb: empty" --manifest="$work/empty.pb" --out_dir="$work/png"
head -c 30 "$m" > "$work/truncated.pb"
run "truncated.pb" --manifest="$work/truncated.pb" --out_dir="$work/png"
cp "$work/store/train_images.u8" "$work/train_images.u8.orig"
head -c 100 "$work/train_images.u8.orig" > "$work/store/train_images.u8"
run "train_images.u8" --manifest="$m" --out_dir="$work/png"
cp "$work/train_images.u8.orig" "$work/store/train_images.u8"

succeeds "$export_images" --manifest="$m" --out_dir="$work/png"
[[ $(find "$work/png" -name '*.png' | wc -l) == 12 ]] || fail "expected 12 PNG files"
finish
