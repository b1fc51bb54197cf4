#!/usr/bin/env bash
# //eval:evaluate on bad input: exit 2, one "error:" line naming the file,
# flag or mismatch, and no file written or changed.
set -uo pipefail
evaluate="$1"
store="$2"
normalization="$3"
training="$4"
source "$5"

work=$(fresh_workdir)
copy_of "$store" "$work/store"
copy_of "$normalization" "$work/normalization.pb"
copy_of "$training/best_model.pt" "$work/best_model.pt"
m="$work/store/manifest.pb"
n="$work/normalization.pb"
model="$work/best_model.pt"
out="$work/eval"
quick=(--limit_images=64 --corruption_images=0 --latency_runs=0 --temperature_split= --conformal_alphas=0.1)
run() { refuses 2 "$1" "$work" -- "$evaluate" "${@:2}"; }

# Outputs that are inputs.
run "out_dir.*model" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$model" "${quick[@]}"
run "out_dir.*manifest" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$m/x" "${quick[@]}"
# Flag values, checked before the store is read.
run "batch_size" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --batch_size=0
run "limit_images" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --limit_images=-3
run "device" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --device=tpu
run "precision" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --precision=fp8
run "split.*nonsense" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --split=nonsense "${quick[@]}"
run "required" --model="$model" --manifest="$m" --out_dir="$out"
# Conformal levels: outside (0, 1), not numbers, or too small for the
# calibration images (64 images, 32 calibrating; 0.01 needs 99).
for alpha in 0 1 1.5 -0.1 nan; do
  run "--conformal_alphas: alpha must be in \(0, 1\)" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --conformal_alphas="0.1,$alpha"
done
run "--conformal_alphas: 'x' is not a number" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --conformal_alphas=0.1,x
run "--conformal_alphas: alpha 0.01 needs at least 99 calibration images \(n >= 1/alpha - 1\), but the calibration split has 32" \
  --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --conformal_alphas=0.1,0.01
run "--conformal_calibration_fraction must be in \(0, 1\)" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --conformal_calibration_fraction=1
run "--raps_k_reg and --raps_lambda must not be negative" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --raps_lambda=-1
run "--bootstrap_resamples must be at least 1" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --bootstrap_resamples=0
# Artifacts that do not belong together: a normalization of another store,
# one with three channels for a grey model.
printf '\x0a\x08\x00\x00\x00\x00\x00\x00\xe0\x3f\x12\x08\x00\x00\x00\x00\x00\x00\xd0\x3f\x18\x03\x22\x04abcd' > "$work/other.pb"
run "--normalization=.*other.pb does not belong with --manifest=.*: computed for the manifest" --model="$model" --manifest="$m" --normalization="$work/other.pb" --out_dir="$out" "${quick[@]}"
# Empty, truncated and wrong-type artifacts.
: > "$work/empty.pt"
run "empty.pt" --model="$work/empty.pt" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}"
head -c 3000 "$model" > "$work/truncated.pt"
run "truncated.pt" --model="$work/truncated.pt" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}"
run "normalization.pb" --model="$n" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}"
# One changed weight byte: the model file's digest refuses it.
cp "$model" "$work/damaged.pt"
pos=$(($(stat -c %s "$model") - 200))
byte=$(od -An -tx1 -j"$pos" -N1 "$model" | tr -d ' ')
if [[ "$byte" == 00 ]]; then new='\x01'; else new='\x00'; fi
printf "$new" | dd of="$work/damaged.pt" bs=1 seek="$pos" conv=notrunc status=none
cmp -s "$model" "$work/damaged.pt" && fail "the damaged copy equals the model"
run "damaged.pt: damaged model file: its content SHA-256 is" --model="$work/damaged.pt" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}"
run "best_model.pt" --model="$model" --manifest="$m" --normalization="$model" --out_dir="$out" "${quick[@]}"
: > "$work/empty.pb"
run "empty.pb" --model="$model" --manifest="$m" --normalization="$work/empty.pb" --out_dir="$out" "${quick[@]}"

good=$(fresh_workdir)
succeeds "$evaluate" --model="$training/best_model.pt" --manifest="$store/manifest.pb" \
  --normalization="$normalization" --out_dir="$good/eval" "${quick[@]}"
[[ -s "$good/eval/evaluation.pb" ]] || fail "no evaluation.pb written"
[[ -s "$good/eval/baseline.textproto" ]] || fail "no baseline.textproto written"
grep -q "## Prediction sets (split conformal)" "$good/eval/report.md" ||
  fail "report.md has no prediction sets section"
grep -Eq "^\| top-1 accuracy \| [0-9.]+% \[[0-9.]+, [0-9.]+\]% \|" "$good/eval/report.md" ||
  fail "report.md has no interval beside top-1: $(grep top-1 "$good/eval/report.md")"
finish
