#!/usr/bin/env bash
# Streaming benchmark for `smwatch explain`: peak memory and time on long
# pipes. Expect peak RSS small and flat whatever the size (a window of a few
# lines, each cut at 64 KiB, at most 256 findings), and the first answer
# printed while the pipe is still open.
#
#   bench/bench_explain_stream.sh [SMWATCH]
#     SMWATCH   default: build/cli/smwatch (or $BUILD_DIR/cli/smwatch)
# Environment: BENCH_SIZE (bytes of each stream, default 1G, as head -c takes it),
# BENCH_YES_SIZE (the `yes` stream of the original report, default 300M).
# Nothing is written to disk: every stream is generated into the pipe.
set -euo pipefail
cd "$(dirname "$0")/.."
smwatch=$(realpath "${1:-${BUILD_DIR:-build}/cli/smwatch}")
size=${BENCH_SIZE:-1G}
yes_size=${BENCH_YES_SIZE:-300M}
[ -x "$smwatch" ] || { echo "bench_explain_stream: $smwatch not found: build first (scripts/build.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_explain_stream: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }
echo "smwatch: $smwatch ($(nproc) cores)"

# run LABEL GENERATOR: GENERATOR's output piped into smwatch explain; the peak
# RSS and time are smwatch's own (GNU time around smwatch only).
run() {
  local label=$1 gen=$2 out
  out=$( { eval "$gen" | /usr/bin/time -f "TIME %M %e" "$smwatch" explain >/dev/null; } 2>&1 | grep '^TIME' || true)
  read -r _ rss secs <<<"$out"
  printf '%-52s peak RSS %6.1f MiB  %7.1f s\n' "$label" "$(echo "$rss / 1024" | bc -l)" "$secs"
}

# A server log: a traceback with the failure near the start, then ordinary lines.
server_log() {
  cat tests/cli/logs/sglang_blackwell.log
  yes '[2025-06-16 10:00:01 TP0] INFO Decode batch. #running-req: 12, #token: 4096, gen throughput (token/s): 812.34' | head -c "$size"
}
run "server log, $size (traceback, then INFO lines)" server_log
run "yes | head -c $yes_size (2-byte lines)" "yes | head -c $yes_size"
run "one line of $size, no newline" "head -c $size /dev/zero | tr '\\0' x"

# The first answer on a pipe that does not end: smwatch is stopped after 2 s
# with its input still open; what it printed by then is what a user sees.
first=$( { echo 'RuntimeError: CUDA error: no kernel image is available for execution on the device'; sleep 5; } 2>/dev/null |
         { timeout 2 "$smwatch" explain || true; } | head -1)
printf '%-52s %s\n' "first answer, input still open after 2 s" "${first:-(nothing)}"
