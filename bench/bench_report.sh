#!/usr/bin/env bash
# Memory and time of `smwatch report` on 1 GB of shim reports (issue 15):
# the reader folds repeated records as it streams, so peak RSS stays small
# and flat whatever the size. Each size is measured against, in the same run,
# the time to read the same bytes (cat) and, when given, an older smwatch
# (SMWATCH_BEFORE=path: the reader that held every record, about 5x its input).
#
#   bench/bench_report.sh [SMWATCH]
#     SMWATCH   default: build/cli/smwatch (or $BUILD_DIR/cli/smwatch)
# Environment: BENCH_SIZES (bytes, default "100000000 1000000000"),
# BENCH_DIR (where the reports are written, default a temporary folder,
# removed afterwards; about the largest size of free space is needed).
set -euo pipefail
cd "$(dirname "$0")/.."
smwatch=$(realpath "${1:-${BUILD_DIR:-build}/cli/smwatch}")
before=${SMWATCH_BEFORE:-}
sizes=${BENCH_SIZES:-100000000 1000000000}
[ -x "$smwatch" ] || { echo "bench_report: $smwatch not found: build first (scripts/build.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_report: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }
work=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
echo "smwatch: $smwatch ($(nproc) cores)"

# measure LABEL CMD...: peak RSS and wall time of CMD (stdout discarded).
measure() {
  local label=$1 rss secs rc
  shift
  /usr/bin/time -o "$work/time" -f "%M %e %x" "$@" >/dev/null 2>&1 || true
  read -r rss secs rc < <(tail -1 "$work/time")
  printf '  %-34s peak RSS %8.1f MiB  %6.1f s  exit %s\n' "$label" "$(echo "$rss / 1024" | bc -l)" "$secs" "$rc"
}

for size in $sizes; do
  rm -rf "$work/reports"
  python3 bench/make_reports.py "$work/reports" "$size"
  measure "cat (reading the bytes)" sh -c "cat '$work'/reports/*.jsonl"
  measure "smwatch report" "$smwatch" report "$work/reports"
  measure "smwatch report --json" "$smwatch" report --json "$work/reports"
  [ -n "$before" ] && measure "before: $(basename "$before") report" "$before" report "$work/reports"
done
