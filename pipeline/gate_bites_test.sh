#!/usr/bin/env bash
# Proves the CI accuracy gate bites: the CI chain on real Fashion-MNIST, but
# trained with a learning rate of 1e-12 (config validation refuses 0; this is
# as good as 0 - a crippled model), must fail the same gate
# thresholds, naming the accuracy metric.
set -euo pipefail

work="${TEST_TMPDIR:-$(mktemp -d)}/chain"
mkdir -p "$work"
download=$1 normalize=$2 train=$3 evaluate=$4 gate=$5 config=$6 thresholds=$7
# Arguments 8.. are Debian's Fashion-MNIST files, all in one folder.
mirror="$(dirname "$(readlink -f "$8")")"

"$download" --dataset=fashion_mnist --mirror="$mirror" --out_dir="$work/data"
"$normalize" --manifest="$work/data/manifest.pb" --out="$work/normalization.pb"
"$train" --config="$config" --manifest="$work/data/manifest.pb" \
  --normalization="$work/normalization.pb" --output_dir="$work/run" \
  --learning_rate=1e-12 --epochs=1
"$evaluate" --model="$work/run/best_model.pt" \
  --manifest="$work/data/manifest.pb" --normalization="$work/normalization.pb" \
  --split=test --out_dir="$work/eval" --limit_images=2000 \
  --corruption_images=100 --latency_runs=5

set +e
"$gate" --report="$work/eval/evaluation.pb" --thresholds="$thresholds" \
  > "$work/gate.txt" 2>&1
status=$?
set -e
cat "$work/gate.txt"
if [ "$status" -ne 1 ]; then
  echo "FAIL: gate exited $status for a crippled model; expected 1"
  exit 1
fi
grep -q "top1" "$work/gate.txt" || { echo "FAIL: gate did not name top-1 accuracy"; exit 1; }
echo "PASS: the gate rejected the crippled model"
