#!/usr/bin/env bash
# Kernel view and wheel scan costs, measured in one run (wall time and peak
# RSS from /usr/bin/time -v):
#  1. per file: `smscan --kernels --json` (every image decompressed, every
#     kernel judged) against cuobjdump's listing (--list-elf --list-ptx) and
#     its nearest per-kernel view (--dump-elf-symbols), on the same file;
#  2. per wheel: `smscan` and `smscan --kernels` peak RSS against the bound
#     stated in docs/wheels-and-packages.md.
# Usage: bench/bench_kernels.sh [SMSCAN] [FILES/DIRS...]
#   files default to libraries with device code under $CUDA_HOME/lib64;
#   wheels: $BENCH_WHEELS (default: *.whl in ~/.cache/smwatch-acceptance).
# (bench/bench_smscan.sh compares the plain listing; this one the kernel view.)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
smscan=${1:-$repo/build/inspector/smscan}
shift || true
[ -x "$smscan" ] || { echo "smscan not found at $smscan (build first or pass its path)" >&2; exit 2; }
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  lib=${CUDA_HOME:-/usr/local/cuda}/lib64
  while IFS= read -r f; do files+=("$f"); done < <(find -L "$lib" -maxdepth 1 -name '*.so*' -type f -size +20M 2>/dev/null | sort | head -6)
fi
cuobjdump=${CUOBJDUMP:-}
if [ -z "$cuobjdump" ]; then
  for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))'); do
    for c in "$site"/nvidia/*/bin/cuobjdump; do [ -x "$c" ] && cuobjdump=$c && break 2; done
  done
fi
[ -n "$cuobjdump" ] || cuobjdump=$(command -v cuobjdump || true)

# measure LABEL CMD... -> "LABEL  <seconds> s  <MiB> MiB"
measure() {
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$log")
  rm -f "$log"
  # m:ss.cc -> seconds
  wall=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  printf '  %-34s %8.2f s %8s MiB\n' "$label" "$wall" "$rss"
}

echo "smscan: $smscan"
echo "cuobjdump: ${cuobjdump:-not found}"
echo "cores: $(nproc)"
echo
echo "== per file: kernel view vs cuobjdump"
for f in "${files[@]}"; do
  echo "$f ($(($(stat -Lc %s "$f") >> 20)) MiB)"
  measure "smscan --list" "$smscan" --no-progress --list "$f"
  measure "smscan --kernels --json" "$smscan" --no-progress --kernels --json -t sm_80,sm_90,sm_120 "$f"
  measure "smscan --kernels --json -j1" "$smscan" --no-progress --kernels --json -j1 -t sm_80,sm_90,sm_120 "$f"
  if [ -n "$cuobjdump" ]; then
    measure "cuobjdump --list-elf --list-ptx" "$cuobjdump" --list-elf --list-ptx "$f"
    measure "cuobjdump --dump-elf-symbols" "$cuobjdump" --dump-elf-symbols "$f"
  fi
done

echo
echo "== wheels: peak RSS against the stated bound (docs/wheels-and-packages.md)"
wheels=()
if [ -n "${BENCH_WHEELS:-}" ]; then read -ra wheels <<<"$BENCH_WHEELS"
else for w in "${SMWATCH_ACCEPTANCE_CACHE:-$HOME/.cache/smwatch-acceptance}"/*.whl; do [ -f "$w" ] && wheels+=("$w"); done; fi
for w in "${wheels[@]}"; do
  echo "$(basename "$w") ($(($(stat -Lc %s "$w") >> 20)) MiB)"
  measure "smscan" "$smscan" --no-progress -t sm_120 "$w"
  measure "smscan --kernels --json" "$smscan" --no-progress --kernels --json -t sm_120 "$w"
done
