#!/usr/bin/env bash
# Builds everything and runs every test that needs no GPU (ctest labels:
# unit, differential). GPU tests: scripts/gpu-test.sh on a machine with a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" -LE gpu
