#!/usr/bin/env bash
# //pipeline:reproduce of a run trained data-parallel: started by the
# launcher with as many ranks, or alone (it then starts as many itself), it
# re-trains bit for bit; with other ranks than recorded it refuses before
# training, naming the count.
set -uo pipefail
train="$1"
reproduce="$2"
launch="$3"
store="$4"
normalization="$5"
source "$6"

work=$(fresh_workdir)
cat >"$work/tiny.textproto" <<CONFIG
manifest: "$store/manifest.pb"
normalization: "$normalization"
model { preset: "default" conv_stem_layers: 2 patch_size: 1 embed_dim: 32 depth: 2 num_heads: 2 }
augment { preset: "light" }
schedule { epochs: 2 warmup_epochs: 0.5 }
batch_size: 32
eval { start_epoch: 1 every_epochs: 1 }
seed: 7
precision: BF16_MIXED
debug { subset_images: 256 }
CONFIG
"$launch" --nproc_per_node=2 --rdzv_port=0 -- "$train" \
    --config="$work/tiny.textproto" --output_dir="$work/run" \
    >"$work/train.log" 2>&1 || fail "2-rank training failed: $(tail -3 "$work/train.log")"
record="$work/run/training_run.pb"

run() { refuses 2 "$1" "$work" -- "${@:2}"; }
# Rank 0 of three: refused before it waits for the others.
run "data-parallel in 2 processes \(world_size 2\), this re-run in 3" \
    env RANK=0 WORLD_SIZE=3 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=9 \
    "$reproduce" --run="$record" --out_dir="$work/three"

"$launch" --nproc_per_node=2 --rdzv_port=0 -- "$reproduce" --run="$record" \
    --out_dir="$work/again" >"$work/again.log" 2>&1
status=$?
[[ $status == 0 ]] || fail "2-rank reproduce: exit $status: $(tail -5 "$work/again.log")"
grep -q "^reproduced: 2 epochs" "$work/again.log" ||
    fail "no 'reproduced:' verdict: $(tail -5 "$work/again.log")"
[[ $(grep -c "^reproduced:" "$work/again.log") == 1 ]] ||
    fail "the verdict is not printed once (rank 0 only)"
cmp -s "$work/run/checkpoint.pt" "$work/again/checkpoint.pt" ||
    fail "the re-run's checkpoint.pt differs from the record's"

# Started alone, it starts the recorded 2 ranks itself.
"$reproduce" --run="$record" --out_dir="$work/alone" >"$work/alone.log" 2>&1
status=$?
[[ $status == 0 ]] || fail "reproduce alone: exit $status: $(tail -5 "$work/alone.log")"
grep -q "re-training in as many" "$work/alone.log" ||
    fail "reproduce alone did not say it starts the recorded ranks"
cmp -s "$work/run/checkpoint.pt" "$work/alone/checkpoint.pt" ||
    fail "reproduce alone: checkpoint.pt differs from the record's"

# A training of threads 0 started alone spreads over the cores itself, one
# rank of one thread each, equal to the same ranks under the launcher.
cores=$(nproc)
if (( cores >= 2 && 32 % cores == 0 )); then
  "$train" --config="$work/tiny.textproto" --output_dir="$work/self" \
      >"$work/self.log" 2>&1 || fail "training alone failed: $(tail -3 "$work/self.log")"
  grep -q "training data-parallel in $cores processes of one thread" "$work/self.log" ||
      fail "training alone did not launch its ranks: $(head -5 "$work/self.log")"
  if (( cores == 2 )); then
    cmp -s "$work/run/checkpoint.pt" "$work/self/checkpoint.pt" ||
        fail "training alone differs from the launcher's 2 ranks"
  fi
  "$train" --config="$work/tiny.textproto" --output_dir="$work/one" --threads=1 \
      >"$work/one.log" 2>&1 || fail "--threads=1 training failed"
  grep -q "data-parallel" "$work/one.log" && fail "--threads=1 still launched ranks"
fi
finish
