#!/usr/bin/env bash
# The main job on a machine without a GPU: build smscan and ask which CUDA
# libraries installed here would fail on an RTX 5090 (sm_120) and a B200
# (sm_100), then on an A100 and an H100.
set -uo pipefail
cd "$(dirname "$0")/.."
# Its own build folder, without the tests: build/ stays the tests' (turning
# them off there would leave scripts/test.sh's ctest with stale binaries).
export BUILD_DIR=${BUILD_DIR:-build-demo}
scripts/build.sh -DSMWATCH_BUILD_TESTS=OFF
target=${1:-${CUDA_HOME:-/usr/local/cuda}/lib64}
echo "+ $BUILD_DIR/inspector/smscan -t sm_120,sm_100,A100,H100 $target"
"$BUILD_DIR/inspector/smscan" -t sm_120,sm_100,A100,H100 "$target"
status=$?
echo "(smscan exit status: $status - 0 all OK, JIT or PARTIAL, 1 some target FAILs, 2 unreadable input)"
exit 0
