#!/usr/bin/env bash
# Peak memory of smscan on a tree of files whose fatbin images lie about their
# uncompressed size (reliability item 4). Each file is a bare fatbin of about
# 40 KB holding one zstd-compressed image that declares 1 GiB:
#   - "ratio": 40 KB of random data in a zstd frame that does not state its
#     content size; 40 KB could expand to 1.3 GB by zstd's best ratio, so the
#     declared 1 GiB passes the ratio check. It decodes to 40 KB.
#   - "frame": a complete zstd frame whose own header also says 1 GiB, holding
#     a single byte (padded to 40 KB with a skippable frame).
# Before the fix smscan allocated (and zeroed) the declared 1 GiB per image:
# eight such files at -j 8 took about 8 GB, exit 0. Now the output buffer grows
# only as the data decodes: peak RSS stays small and flat, and every file is
# reported damaged (exit 2).
#
#   bench/bench_lying_sizes.sh [SMSCAN] [FILES]
#     SMSCAN   default: build/inspector/smscan (or $BUILD_DIR/...)
#     FILES    lying files in the tree (default 16; half of each kind)
# Environment: BENCH_JOBS, the -j values to run (default "1 8"). An smscan
# from before the fix needs about 1 GiB per job: keep -j low for one.
set -euo pipefail
cd "$(dirname "$0")/.."
smscan=$(realpath "${1:-${BUILD_DIR:-build}/inspector/smscan}")
files=${2:-16}
[ -x "$smscan" ] || { echo "bench_lying_sizes: $smscan not found: build first (scripts/build.sh)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "bench_lying_sizes: the zstd command is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_lying_sizes: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }
scratch=$(mktemp -d /tmp/smwatch-lying.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/tree"

for ((i = 0; i < files; ++i)); do
  if ((i % 2 == 0)); then
    head -c 40960 /dev/urandom | zstd -q -c --no-content-size >"$scratch/payload"
  else
    : >"$scratch/payload"  # the frame is made below
  fi
  python3 - "$scratch/payload" "$scratch/tree/lying$i.fatbin" <<'PY'
import struct, sys
payload = open(sys.argv[1], "rb").read()
if not payload:
    # magic; single segment with a 4-byte content size of 1 GiB; one last raw block of 1 byte
    payload = b"\x28\xb5\x2f\xfd\xa0" + struct.pack("<I", 1 << 30) + b"\x09\x00\x00x"
    pad = 40960 - len(payload) - 8  # a skippable frame: the file is as big as the other kind
    payload += struct.pack("<II", 0x184D2A50, pad) + bytes(pad)
size = (len(payload) + 7) & ~7
entry = struct.pack("<HHIQIIIIQQQQ", 2, 0x0101, 64, size, len(payload), 0, 0, 80, 0, 0x11 | 0x8000, 0, 1 << 30)
entry += payload + bytes(size - len(payload))
open(sys.argv[2], "wb").write(struct.pack("<IHHQ", 0xBA55ED50, 1, 16, len(entry)) + entry)
PY
done
tree_kb=$(du -sk "$scratch/tree" | cut -f1)
echo "smscan: $smscan; $files files, ${tree_kb} KB in all, each image declaring 1 GiB"

for mode in "" "--kernels"; do
  for jobs in ${BENCH_JOBS:-1 8}; do
    rc=0
    /usr/bin/time -o "$scratch/time.txt" -f '%e %M' "$smscan" --no-progress -q $mode -j "$jobs" -t sm_80 "$scratch/tree" \
      >/dev/null 2>&1 || rc=$?
    read -r secs kb < <(tail -1 "$scratch/time.txt")
    printf '%-10s -j %-2s %8s KB peak RSS (%5.1fx the tree)  %6s s  exit %s\n' "${mode:-default}" "$jobs" "$kb" \
      "$(awk "BEGIN{print $kb / $tree_kb}")" "$secs" "$rc"
  done
done
