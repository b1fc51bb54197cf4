#!/usr/bin/env bash
# //pipeline:train on bad input: exit 2, one "error:" line naming the file,
# field or flag, and no file written or changed; an existing run folder is
# never overwritten, and --resume of a finished run changes nothing.
set -uo pipefail
train="$1"
config="$2"
store="$3"
normalization="$4"
training="$5"
source "$6"

work=$(fresh_workdir)
copy_of "$store" "$work/store"
copy_of "$normalization" "$work/normalization.pb"
copy_of "$training" "$work/run"
m="$work/store/manifest.pb"
n="$work/normalization.pb"
paths=(--manifest="$m" --normalization="$n")
run() { refuses 2 "$1" "$work" -- "$train" "${@:2}"; }

run "required" "${paths[@]}"
run "missing.textproto" --config="$work/missing.textproto"
printf 'epochz: 3\n' > "$work/typo.textproto"
run "typo.textproto" --config="$work/typo.textproto"
run "manifest.pb" --config="$m"
sed 's/learning_rate: 3e-3/learning_rate: 0/' "$config" > "$work/zero_lr.textproto"
run "zero_lr.textproto.*optimizer.learning_rate must be > 0" --config="$work/zero_lr.textproto" "${paths[@]}" --output_dir="$work/new"
sed 's/batch_size: 128/batch_size: 0/' "$config" > "$work/zero_batch.textproto"
run "zero_batch.textproto.*batch_size must be > 0" --config="$work/zero_batch.textproto" "${paths[@]}" --output_dir="$work/new"
sed 's/embed_dim: 64/embed_dim: 0/' "$config" > "$work/zero_dim.textproto"
run "zero_dim.textproto: model.embed_dim must be >= 1 \(got 0\)" --config="$work/zero_dim.textproto" "${paths[@]}" --output_dir="$work/new"
sed 's/augment { preset: "none" }/augment { preset: "none" cutmix_probability: 0.5 cutmix_alpha: 0 }/' "$config" > "$work/zero_alpha.textproto"
run "zero_alpha.textproto: augment.cutmix_alpha must be > 0 \(got 0\)" --config="$work/zero_alpha.textproto" "${paths[@]}" --output_dir="$work/new"
run "epochs" --config="$config" "${paths[@]}" --output_dir="$work/new" --epochs=0
run "batch_size" --config="$config" "${paths[@]}" --output_dir="$work/new" --batch_size=-4
run "device" --config="$config" "${paths[@]}" --output_dir="$work/new" --device=tpu
run "--set optimizer.learnig_rate: OptimizerConfig has no field \"learnig_rate\"" --config="$config" "${paths[@]}" --output_dir="$work/new" --set=optimizer.learnig_rate=1
run "--set precision=HALF: not a valid value \(expected one of .*BF16_MIXED" --config="$config" "${paths[@]}" --output_dir="$work/new" --set=precision=HALF
run "--set model.moe.top_k=two: not a valid value \(expected int32\)" --config="$config" "${paths[@]}" --output_dir="$work/new" --set=schedule.epochs=1 --set=model.moe.top_k=two
run "model.moe.top_k must not exceed" --config="$config" "${paths[@]}" --output_dir="$work/new" --set=model.moe.top_k=99
run "--set model: a repeated|--set model is a message" --config="$config" "${paths[@]}" --output_dir="$work/new" --set=model=1
# Outputs that are inputs.
run "output_dir.*manifest" --config="$config" "${paths[@]}" --output_dir="$m"
run "output_dir.*normalization" --config="$config" "${paths[@]}" --output_dir="$n/run"
# Artifacts that do not belong together.
printf '\x0a\x08\x00\x00\x00\x00\x00\x00\xe0\x3f\x12\x08\x00\x00\x00\x00\x00\x00\xd0\x3f\x18\x03\x22\x04abcd' > "$work/other.pb"
run "other.pb" --config="$config" --manifest="$m" --normalization="$work/other.pb" --output_dir="$work/new"
# An existing run is not overwritten.
run "--output_dir=.*run holds files of an earlier run \(accuracy.png, .*\); pass --resume to continue that run" --config="$config" "${paths[@]}" --output_dir="$work/run"
# A damaged checkpoint is named and left as it is.
damaged=$(fresh_workdir)
copy_of "$training" "$damaged/run"
head -c 2000 "$training/checkpoint.pt" > "$damaged/run/checkpoint.pt"
refuses 2 "checkpoint.pt" "$damaged" -- "$train" --config="$config" "${paths[@]}" --output_dir="$damaged/run" --resume

# Resuming the finished run: exit 0, every file as it was.
before=$(snapshot "$work")
succeeds "$train" --config="$config" "${paths[@]}" --output_dir="$work/run" --resume
[[ "$before" == "$(snapshot "$work")" ]] || fail "--resume of a finished run changed files"

# --set reaches any field, repeated or comma-separated: one epoch of two
# steps over 256 images.
setrun=$(fresh_workdir)
out=$("$train" --config="$config" "${paths[@]}" --output_dir="$setrun/run" \
  --set=schedule.epochs=1 --set debug.subset_images=256,model.moe.top_k=1 2>&1) ||
  fail "--set run: $(tail -3 <<<"$out")"
grep -q "training 1 epochs x 2 steps of 128 images" <<<"$out" ||
  fail "--set run: $(grep -m1 '^training' <<<"$out")"
finish
