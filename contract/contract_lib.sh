# Shared by the stage-contract tests: the binaries and fixtures arrive as
# NAME=PATH arguments (train=..., store=...), the CI chain's artifacts are
# copied into a writable folder, and a second, unrelated store is imported
# for the pairs that must not fit.
#
#   source contract/contract_lib.sh "$@"
#   work=$(fresh_workdir); copy_fixtures "$work"
#   other_store "$work/other"      # $work/other/store, $work/other/normalization.pb
for assignment in "$@"; do
  declare "$assignment"
done
source "$lib"

# `copy_fixtures DIR`: DIR/store (the CI store), DIR/normalization.pb,
# DIR/best_model.pt, DIR/config.textproto; sets m, n, model, config.
copy_fixtures() {
  copy_of "$store" "$1/store"
  copy_of "$normalization" "$1/normalization.pb"
  copy_of "$training/best_model.pt" "$1/best_model.pt"
  copy_of "$ci_config" "$1/config.textproto"
  m="$1/store/manifest.pb"
  n="$1/normalization.pb"
  model="$1/best_model.pt"
  config="$1/config.textproto"
}

# `other_store DIR`: a 2-class 8x8 grey store imported from random images
# and its normalization: artifacts of another data set.
other_store() {
  make_image_folder "$1/images"
  "$import" --from="$1/images" --out_dir="$1/store" --side=8 --channels=1 \
    >/dev/null 2>&1 || fail "other_store: import failed"
  "$normalize" --manifest="$1/store/manifest.pb" \
    --out="$1/normalization.pb" >/dev/null 2>&1 ||
    fail "other_store: normalize failed"
}

# `forged_normalization MANIFEST CHANNELS OUT`: a Normalization that records
# MANIFEST's SHA-256 (so the digest check passes) with CHANNELS means and
# stds: a pair that fits by digest and not by shape.
forged_normalization() {
  python3 - "$(sha256sum "$1" | cut -d' ' -f1)" "$2" >"$3" <<'PY'
import struct, sys
sha, channels = sys.argv[1].encode(), int(sys.argv[2])
def packed(field, values):
    data = b"".join(struct.pack("<d", v) for v in values)
    return bytes([field << 3 | 2, len(data)]) + data
sys.stdout.buffer.write(packed(1, [0.5] * channels) +
                        packed(2, [0.25] * channels) +
                        bytes([4 << 3 | 2, len(sha)]) + sha)
PY
}

# Evaluation flags of a run of seconds.
quick=(--limit_images=64 --corruption_images=0 --latency_runs=0 --temperature_split=
  --conformal_alphas=0.1 --ood_images=0 --adversarial_images=0)
# A training of seconds: 256 images, one epoch.
tiny=(--set=debug.subset_images=256,schedule.epochs=1)
