#!/usr/bin/env bash
# smscan against cuobjdump on the same files, in one run: wall time and peak
# RSS of `cuobjdump --list-elf --list-ptx` vs `smscan --list` (the same
# output, checked) and vs smscan's verdict scan, per file and in total.
# Usage: bench/bench_smscan.sh [SMSCAN] [FILES or DIRS...]
#   default files: the CUDA libraries with device code in /usr/local/cuda/lib64
#   and the nvidia/torch libraries of this Python.
set -uo pipefail
cd "$(dirname "$0")/.."
smscan=${1:-build/inspector/smscan}
shift || true
here=bench
cuobjdump=${CUOBJDUMP:-$(tests/cuobjdump_diff.sh --print-cuobjdump 2>/dev/null || command -v cuobjdump)}
if [ -z "$cuobjdump" ] || [ ! -x "$cuobjdump" ]; then echo "cuobjdump not found (scripts/setup.sh installs it)" >&2; exit 2; fi
roots=("$@")
if [ ${#roots[@]} -eq 0 ]; then
  roots=(${CUDA_HOME:-/usr/local/cuda}/lib64)
  for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))'); do
    [ -d "$site/nvidia" ] && roots+=("$site/nvidia"); [ -d "$site/torch/lib" ] && roots+=("$site/torch/lib")
  done
fi
files=$(mktemp); trap 'rm -f "$files"' EXIT
for f in $(find -H "${roots[@]}" -type f \( -name '*.so*' -o -name '*.a' -o -name '*.whl' \) -size +100k | sort); do
  "$smscan" --list --no-progress "$f" 2>/dev/null | grep " file " >/dev/null && echo "$f" >> "$files"
done
n=$(wc -l < "$files")
echo "smscan vs cuobjdump on $n files with device code ($(du -chL $(cat "$files") | tail -1 | cut -f1) in all), $(nproc) cores"
measure() { python3 "$here/measure.py" "$@"; }
total_c=0; total_s=0
printf "%-44s %9s %9s %9s %9s %7s %7s\n" file cuobj_s smscan_s cuobj_MiB smscan_MiB speedup rss_1/x
while read -r f; do
  c=$(measure c -- "$cuobjdump" --list-elf --list-ptx "$f"); s=$(measure s -- "$smscan" --list --no-progress "$f")
  cmp -s <("$cuobjdump" --list-elf --list-ptx "$f" 2>/dev/null) <("$smscan" --list --no-progress "$f" 2>/dev/null) || echo "  (listing differs from cuobjdump: $f)"
  python3 - "$f" "$c" "$s" <<'PY'
import re, sys, os
f, c, s = sys.argv[1:]
g = lambda t, k: float(re.search(k + r"=([0-9.]+)", t).group(1))
cw, sw, cr, sr = g(c, "wall"), g(s, "wall"), g(c, "peak_rss"), g(s, "peak_rss")
print(f"{os.path.basename(f)[:44]:<44} {cw:9.3f} {sw:9.3f} {cr:9.1f} {sr:9.1f} {cw/max(sw,1e-3):6.0f}x {cr/max(sr,1e-3):6.0f}x")
PY
done < "$files"
echo "== all files, one command each (cuobjdump takes one file at a time)"
measure "cuobjdump --list-elf --list-ptx, file by file" -- sh -c "while read f; do '$cuobjdump' --list-elf --list-ptx \"\$f\"; done < '$files'"
measure "smscan --list, all files at once             " -- sh -c "'$smscan' --list --no-progress \$(cat '$files')"
measure "smscan verdicts -t sm_120,sm_90, all at once " -- sh -c "'$smscan' --no-progress -t sm_120,sm_90 \$(cat '$files')"
measure "smscan --kernels --json, all at once         " -- sh -c "'$smscan' --no-progress --kernels --json -t sm_120,sm_90 \$(cat '$files')"
