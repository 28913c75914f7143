#!/usr/bin/env bash
# Sanitizer builds (issue 7), run by scripts/test.sh in CI:
#  1. the whole project with AddressSanitizer + UndefinedBehaviorSanitizer in
#     build-asan, and every test that needs no GPU (the cuobjdump differential
#     test is left to the normal build: it runs cuobjdump, not our code, for
#     most of its time);
#  2. ThreadSanitizer for the shim's tests (ctest label "shim") in build-tsan.
# Environment: SANITIZE_ASAN_DIR / SANITIZE_TSAN_DIR (build folders),
# SANITIZE_SHIM=1 (also the tests that preload the shim, and the TSan step),
# SANITIZE_SKIP_TSAN=1, SANITIZE_CTEST_ARGS (more ctest arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
asan_dir=${SANITIZE_ASAN_DIR:-build-asan}
tsan_dir=${SANITIZE_TSAN_DIR:-build-tsan}
# Any report fails the test that triggered it; leaks count. verify_asan_link_order=0:
# tests preload ASan-built libraries into programs that are not (sh, true).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:verify_asan_link_order=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

step() { echo "sanitize: $*"; }
t0=$SECONDS
step "ASan+UBSan build in $asan_dir"
BUILD_DIR=$asan_dir scripts/build.sh -DSMWATCH_SANITIZE=address,undefined
step "ASan+UBSan build took $((SECONDS - t0)) s; running the tests"
t1=$SECONDS
# The shim's tests run here too: a sanitizer runtime resolves its interceptors
# with dlsym() while it starts, which reaches the shim's dlsym trampoline, so
# that path is uninstrumented (SMWATCH_EARLY in shim/src). The install test
# (a pip/cmake install of the instrumented tree) is left out unless
# SANITIZE_SHIM=1.
exclude_labels='gpu|differential' exclude_names='^cli_install_consumer$'
if [ "${SANITIZE_SHIM:-}" = 1 ]; then exclude_names='^$'; fi
# shellcheck disable=SC2086
(cd "$asan_dir" && ctest --output-on-failure -j"$(nproc)" -LE "$exclude_labels" -E "$exclude_names" ${SANITIZE_CTEST_ARGS:-})
step "ASan+UBSan tests took $((SECONDS - t1)) s"

if [ "${SANITIZE_SKIP_TSAN:-}" = 1 ]; then
  step "TSan skipped (SANITIZE_SKIP_TSAN=1)"
else
  # The shim's tests under ThreadSanitizer: the shim, the stand-in driver and
  # the test programs (8 threads launching at once, fork) all instrumented.
  # Only what those tests need is built.
  t2=$SECONDS
  step "ThreadSanitizer build of the shim's tests in $tsan_dir"
  cmake -S . -B "$tsan_dir" -G Ninja -DCUDAToolkit_ROOT="${CUDA_HOME:-/usr/local/cuda}" -DSMWATCH_SANITIZE=thread >/dev/null
  cmake --build "$tsan_dir" -j"$(nproc)" --target shim_tests
  # shellcheck disable=SC2086
  (cd "$tsan_dir" && ctest --output-on-failure -j"$(nproc)" -L shim -LE gpu ${SANITIZE_CTEST_ARGS:-})
  step "TSan shim tests took $((SECONDS - t2)) s"
fi
step "done in $((SECONDS - t0)) s"
