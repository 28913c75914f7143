#!/usr/bin/env bash
# Configures and builds smwatch in build/ (or $BUILD_DIR), Release with debug info.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B "$build" -G Ninja -DCUDAToolkit_ROOT="${CUDA_HOME:-/usr/local/cuda}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
