#!/usr/bin/env bash
# //eval:evaluate on bad input: exit 2, one "error:" line naming the file,
# flag or mismatch, and no file written or changed.
set -uo pipefail
evaluate="$1"
store="$2"
normalization="$3"
training="$4"
source "$5"
import="$6"

work=$(fresh_workdir)
copy_of "$store" "$work/store"
copy_of "$normalization" "$work/normalization.pb"
copy_of "$training/best_model.pt" "$work/best_model.pt"
m="$work/store/manifest.pb"
n="$work/normalization.pb"
model="$work/best_model.pt"
out="$work/eval"
quick=(--limit_images=64 --corruption_images=0 --latency_runs=0 --temperature_split= --conformal_alphas=0.1
  --ood_images=0 --adversarial_images=0)
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
run "adversarial_linf_epsilons: epsilon -0.1 is below 0" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --adversarial_linf_epsilons=0.1,-0.1
run "adversarial_l2_epsilons: 'x' is not a number" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --adversarial_l2_epsilons=x
run "ood_images" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" --ood_images=-1
# A subset larger than the (limited) split; an OOD store of 8x8 images.
run "adversarial_images=65 must be in 0..64" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --adversarial_images=65
make_image_folder "$work/small_images"
"$import" --from="$work/small_images" --out_dir="$work/small" --side=8 --channels=1 >/dev/null 2>&1 ||
  fail "could not import the 8x8 store"
run "ood_manifest .*small/manifest.pb stores 8x8x1 images but the model expects 28x28x1" --model="$model" --manifest="$m" --normalization="$n" --out_dir="$out" "${quick[@]}" --ood_images=10 --ood_manifest="$work/small/manifest.pb"
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
# OOD detection and a few attacks on a small subset.
succeeds "$evaluate" --model="$training/best_model.pt" --manifest="$store/manifest.pb" \
  --normalization="$normalization" --out_dir="$good/safety" --limit_images=200 \
  --corruption_images=0 --latency_runs=0 --ood_images=50 --ood_fit_images=200 \
  --adversarial_images=8 --adversarial_linf_epsilons=2/255 --adversarial_l2_epsilons= \
  --pgd_steps=2 --apgd_iterations=4 --square_queries=4
grep -q "## Out-of-distribution detection" "$good/safety/report.md" || fail "no OOD section"
grep -q "## Adversarial robustness" "$good/safety/report.md" || fail "no adversarial section"
finish
