#!/usr/bin/env bash
# The README's main job: the full pipeline on Fashion-MNIST, offline -
# download (Debian's files) -> normalize -> train (the 2-core CPU recipe,
# 2 processes, about 50 minutes) -> evaluate -> gate, as cached Bazel actions. Ends by
# printing where the report and figures are and the headline numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
target="${1:-fashion_mnist}"
bazel build "//pipeline:$target"

bin="$(bazel info bazel-bin 2>/dev/null)/pipeline"
echo
echo "training run: $bin/${target}_training/ (training_run.pb, best_model.pt, metrics.csv, curves)"
echo "report:       $bin/${target}_evaluation/report.md"
echo "figures:      $bin/${target}_evaluation/figures/"
echo "gate:         $bin/${target}_gate.txt"
echo
cat "$bin/${target}_gate.txt"
