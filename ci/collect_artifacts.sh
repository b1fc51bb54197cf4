#!/usr/bin/env bash
# Copies a built chain's training and evaluation outputs out of Bazel's
# output base into a plain folder a CI system can upload:
#   bash ci/collect_artifacts.sh CHAIN OUT_DIR
# gives OUT_DIR/CHAIN/{training,evaluation}/. Checkpoints stay behind (the
# evaluation already holds what the gate judges). Replaces OUT_DIR/CHAIN as
# a whole, so a failed copy never leaves old and new files mixed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  echo "usage: bash ci/collect_artifacts.sh CHAIN OUT_DIR" >&2
  exit 2
fi
chain=$1 out=$2
bin="$(bazel info bazel-bin 2>/dev/null)/pipeline"
for part in training evaluation; do
  if [ ! -d "$bin/${chain}_$part" ]; then
    echo "error: $bin/${chain}_$part does not exist: build //pipeline:${chain}_evaluation first" >&2
    exit 2
  fi
done
mkdir -p "$out"
staging=$(mktemp -d "$out/.${chain}.XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp -r "$bin/${chain}_evaluation" "$staging/evaluation"
mkdir "$staging/training"
find "$bin/${chain}_training" -maxdepth 1 -type f ! -name '*.pt' \
  -exec cp {} "$staging/training/" \;
chmod -R u+w "$staging"
rm -rf "${out:?}/$chain"
mv "$staging" "$out/$chain"
trap - EXIT
echo "artifacts of $chain in $out/$chain:"
(cd "$out/$chain" && find . -type f | sort)
