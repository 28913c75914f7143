#!/usr/bin/env bash
# `smscan --list` of large wheels: wall time and peak RSS of this smscan
# against a reference smscan (e.g. main's), alternating, in the same run.
# Streamed members (host ELF over 16 MiB) hold one fatbin container at a time
# and the places of fatbin-section names (issue 19, item 6): peak RSS must stay
# flat whatever the member's size.
#   bench/bench_wheel_list.sh SMSCAN REFERENCE_SMSCAN WHEEL... [ROUNDS=2]
# Example: bench/bench_wheel_list.sh build/inspector/smscan /work/main/build/inspector/smscan \
#            ~/.cache/smwatch-acceptance/tensorflow-2.21.0-*.whl
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,10p "$0" >&2; exit 2; }
smscan=$1 reference=$2
shift 2
[ -x /usr/bin/time ] || { echo "bench_wheel_list: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }
for wheel in "$@"; do
  echo "$(basename "$wheel") ($(( $(stat -c %s "$wheel") >> 20 )) MiB), $(nproc) cores"
  for ((round = 1; round <= ${ROUNDS:-2}; ++round)); do
    for which in reference smscan; do
      bin=$smscan; [ $which = reference ] && bin=$reference
      out=$( { /usr/bin/time -f "TIME %e %M" "$bin" --no-progress --list "$wheel" | grep -v '^#' | grep -c . ; } 2>&1 | tr '\n' ' ')
      lines=$(echo "$out" | awk '{print $NF}')
      read -r secs rss <<<"$(echo "$out" | grep -o 'TIME [0-9.]* [0-9]*' | cut -d' ' -f2-)"
      printf '  round %d %-9s %6d lines  %7.1f s  peak RSS %6.1f MiB\n' "$round" "$which" "$lines" "$secs" "$(echo "$rss / 1024" | bc -l)"
    done
  done
done
