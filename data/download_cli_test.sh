#!/usr/bin/env bash
# //data:download on bad input: exit 2, one "error:" line naming the file or
# flag, checked before anything is fetched, and no file written or changed.
set -uo pipefail
download="$1"
source "$2"

work=$(fresh_workdir)
fm=(--dataset=fashion_mnist --out_dir="$work/store")
run() { refuses 2 "$1" "$work" -- "$download" "${@:2}"; }

run "unknown data set \"mnist\"" --dataset=mnist --out_dir="$work/store"
run "out_dir is required" --dataset=fashion_mnist
run "validation.fraction" "${fm[@]}" --validation_fraction=2
run "retries" "${fm[@]}" --retries=0
run "max_extract_bytes" "${fm[@]}" --max_extract_bytes=-5
run "max_extract_entries" "${fm[@]}" --max_extract_entries=0
run "\"bad\" is not NAME=LOCATION" "${fm[@]}" --location=bad
run "missing.textproto" "${fm[@]}" --sources="$work/missing.textproto"
echo 'junk' > "$work/sources.textproto"
run "sources.textproto:" "${fm[@]}" --sources="$work/sources.textproto"
run "source set" "${fm[@]}" --source_set=nowhere
run "every location failed" "${fm[@]}" --mirror="$work/no_mirror" --download_dir="$work/no_mirror_downloads"
rmdir "$work/no_mirror_downloads" 2>/dev/null
finish
