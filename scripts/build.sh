#!/usr/bin/env bash
# Configures and builds smwatch in build/ (or $BUILD_DIR), Release with debug info.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
export PATH="$PATH:/usr/local/cuda/bin"
# ccache, where installed, makes rebuilds in other checkouts of the tree cheap.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja "${launcher[@]}" -DCUDAToolkit_ROOT="${CUDA_HOME:-/usr/local/cuda}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
