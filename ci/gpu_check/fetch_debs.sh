#!/usr/bin/env bash
# Downloads the Debian packages that ci/gpu_check.sh needs besides LibTorch
# (Abseil, Protobuf with protoc, glog, gflags, libunwind, OpenSSL) and unpacks them
# into DIR, for a GPU machine that lacks them: copy DIR there and run
#   GPU_CHECK_DEPS_DIR=DIR ci/gpu_check.sh LIBTORCH_DIR RESULTS_FILE
# Run it on a Debian 12 (bookworm) machine with the same architecture; the
# unpacked libraries need glibc 2.36 or newer on the GPU machine.
set -euo pipefail

if [[ $# -ne 1 || "$1" == -* ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$(mkdir -p "$1" && cd "$1" && pwd)

packages=(
  libabsl-dev libabsl20220623
  libprotobuf-dev libprotobuf32 libprotoc32 protobuf-compiler
  libgoogle-glog-dev libgoogle-glog0v6
  libgflags-dev libgflags2.2
  libunwind8
  libssl-dev libssl3
)

debs="$dir/debs"
mkdir -p "$debs"
(cd "$debs" && apt-get download "${packages[@]}")
for deb in "$debs"/*.deb; do
  dpkg -x "$deb" "$dir"
done
echo "unpacked ${#packages[@]} packages into $dir (GPU_CHECK_DEPS_DIR=$dir)"
