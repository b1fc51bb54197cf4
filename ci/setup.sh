#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent: packages that
# are already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

# One setup at a time: two at once (parallel jobs, two checkouts) race for
# dpkg's lock and write the same npm folder half each.
exec 9>/tmp/vit_moe_setup.lock
flock 9

PACKAGES=(
  bazel-bootstrap bazel-rules-java openjdk-17-jdk-headless
  g++ clang libclang-rt-14-dev clang-format
  libtorch-dev libopenblas0-openmp libgloo-dev libgoogle-perftools-dev
  libabsl-dev libprotobuf-dev protobuf-compiler libgoogle-glog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopencv-dev zlib1g-dev libcurl4-openssl-dev libssl-dev libarchive-dev libonnx-dev
  libplplot-dev plplot-driver-cairo
  dataset-fashion-mnist
  cmake ninja-build python3 zip rsync
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
fi

# The machine image ships Node.js 20 with npm (buildifier and onnxruntime-node
# come from the npm registry); install Debian's only where neither exists.
if ! command -v npm >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# Tools from the npm registry, in one project-owned folder: buildifier (the
# format check), onnxruntime-node (ONNX parity tests) and gitlab-ci-local,
# which validates ci/gitlab-ci.yml against GitLab's schema and runs its jobs
# here (ci/check_gitlab_ci.sh, ci/gitlab_local.sh); 4.60.1 is its newest
# release that runs on Node.js 20. onnxruntime-node's install script fetches
# from another host; its binaries already ship in the package, hence
# --ignore-scripts. The check runs every tool rather than looking for its
# files: an interrupted install once left gitlab-ci-local present but a
# dependency half-written, and every later setup skipped it.
TOOLS_DIR="${VIT_MOE_TOOLS:-/opt/vit_moe/tools}"
GCL_VERSION=4.60.1
npm_tools_run() {
  "$TOOLS_DIR/node_modules/.bin/buildifier" --version >/dev/null 2>&1 &&
    (cd "$TOOLS_DIR" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1 &&
    [ "$("$TOOLS_DIR/node_modules/.bin/gitlab-ci-local" --version 2>/dev/null)" = "$GCL_VERSION" ]
}
if ! npm_tools_run; then
  echo "setup: installing buildifier, onnxruntime-node and gitlab-ci-local $GCL_VERSION into $TOOLS_DIR"
  rm -rf "$TOOLS_DIR/node_modules" "$TOOLS_DIR/package.json" "$TOOLS_DIR/package-lock.json"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent @bazel/buildifier@8.2.1
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent --ignore-scripts onnxruntime-node
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent "gitlab-ci-local@$GCL_VERSION"
  if ! npm_tools_run; then
    echo "setup: the tools installed into $TOOLS_DIR do not run" >&2
    exit 1
  fi
fi
