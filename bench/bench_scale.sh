#!/usr/bin/env bash
# Scale benchmark for smscan (issue 7): time and peak memory as the number of
# files and the amount of device code grow. Expect time linear in each, and
# peak RSS flat (fatbin headers and payloads are read with pread, not kept
# mapped; per-file results are small; --json is written file by file).
#
#   bench/bench_scale.sh [SMSCAN] [BIG_CUDA_LIBRARY]
#     SMSCAN             default: build/inspector/smscan (or $BUILD_DIR/...)
#     BIG_CUDA_LIBRARY   default: /usr/local/cuda/lib64/libcublasLt.so.13
# Environment: BENCH_DIR (scratch, default a fresh mktemp -d, removed at the
# end; needs ~9x the library's size free), BENCH_FILES ("1000 10000 100000"),
# BENCH_COPIES ("1 2 4 8"), BENCH_KERNELS=1 to also time --kernels (every
# image decompressed), BENCH_FIXTURE (a small .so with device code, default
# build/tests/fixtures/sm80.so).
set -euo pipefail
cd "$(dirname "$0")/.."
smscan=$(realpath "${1:-${BUILD_DIR:-build}/inspector/smscan}")
big=${2:-/usr/local/cuda/lib64/libcublasLt.so.13}
fixture=${BENCH_FIXTURE:-${BUILD_DIR:-build}/tests/fixtures/sm80.so}
[ -x "$smscan" ] || { echo "bench_scale: $smscan not found: build first (scripts/build.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_scale: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }
scratch=${BENCH_DIR:-$(mktemp -d /tmp/smwatch-bench.XXXXXX)}
cleanup() { [ -n "${BENCH_DIR:-}" ] || rm -rf "$scratch"; }
trap cleanup EXIT
echo "smscan: $smscan ($(nproc) cores); scratch: $scratch"

# measure LABEL ARGS...: one warm-up run (page cache), then the best of 3.
measure() {
  local label=$1; shift
  "$smscan" --no-progress -q --json -t sm_120 "$@" >/dev/null 2>&1 || true
  local best_t="" best_m=""
  for _ in 1 2 3; do
    local line
    /usr/bin/time -o "$scratch/time.txt" -f '%e %M' "$smscan" --no-progress -q --json -t sm_120 "$@" >/dev/null 2>&1 || true
    line=$(tail -1 "$scratch/time.txt")
    local t=${line% *} m=${line#* }
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; fi
    if [ -z "$best_m" ] || [ "$m" -gt "$best_m" ]; then best_m=$m; fi
  done
  printf '%-34s %9s s %10s KB peak RSS\n' "$label" "$best_t" "$best_m"
}

echo
echo "== Tree size: N small files (1 in 1,000 a copy of $(basename "$fixture")) =="
for n in ${BENCH_FILES:-1000 10000 100000}; do
  tree=$scratch/tree-$n
  mkdir -p "$tree"
  python3 - "$tree" "$n" "$fixture" <<'PY'
import os, shutil, sys
root, n, fixture = sys.argv[1], int(sys.argv[2]), sys.argv[3]
blob = (b"# not CUDA\n" + bytes(range(32, 127))) * 30
for i in range(n):
    d = os.path.join(root, f"d{i // 1000}")
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"f{i}" + (".so" if i % 5 == 0 else ".py"))
    if i % 1000 == 500: shutil.copyfile(fixture, p)
    else:
        with open(p, "wb") as f: f.write(blob[: 100 + (i * 37) % 3000])
PY
  measure "$n files ($(du -sh "$tree" | cut -f1))" "$tree"
  rm -rf "$tree"
done

echo
echo "== Data size: copies of $(basename "$big") ($(du -h "$big" | cut -f1) each) =="
data=$scratch/data
mkdir -p "$data"
have=0
for c in ${BENCH_COPIES:-1 2 4 8}; do
  while [ "$have" -lt "$c" ]; do cp "$big" "$data/copy$have.so"; have=$((have + 1)); done
  measure "$c cop$([ "$c" = 1 ] && echo y || echo ies) ($(du -sh "$data" | cut -f1))" "$data"
  if [ "${BENCH_KERNELS:-}" = 1 ]; then measure "  same, --kernels" --kernels "$data"; fi
done
