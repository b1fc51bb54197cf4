#!/usr/bin/env bash
# The bring-your-own-data route on real data: Fashion-MNIST exported as PNG
# files (//data:export_images) and imported back (//data:import) must give
# a store with the same images and labels as the IDX route, and the CI
# recipe trained on it the same metrics, epoch for epoch, and the same test
# accuracy.
set -euo pipefail
idx_store=$1 png_store=$2 idx_run=$3 png_run=$4 idx_eval=$5 png_eval=$6

for split in train validation test; do
  for kind in images labels; do
    file="${split}_${kind}.u8"
    if ! cmp -s "$idx_store/$file" "$png_store/$file"; then
      echo "FAIL: $file differs between the IDX store and the imported PNGs"
      exit 1
    fi
  done
done
echo "stores: train, validation and test images and labels identical"

# Every column but the clock's.
deterministic() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i)
                       keep[i] = ($i !~ /seconds|per_second|share_of/) }
           { line = ""; for (i = 1; i <= NF; ++i) if (keep[i]) line = line $i ",";
             print line }' "$1"
}
if ! diff <(deterministic "$idx_run/metrics.csv") \
          <(deterministic "$png_run/metrics.csv"); then
  echo "FAIL: training on the imported store gave other metrics"
  exit 1
fi
echo "training: every epoch's metrics identical"

top1() { sed -n 's/^| top-1 accuracy | \(.*\) |$/\1/p' "$1/report.md" | head -1; }
a=$(top1 "$idx_eval") b=$(top1 "$png_eval")
if [ -z "$a" ] || [ "$a" != "$b" ]; then
  echo "FAIL: test top-1 '$a' (IDX) vs '$b' (PNG import)"
  exit 1
fi
echo "evaluation: test top-1 $a on both routes"
