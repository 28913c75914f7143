#!/usr/bin/env bash
# Memory and time of `smwatch report` on 1 GB of shim reports (issue 15):
# the reader folds repeated records as it streams, so peak RSS stays small
# and flat whatever the size. Each size is measured against, in the same run,
# the time to read the same bytes (cat) and, when given, an older smwatch
# (SMWATCH_BEFORE=path: the reader that held every record, about 5x its input).
#
#   bench/bench_report.sh [SMWATCH]
#     SMWATCH   default: build/cli/smwatch (or $BUILD_DIR/cli/smwatch)
#
# Then the hostile shapes of issue 24, item 19, at three sizes each: one file
# with N distinct pids (the reader keeps at most 64 processes of a file, so
# memory stays flat; before: about 1.1 KB per pid, 1.1 GB for 1,000,000), and
# one process with N distinct GPU records (folded through a hash: time grows
# linearly; before: a linear search per record, quadratic). Each line prints
# the input size, and per record the time, so the growth can be read off.
# Measured (2 shared cores, BENCH_SIZES="", SMWATCH_BEFORE=main's smwatch):
#   pids  100k / 300k / 1M (2.7 / 8.5 / 28.8 MB): 7.7 / 7.6 / 7.7 MiB, 3.4 /
#         4.2 / 3.2 us per record; before 119 / 387 / 1125 MiB, 23 / 21 / 33 us
#   GPUs  20k / 80k / 320k (1.6 / 6.7 / 27.4 MB): 19 / 16 / 23 us per record
#         (RSS 12 / 28 / 97 MiB: the distinct GPUs are kept); before 62 / 639
#         us per record (320k not waited for: about 16x the 80k run)
#
# Environment: BENCH_SIZES (bytes, default "100000000 1000000000"; "" skips),
# BENCH_PIDS (default "100000 300000 1000000"), BENCH_GPUS (default
# "20000 80000 320000"),
# BENCH_DIR (where the reports are written, default a temporary folder,
# removed afterwards; about the largest size of free space is needed).
set -euo pipefail
cd "$(dirname "$0")/.."
smwatch=$(realpath "${1:-${BUILD_DIR:-build}/cli/smwatch}")
before=${SMWATCH_BEFORE:-}
sizes=${BENCH_SIZES-100000000 1000000000}
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

for size in $sizes; do  # BENCH_SIZES="" skips these
  rm -rf "$work/reports"
  python3 bench/make_reports.py "$work/reports" "$size"
  measure "cat (reading the bytes)" sh -c "cat '$work'/reports/*.jsonl"
  measure "smwatch report" "$smwatch" report "$work/reports"
  measure "smwatch report --json" "$smwatch" report --json "$work/reports"
  [ -n "$before" ] && measure "before: $(basename "$before") report" "$before" report "$work/reports"
done

# shape KIND N FILE: one report file of N distinct pids, or of one process with N distinct GPUs.
shape() {
  python3 - "$@" <<'PY'
import sys
kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "w") as f:
    if kind == "pids":
        f.writelines('{"type":"exit","pid":%d}\n' % pid for pid in range(1, n + 1))
    else:
        f.write('{"type":"process","pid":9,"time":1}\n')
        f.writelines('{"type":"gpu","pid":9,"time":1,"ordinal":%d,"name":"G","cc":"9.0","arch":"sm_90"}\n' % i
                     for i in range(n))
PY
}

# measure_shape LABEL RECORDS CMD...: like measure, plus microseconds per record.
measure_shape() {
  local label=$1 records=$2 rss secs rc
  shift 2
  /usr/bin/time -o "$work/time" -f "%M %e %x" "$@" >/dev/null 2>&1 || true
  read -r rss secs rc < <(tail -1 "$work/time")
  printf '  %-34s peak RSS %8.1f MiB  %6.2f s  %6.2f us/record  exit %s\n' "$label" "$(echo "$rss / 1024" | bc -l)" \
    "$secs" "$(echo "$secs * 1000000 / $records" | bc -l)" "$rc"
}

mkdir -p "$work/shapes"
for kind in pids gpus; do
  if [ $kind = pids ]; then counts=${BENCH_PIDS:-100000 300000 1000000}; else counts=${BENCH_GPUS:-20000 80000 320000}; fi
  for n in $counts; do
    file="$work/shapes/$kind-$n.jsonl"
    shape $kind "$n" "$file"
    echo "$n distinct $kind in one file ($(echo "scale=1; $(stat -c %s "$file") / 1000000" | bc) MB):"
    measure_shape "cat (reading the bytes)" "$n" cat "$file"
    measure_shape "smwatch report" "$n" "$smwatch" report "$file"
    [ -n "$before" ] && measure_shape "before: $(basename "$before") report" "$n" "$before" report "$file"
    rm -f "$file"
  done
done
