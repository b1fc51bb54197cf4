#!/usr/bin/env bash
# //eval:seed_summary: exit 2 with one "error:" line and nothing written on
# bad input; on two reports of the same images, the spread table.
set -uo pipefail
summary="$1"
source "$2"

work=$(fresh_workdir)
for i in 1 2 3; do
  printf 'split: "test"\nnum_images: 100\nmanifest_sha256: "m"\ntop1_accuracy: 0.8%d\n' "$i" \
    > "$work/r$i.textproto"
done
sed 's/"m"/"other"/' "$work/r1.textproto" > "$work/other.textproto"
run() { refuses 2 "$1" "$work" -- "$summary" "${@:2}"; }
run "at least 2 reports, got 1" --out="$work/s.md" "$work/r1.textproto"
run "missing.textproto" --out="$work/s.md" "$work/r1.textproto" "$work/missing.textproto"
run "other.textproto judged 100 images of split 'test' of manifest other" \
  --out="$work/s.md" "$work/r1.textproto" "$work/other.textproto"

good=$(fresh_workdir)
succeeds "$summary" --out="$good/s.md" "$work/r1.textproto" "$work/r2.textproto" "$work/r3.textproto"
grep -q '^| top1_accuracy | 0.8200 | 0.0100 | 0.8100 | 0.8300 | 0.8100 | 0.8200 | 0.8300 |$' "$good/s.md" ||
  fail "no top-1 row: $(cat "$good/s.md")"
"$summary" --help 2>&1 | grep -q -- "--out" || fail "--help does not list --out"
finish
