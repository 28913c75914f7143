#!/usr/bin/env bash
# Time and memory of smscan on the two inputs of issue 24 that grew faster
# than the file (items 6 and 9), each at three sizes in the same run, next to
# a reference file of the same size that holds nothing to search:
#   - "chain": a shared library whose .data is a chain of plausible 80-byte
#     fatbin containers, each claiming the rest of the section and 8 bytes
#     more. Trying each start with a walk of its own read every entry after
#     it: 1 MB took 11.6 s, 2 MB 53-79 s (quadratic). The reference ("zeros")
#     is the same library with a .data of zeros.
#   - "names": a static archive whose "//" long-name table (N/3000 MB) holds
#     one name without an end, and N members named "/0". Each member copied
#     the whole table: 3,000 members and 1 MB (1.18 MB) copied 3 GB and
#     aborted (main's smscan: 4.4 GB RSS when killed after 60 s). The
#     reference ("short") has the same table and members, with a short name
#     first.
# Linear means: double the input, double the time (growth ~2.0x per step,
# not 4.0x), and a peak RSS that stays a small multiple of the file.
#
#   bench/bench_scan_bounds.sh [SMSCAN]
#     SMSCAN   default: build/inspector/smscan (or $BUILD_DIR/...); give an
#              older smscan to see the growth before the fix (slow: minutes)
# Environment: BENCH_CHAIN_MB (default "8 16 32"), BENCH_NAMES (default
# "6000 12000 24000").
set -euo pipefail
cd "$(dirname "$0")/.."
smscan=$(realpath "${1:-${BUILD_DIR:-build}/inspector/smscan}")
[ -x "$smscan" ] || { echo "bench_scan_bounds: $smscan not found: build first (scripts/build.sh)" >&2; exit 1; }
scratch=$(mktemp -d /tmp/smwatch-bounds.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

python3 - "$scratch" ${BENCH_CHAIN_MB:-8 16 32} -- ${BENCH_NAMES:-6000 12000 24000} <<'PY'
import struct, sys
out = sys.argv[1]
args = sys.argv[2:]
split = args.index("--")
chain_mb, name_counts = [int(a) for a in args[:split]], [int(a) for a in args[split + 1:]]

def elf_with_data(data):
    names = b"\0.data\0.shstrtab\0"
    b = bytearray(64) + data
    names_at = len(b)
    b += names
    b += bytes(-len(b) % 8)
    table_at = len(b)
    shdr = lambda name, typ, flags, off, size, align: struct.pack("<IIQQQQIIQQ", name, typ, flags, 0, off, size, 0, 0, align, 0)
    b += shdr(0, 0, 0, 0, 0, 0) + shdr(1, 1, 3, 64, len(data), 8) + shdr(7, 3, 0, names_at, len(names), 1)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    b[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, table_at, 0, 64, 0, 0, 64, 3, 2)
    return bytes(b)

def chain(links):
    d = bytearray()
    for i in range(links):
        d += struct.pack("<IHHQ", 0xBA55ED50, 1, 16, (links - i) * 80 - 16 + 8)
        d += struct.pack("<HHIQIIIIQQQQ", 2, 0x0101, 64, 16, 0, 0, 0, 80, 0, 0x11, 0, 0)
    return bytes(d + bytes(8))

def member(name, data):
    h = f"{name:<16}{'0':<12}{'0':<6}{'0':<6}{'644':<8}{len(data):<10}`\n".encode()
    return h + data + (b"\n" if len(data) % 2 else b"")

for mb in chain_mb:
    links = (mb << 20) // 80
    open(f"{out}/chain-{mb}MB.so", "wb").write(elf_with_data(chain(links)))
    open(f"{out}/zeros-{mb}MB.so", "wb").write(elf_with_data(bytes(links * 80 + 8)))
for n in name_counts:
    body = b"".join(member("/0", b"xy") for _ in range(n))
    table = n * (1 << 20) // 3000
    open(f"{out}/names-{n}.a", "wb").write(b"!<arch>\n" + member("//", b"n" * table) + body)
    open(f"{out}/short-{n}.a", "wb").write(b"!<arch>\n" + member("//", b"n/\n".ljust(table, b"\n")) + body)
PY

echo "smscan: $smscan"
run() {  # FILE -> "seconds peak_kb exit"
  local rc=0
  python3 bench/measure.py x -- "$smscan" --no-progress -q -t sm_80 "$1" >"$scratch/m.txt" || rc=$?
  sed -E 's/.*wall=([0-9.]+)s peak_rss=([0-9.]+)MiB exit=(-?[0-9]+).*/\1 \2 \3/' "$scratch/m.txt"
}
table() {  # KIND REFERENCE SIZES...
  local kind=$1 ref=$2 prev=""
  shift 2
  printf '%-7s %-8s %10s %10s %10s %9s %10s %10s %10s %6s\n' input size bytes seconds "ref s" growth "peak MiB" \
    "ref MiB" "x file" exit
  for size in "$@"; do
    local f ext
    f=$(ls "$scratch/$kind-$size"*)
    ext=${f##*.}
    read -r secs mib rc < <(run "$f")
    read -r ref_secs ref_mib _ < <(run "$scratch/$ref-$size"*".$ext")
    local bytes growth
    bytes=$(stat -c %s "$f")
    growth=${prev:+$(awk "BEGIN{printf \"%.1fx\", $secs / ($prev > 0.001 ? $prev : 0.001)}")}
    printf '%-7s %-8s %10s %10s %10s %9s %10s %10s %10s %6s\n' "$kind" "$size" "$bytes" "$secs" "$ref_secs" \
      "${growth:--}" "$mib" "$ref_mib" "$(awk "BEGIN{printf \"%.2f\", $mib * 1048576 / $bytes}")" "$rc"
    prev=$secs
  done
}
read -r -a chain_sizes <<<"${BENCH_CHAIN_MB:-8 16 32}"
read -r -a name_sizes <<<"${BENCH_NAMES:-6000 12000 24000}"
table chain zeros "${chain_sizes[@]/%/MB}"
echo
table names short "${name_sizes[@]}"
echo "growth: seconds over the previous size's (the input doubles: ~2x is linear, ~4x quadratic);"
echo "x file: peak RSS over the file's size; ref: the same size with nothing to search (zeros; a short first name)"
