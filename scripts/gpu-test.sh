#!/usr/bin/env bash
# GPU tests and benchmarks, in one command.
#   scripts/gpu-test.sh build      - here: build everything the GPU run needs into gpu-artifacts/
#                                    (the test program is the example's, examples/missing-arch/scale.cu)
#   scripts/gpu-test.sh run [DIR]  - on the GPU machine: run tests/gpu/run.sh on gpu-artifacts/
#   scripts/gpu-test.sh            - both, on a machine with nvcc, the build deps and a GPU
set -euo pipefail
cd "$(dirname "$0")/.."
art=gpu-artifacts
export BUILD_DIR=${BUILD_DIR:-build-gpu}  # its own build: tests off, so it leaves build/ alone
build_artifacts() {
  scripts/build.sh -DSMWATCH_BUILD_TESTS=OFF >/dev/null
  # Anew, except wheels/ (scripts/gpu-wheel-check.sh's NEW.whl and OLD.whl, from scripts/build-wheel.sh).
  find "$art" -mindepth 1 -maxdepth 1 ! -name wheels -exec rm -rf {} + 2>/dev/null || true
  mkdir -p "$art/lib"
  strip --strip-debug -o "$art/libsmwatch.so" "$BUILD_DIR/shim/libsmwatch.so"
  strip --strip-debug -o "$art/smscan" "$BUILD_DIR/inspector/smscan"
  strip --strip-debug -o "$art/smwatch" "$BUILD_DIR/cli/smwatch"
  # smscan's shared libraries that a machine without the -dev packages may lack.
  for lib in $(ldd "$BUILD_DIR/inspector/smscan" | awk '/=>/ {print $3}' | grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so'); do
    cp -L "$lib" "$art/lib/"
  done
  nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  "$nvcc" -gencode arch=compute_80,code=sm_80 -o "$art/scale_sm80_static" examples/missing-arch/scale.cu
  "$nvcc" -gencode arch=compute_80,code=sm_80 -cudart shared -o "$art/scale_sm80_shared" examples/missing-arch/scale.cu
  "$nvcc" -gencode arch=compute_80,code=compute_80 -o "$art/scale_ptx80" examples/missing-arch/scale.cu
  "$nvcc" -gencode arch=compute_90,code=sm_90 -O2 -o "$art/launch_bench" tests/gpu/launch_bench.cu
  # PTX as nvcc writes it, and the same with its .version raised past what the
  # driver knows (9.1: CUDA 13.1; 9.9: no release yet): tests/gpu/run.sh's "ptx".
  "$nvcc" -ptx -arch=compute_80 -o "$art/scale_compute80.ptx" examples/missing-arch/scale.cu
  sed 's/^\.version .*/.version 9.1/' "$art/scale_compute80.ptx" > "$art/scale_isa91.ptx"
  sed 's/^\.version .*/.version 9.9/' "$art/scale_compute80.ptx" > "$art/scale_isa99.ptx"
  g++ -O2 -I"$(dirname "$nvcc")/../include" -o "$art/ptx_load_check" tests/gpu/ptx_load_check.cc -ldl
  # SMWATCH_BEFORE=<commit>: also smscan as of that commit, timed against this one in the same run.
  if [ -n "${SMWATCH_BEFORE:-}" ]; then
    before=$(mktemp -d)
    git worktree add -q --detach "$before" "$SMWATCH_BEFORE"
    (cd "$before" && BUILD_DIR=build-before scripts/build.sh -DSMWATCH_BUILD_TESTS=OFF >/dev/null)
    strip --strip-debug -o "$art/smscan-before" "$before/build-before/inspector/smscan"
    git worktree remove --force "$before"
  fi
  du -sh "$art"
}
case "${1:-all}" in
  build) build_artifacts ;;
  run) tests/gpu/run.sh "$art" "${2:-}" ;;
  all) build_artifacts && tests/gpu/run.sh "$art" ;;
  *) echo "usage: $0 [build|run [RESULTS_DIR]]" >&2; exit 2 ;;
esac
