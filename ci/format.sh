#!/usr/bin/env bash
# Formats every C++ and Bazel file of the project in place.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/tools.sh
list_sources '*.cc' '*.h' | xargs -r clang-format -i
list_sources 'BUILD.bazel' '*.bzl' '*.BUILD' 'WORKSPACE' | xargs -r "$BUILDIFIER" -lint=off
