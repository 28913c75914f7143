#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a while.
# Fails when any target crashes, leaks, times out on an input, or runs out of
# memory, and when any saved regression input (fuzz/regressions/<target>/)
# fails again.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        default 20 (the CI setting)
#
# Environment:
#   FUZZ_BUILD_DIR  build folder (default build-fuzz)
#   FUZZ_TARGETS    names to run (default: all, from the build's targets.txt)
#   FUZZ_JOBS       targets run at once (default: number of cores)
#   FUZZ_OUT        logs, grown corpora and crash inputs (default $FUZZ_BUILD_DIR/fuzz-out);
#                   the corpus grown there is reused by the next run
#   FUZZ_NO_BUILD=1 use the fuzzers already built
#   FUZZ_ARGS       extra libFuzzer flags
# A crash leaves $FUZZ_OUT/<target>/crash-* (or timeout-*, oom-*, leak-*):
# reproduce with `$FUZZ_BUILD_DIR/fuzz/fuzz_<target> FILE`, fix the parser, and
# copy the input into fuzz/regressions/<target>/ so CI replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=${FUZZ_BUILD_DIR:-build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-out}
jobs=${FUZZ_JOBS:-$(nproc)}

if [ "${FUZZ_NO_BUILD:-}" != 1 ]; then
  command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 1; }
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DSMWATCH_FUZZ=ON -DSMWATCH_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCUDAToolkit_ROOT="${CUDA_HOME:-/usr/local/cuda}" >/dev/null
  # shellcheck disable=SC2046
  cmake --build "$build" -j"$(nproc)" --target $(sed 's/^/fuzz_/' "$build/fuzz/targets.txt")
fi
[ -f "$build/fuzz/targets.txt" ] || { echo "fuzz: $build/fuzz/targets.txt missing: configure with -DSMWATCH_FUZZ=ON and clang" >&2; exit 1; }
targets=${FUZZ_TARGETS:-$(cat "$build/fuzz/targets.txt")}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1 bin="$build/fuzz/fuzz_$t" dir="$out/$1"
  mkdir -p "$dir/corpus"
  local regs=()
  [ -d "fuzz/regressions/$t" ] && mapfile -t regs < <(find "fuzz/regressions/$t" -type f | sort)
  if [ "${#regs[@]}" -gt 0 ]; then
    if ! "$bin" -timeout=10 -rss_limit_mb=2048 "${regs[@]}" >"$dir/regressions.log" 2>&1; then
      echo "FAIL $t: a saved regression input fails again (log: $dir/regressions.log)"
      tail -30 "$dir/regressions.log"
      return 1
    fi
  fi
  local seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds+=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  local start=$SECONDS
  # shellcheck disable=SC2086
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$dir/" ${FUZZ_ARGS:-} "$dir/corpus" "${seeds[@]}" >"$dir/fuzz.log" 2>&1; then
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/fuzz.log" | grep -o '[0-9]*$' || echo '?')
    echo "ok   $t: $runs runs in $((SECONDS - start)) s, corpus $(find "$dir/corpus" -type f | wc -l) inputs"
  else
    echo "FAIL $t: libFuzzer found a problem (log: $dir/fuzz.log)"
    grep -E 'ERROR|SUMMARY|Test unit written' "$dir/fuzz.log" | head -10
    return 1
  fi
}

mkdir -p "$out"
echo "fuzz: $(echo $targets | wc -w) targets, ${seconds} s each, $jobs at once; output in $out"
failed=0
pids=() names=()
for t in $targets; do
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "FAIL $t: $build/fuzz/fuzz_$t not built"; failed=1; continue; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$t" > "$out/$t.result" 2>&1 &
  pids+=($!) names+=("$t")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  cat "$out/${names[$i]}.result"
done
[ "$failed" = 0 ] && echo "fuzz: no crashes" || echo "fuzz: FAILED (see above)"
exit "$failed"
