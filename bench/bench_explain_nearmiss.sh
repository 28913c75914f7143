#!/usr/bin/env bash
# Time of `smwatch explain` on near-miss lines: lines that contain what a
# pattern looks for first but not the rest (issue 24 item 13). A backtracking
# regex tries each start and scans on: quadratic in the line. Expect each
# near-miss stream to take about as long per MB as an ordinary server log
# measured in the same run (the reference), not 1000 times longer.
#
#   bench/bench_explain_nearmiss.sh [SMWATCH]
#     SMWATCH   default: build/cli/smwatch (or $BUILD_DIR/cli/smwatch)
# Environment: BENCH_NEARMISS_SIZE (bytes of each stream, default 1M). The
# environment is not asked for (SMWATCH_PYTHON=/nonexistent): smwatch alone is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
smwatch=$(realpath "${1:-${BUILD_DIR:-build}/cli/smwatch}")
size=${BENCH_NEARMISS_SIZE:-1M}
[ -x "$smwatch" ] || { echo "bench_explain_nearmiss: $smwatch not found: build first (scripts/build.sh)" >&2; exit 1; }
echo "smwatch: $smwatch ($(nproc) cores), $size per stream"

bytes=$(numfmt --from=iec "$size")
# line TEXT REPEAT: lines of TEXT repeated REPEAT times (about 2 KB each), $size of them.
line() { python3 -c 'import sys; l=sys.argv[1]*int(sys.argv[2])+"\n"; sys.stdout.write(l*(int(sys.argv[3])//len(l)+1))' "$1" "$2" "$bytes" 2>/dev/null || true; }

# The stream is made first, so the time is smwatch's alone.
run() {
  local label=$1 gen=$2 start end input
  input=$(mktemp)
  eval "$gen" | head -c "$size" >"$input" || true
  start=$(date +%s.%N)
  SMWATCH_PYTHON=/nonexistent "$smwatch" explain <"$input" >/dev/null || true
  end=$(date +%s.%N)
  rm -f "$input"
  printf '%-60s %7.2f s\n' "$label" "$(echo "$end - $start" | bc -l)"
}

run "reference: server log lines" "yes '[2025-06-16 10:00:01 TP0] INFO Decode batch. #running-req: 12, #token: 4096, gen throughput (token/s): 812.34'"
run "reference: 2 KB lines of ordinary words" "line 'INFO Decode batch token ' 85"
run "a path with many '/' and no .so" "line '/ab' 650; line '.sox' 1"
run "a .so, then a path with many '/'" "line '/usr/lib/libfoo.so /a' 1 >/dev/null; python3 -c 'import sys; l=\"/usr/lib/x86_64-linux-gnu/ libfoo.so \"+\"/a\"*900+\"\\n\"; sys.stdout.write(l*($bytes//len(l)+1))'"
run "'with CUDA capability sm_' repeated, no number" "line 'GPU with CUDA capability sm_ ' 70"
run "'Found GPU0 ' repeated, no 'which is of'" "line 'Found GPU0 NVIDIA ' 110"
run "PyTorch's warning text repeated, no capability" "line 'x with CUDA capability sm_ ' 60; line 'is not compatible with the current PyTorch installation' 1"
run "'| 0 NVIDIA ' table cells, no On/Off" "line '|   0  NVIDIA GeForce RTX 5090 ' 60"
run "nested JSON record, 10,000 levels" "line '' 0 >/dev/null; python3 -c 'import sys; sys.stdout.write((\"{\\\"type\\\": \\\"failure\\\", \\\"archs\\\": \" + \"[\"*10000 + \"]\"*10000 + \"}\\n\")*50)'"
