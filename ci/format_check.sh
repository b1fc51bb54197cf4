#!/usr/bin/env bash
# Fails when a C++ file is not clang-formatted (Google style, .clang-format)
# or a Bazel file is not buildifier-formatted. Run ci/format.sh to fix both.
set -euo pipefail

# The runfile is a symlink chain ending in the real source tree.
root="$(dirname "$(readlink -f WORKSPACE 2>/dev/null || readlink -f "$0/../../WORKSPACE")")"
cd "$root"
source ci/tools.sh

status=0
mapfile -t cc_files < <(list_sources '*.cc' '*.h')
bad_cc=$(clang-format --dry-run "${cc_files[@]}" 2>&1 | grep -oE '^[^:]+:[0-9]+:[0-9]+: (warning|error)' | cut -d: -f1 | sort -u || true)
if [ -n "$bad_cc" ]; then
  echo "not clang-formatted (run ci/format.sh):"
  echo "$bad_cc"
  status=1
fi

mapfile -t bazel_files < <(list_sources 'BUILD.bazel' '*.bzl' '*.BUILD' 'WORKSPACE')
if ! "$BUILDIFIER" --mode=check "${bazel_files[@]}"; then
  echo "not buildifier-formatted (run ci/format.sh)"
  status=1
fi
echo "format check: ${#cc_files[@]} C++ files, ${#bazel_files[@]} Bazel files"
exit $status
