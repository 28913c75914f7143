#!/usr/bin/env bash
# Builds everything and runs every test that needs no GPU (ctest labels:
# unit, differential). GPU tests: scripts/gpu-test.sh on a machine with a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DSMWATCH_BUILD_TESTS=ON  # explicit: a cache made without tests must not run none
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --no-tests=error -j"$(nproc)" -LE gpu

# Hardening (issue 7): every test again under ASan+UBSan (and the shim's under
# TSan), then each fuzz target for 20 s. In CI (CI=true) or when asked
# (SMWATCH_FULL_TESTS=1); SMWATCH_FUZZ_SECONDS sets the fuzzing time per target.
if [ "${CI:-}" = true ] || [ "${SMWATCH_FULL_TESTS:-}" = 1 ]; then
  cd "$OLDPWD"  # back to the repository root, left above for the build folder
  start=$SECONDS
  scripts/sanitize.sh
  echo "test: sanitizer builds and tests took $((SECONDS - start)) s"
  start=$SECONDS
  fuzz/run.sh "${SMWATCH_FUZZ_SECONDS:-20}"
  echo "test: fuzzing took $((SECONDS - start)) s"
fi
