#!/usr/bin/env bash
# //data:normalize on bad input: exit 2, one "error:" line naming the file or
# flag, and no file written or changed.
set -uo pipefail
normalize="$1"
store="$2"
source "$3"

work=$(fresh_workdir)
copy_of "$store" "$work/store"
manifest="$work/store/manifest.pb"

refuses 2 "out.*manifest" "$work" -- "$normalize" --manifest="$manifest" --out="$manifest"
refuses 2 "out.*manifest" "$work" -- "$normalize" --manifest="$manifest" --out="$work/store/../store/manifest.pb"
refuses 2 "out.*manifest" "$work" -- "$normalize" --manifest="$manifest" --out="$manifest/n.pb"
: > "$work/a_file"
refuses 2 "a_file" "$work" -- "$normalize" --manifest="$manifest" --out="$work/a_file/n.pb"
refuses 2 "required" "$work" -- "$normalize" --manifest="$manifest"
refuses 2 "unexpected argument 'extra'" "$work" -- "$normalize" --manifest="$manifest" --out="$work/n.pb" extra
refuses 2 "unknown flag --outt" "$work" -- "$normalize" --manifest="$manifest" --outt="$work/n.pb"
refuses 2 "--threads=-1" "$work" -- "$normalize" --manifest="$manifest" --out="$work/n.pb" --threads=-1
refuses 2 "missing.pb" "$work" -- "$normalize" --manifest="$work/missing.pb" --out="$work/n.pb"

# Empty, wrong-type and truncated artifacts.
: > "$work/empty.pb"
refuses 2 "empty.pb" "$work" -- "$normalize" --manifest="$work/empty.pb" --out="$work/n.pb"
printf 'mean: 0.5 std: 0.25 num_images: 3\n' > "$work/normalization.textproto"
refuses 2 "normalization.textproto" "$work" -- "$normalize" --manifest="$work/normalization.textproto" --out="$work/n.pb"
head -c 1000 "$store/train_images.u8" > "$work/store/train_images.u8"
refuses 2 "train_images.u8" "$work" -- "$normalize" --manifest="$manifest" --out="$work/n.pb"
head -c 50 "$store/manifest.pb" > "$manifest"
refuses 2 "manifest.pb" "$work" -- "$normalize" --manifest="$manifest" --out="$work/n.pb"

# The control: the same command on the intact store succeeds.
good=$(fresh_workdir)
succeeds "$normalize" --manifest="$store/manifest.pb" --out="$good/n.pb"
[[ -s "$good/n.pb" ]] || fail "no normalization written"
finish
