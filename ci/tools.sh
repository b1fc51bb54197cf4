# Sourced by ci scripts: where the npm-installed tools live, and how to list
# the project's own source files (git's view when available).
TOOLS_DIR="${VIT_MOE_TOOLS:-/opt/vit_moe/tools}"
BUILDIFIER="$TOOLS_DIR/node_modules/.bin/buildifier"
if [ ! -x "$BUILDIFIER" ]; then
  echo "buildifier not found at $BUILDIFIER: run ci/setup.sh" >&2
  exit 1
fi

list_sources() {
  local args=()
  for pattern in "$@"; do args+=(-o -name "$pattern"); done
  find . \( -path ./.git -o -path './bazel-*' -o -path ./third_party/rules_cc \
    -o -path ./third_party/remote_coverage_tools -o -path '*/node_modules' \) -prune \
    -o -type f \( "${args[@]:1}" \) -print | sort
}
