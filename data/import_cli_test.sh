#!/usr/bin/env bash
# //data:import on bad input: exit 2, one "error:" line naming the file,
# folder or flag, and no file written or changed.
set -uo pipefail
import="$1"
source "$2"

work=$(fresh_workdir)
make_image_folder "$work/from"
from="$work/from"
flags=(--side=8 --channels=1)
run() { refuses 2 "$1" "$work" -- "$import" "${@:2}"; }

run "out_dir.*lies inside --from" --from="$from" --out_dir="$from/store" "${flags[@]}"
run "out_dir=.* is --from" --from="$from" --out_dir="$from" "${flags[@]}"
run "required" --from="$from" "${flags[@]}"
run "not a folder" --from="$work/missing" --out_dir="$work/s" "${flags[@]}"
run "side must be 1..1024" --from="$from" --out_dir="$work/s" --side=0 --channels=1
run "side must be 1..1024" --from="$from" --out_dir="$work/s" --side=100000 --channels=1
run "channels must be 1 or 3" --from="$from" --out_dir="$work/s" --side=8 --channels=2
run "layout \"weird\"" --from="$from" --out_dir="$work/s" --layout=weird
run "validation_fraction" --from="$from" --out_dir="$work/s" "${flags[@]}" --validation_fraction=2
run "3 channel|channels" --from="$from" --out_dir="$work/s" --side=8 --channels=3
# Images that are not, or lie about their size; an empty class.
echo junk > "$from/train/a/bad.png"
run "train/a/bad.png" --from="$from" --out_dir="$work/s" "${flags[@]}"
rm "$from/train/a/bad.png"
printf 'P5\n100000 100000\n255\n' > "$from/train/a/huge.pgm"
run "train/a/huge.pgm" --from="$from" --out_dir="$work/s" "${flags[@]}"
rm "$from/train/a/huge.pgm"
mkdir "$from/train/c"
run "train/c: class folder holds no images" --from="$from" --out_dir="$work/s" "${flags[@]}"
rmdir "$from/train/c"
# A Latin-1 folder name: the manifest records names as UTF-8 text.
latin1="$work/caf"$'\xe9'
cp -r "$from" "$latin1"
run 'from folder ".*caf\\xe9" is not valid UTF-8' --from="$latin1" --out_dir="$work/s" "${flags[@]}"
rm -r "$latin1"

good=$(fresh_workdir)
succeeds "$import" --from="$from" --out_dir="$good/store" "${flags[@]}"
[[ -s "$good/store/manifest.pb" ]] || fail "no manifest written"
finish
