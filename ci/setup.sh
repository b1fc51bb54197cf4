#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent: packages that
# are already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

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
# format check) and onnxruntime-node (ONNX parity tests). onnxruntime-node's
# install script fetches from another host; its binaries already ship in the
# package, hence --ignore-scripts.
TOOLS_DIR="${VIT_MOE_TOOLS:-/opt/vit_moe/tools}"
if [ ! -x "$TOOLS_DIR/node_modules/.bin/buildifier" ]; then
  echo "setup: installing buildifier into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent @bazel/buildifier@8.2.1
fi
if [ ! -d "$TOOLS_DIR/node_modules/onnxruntime-node" ]; then
  echo "setup: installing onnxruntime-node into $TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent --ignore-scripts onnxruntime-node
fi
# gitlab-ci-local validates ci/gitlab-ci.yml against GitLab's schema and runs
# its jobs here (ci/check_gitlab_ci.sh, ci/gitlab_local.sh). 4.60.1 is the
# newest release that runs on Node.js 20.
GCL_VERSION=4.60.1
if ! grep -qs "\"version\": \"$GCL_VERSION\"" \
  "$TOOLS_DIR/node_modules/gitlab-ci-local/package.json"; then
  echo "setup: installing gitlab-ci-local $GCL_VERSION into $TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent "gitlab-ci-local@$GCL_VERSION"
fi
