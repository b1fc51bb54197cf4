#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash ci/setup.sh
echo "setup: $(( $(date +%s) - start ))s"

status=0
bazel test //... || status=$?
echo "bazel test //...: exit $status after $(( $(date +%s) - start ))s"
exit $status
