#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/<target>/ from the nvcc-built
# fixtures of a build (default: build/tests/fixtures; any build with
# SMWATCH_BUILD_TESTS=ON has them). Seeds stay small: a few files per target,
# all of them together well under 1 MB.
#   fuzz/make_seeds.sh [FIXTURE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
fx=$(realpath "${1:-build/tests/fixtures}")
for f in sm80.fatbin multi_size.fatbin multi_speed_all.fatbin sm80.cubin sm90a.cubin sm120.cubin sm80.ptx \
         sm90a.ptx librdc.a second_sm90.o second_rdc.o sm80.so; do
  [ -f "$fx/$f" ] || { echo "make_seeds: $fx/$f missing: build the fixtures first (scripts/build.sh)" >&2; exit 1; }
done
out=fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"/{fatbin,decompress,cubin,host_elf,ptx,archive,scan,report,zip,explain,records,embedded,packages,image}

# A shared library cut down to its ELF headers and the fatbin section (the full
# .so files are ~1 MB each, mostly the static CUDA runtime).
objcopy --only-section=.nv_fatbin "$fx/sm80.so" "$tmp/sm80_slim.so" 2>/dev/null
objcopy -O binary --only-section=.nv_fatbin "$fx/sm80.so" "$tmp/sm80.nv_fatbin" 2>/dev/null

cp "$fx/sm80.fatbin" "$fx/multi_size.fatbin" "$fx/multi_speed_all.fatbin" "$tmp/sm80.nv_fatbin" "$out/fatbin/"
cp "$fx/sm80.cubin" "$fx/sm90a.cubin" "$fx/sm120.cubin" "$out/cubin/"
cp "$tmp/sm80_slim.so" "$fx/second_sm90.o" "$fx/second_rdc.o" "$out/host_elf/"
cp "$fx/sm80.ptx" "$fx/sm90a.ptx" "$out/ptx/"
cp "$fx/librdc.a" "$out/archive/"
# A RECORD (quoted path, a script outside site-packages, an absolute path), a NUL, a METADATA.
printf 'pkg/lib.so,sha256=abc,1\n"pkg/q,uote.so",,\n../../../bin/x,,\n/etc/passwd,,\n\0Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n\nbody\n' \
  >"$out/packages/record_and_metadata"
# Data-section contents: two real containers with a gap, and a short chain of
# plausible 80-byte containers whose entries lead from one to the next.
python3 - "$tmp/sm80.nv_fatbin" "$out/embedded" <<'PY'
import struct, sys
real = open(sys.argv[1], "rb").read()
open(sys.argv[2] + "/two_containers", "wb").write(real + bytes(16) + real)
links = 6
chain = b"".join(struct.pack("<IHHQ", 0xBA55ED50, 1, 16, (links - i) * 80 - 16 + 8 * (i % 2))
                 + struct.pack("<HHIQIIIIQQQQ", 2, 0x0101, 64, 16, 0, 0, 0, 80, 0, 0x11, 0, 0) for i in range(links))
open(sys.argv[2] + "/chain", "wb").write(chain + bytes(8))
PY
# A small GNU archive with a long member name (the "//" table) and an odd size.
( cd "$tmp" && printf 'x' > odd && cp "$fx/second_rdc.o" a_member_name_longer_than_16_chars.o &&
  ar rcsD long.a odd a_member_name_longer_than_16_chars.o ) && cp "$tmp/long.a" "$out/archive/"
for f in sm80.fatbin multi_speed_all.fatbin sm80.cubin sm80.ptx librdc.a; do cp "$fx/$f" "$out/scan/"; done
cp "$tmp/sm80_slim.so" "$out/scan/"
cp "$fx/multi_size.fatbin" "$tmp/sm80_slim.so" "$fx/sm90a.ptx" "$out/report/"

# decompress: each compressed entry of the zstd and LZ fixtures, framed as
# decompress_fuzzer.cc reads it: u8 mode (0 zstd, 1 LZ), u8 kind bits (1 = PTX),
# u64 declared uncompressed size, then the stored bytes.
python3 - "$fx" "$out/decompress" <<'PY'
import struct, sys
fx, out = sys.argv[1], sys.argv[2]
n = 0
for name, mode in (("multi_size.fatbin", 0), ("multi_speed_all.fatbin", 1)):
    b = open(f"{fx}/{name}", "rb").read()
    pos = 0
    while pos + 16 <= len(b):
        magic, _, hsize, esize = struct.unpack_from("<IHHQ", b, pos)
        assert magic == 0xBA55ED50
        p, end = pos + hsize, pos + hsize + esize
        while p + 64 <= end:
            kind, _, eh, payload, comp = struct.unpack_from("<HHIQI", b, p)
            flags, = struct.unpack_from("<Q", b, p + 40)
            unc, = struct.unpack_from("<Q", b, p + 56)
            if flags & 0xA000 and unc <= 0xfffff and n < 8:
                data = b[p + eh:p + eh + comp]
                open(f"{out}/{name.split('.')[0]}_{n}", "wb").write(struct.pack("<BBQ", mode, kind == 1, unc) + data)
                n += 1
            p += eh + payload
        pos = (end + 7) & ~7
print(f"make_seeds: {n} decompress seeds")
PY

# zip: small wheels (stored and deflated members, a RECORD, a nested zip, a
# member path with "..") holding the slim .so, a fatbin and a PTX file. libarchive
# is not instrumented, so without these the fuzzer rarely gets past its header.
python3 - "$fx" "$tmp/sm80_slim.so" "$out/zip" <<'PY'
import io, sys, zipfile
fx, slim, out = sys.argv[1:]
so = open(slim, "rb").read()
fatbin = open(f"{fx}/sm80.fatbin", "rb").read()
ptx = open(f"{fx}/sm80.ptx", "rb").read()
def wheel(name, members, mode):
    with zipfile.ZipFile(f"{out}/{name}", "w", mode) as z:
        for path, data in members:
            z.writestr(path, data)
wheel("stored.whl", [("pkg/_C.so", so), ("pkg-1.0.dist-info/RECORD", b"pkg/_C.so,,\n")], zipfile.ZIP_STORED)
wheel("deflated.whl", [("pkg/k.fatbin", fatbin), ("pkg/k.ptx", ptx), ("pkg/__init__.py", b"")], zipfile.ZIP_DEFLATED)
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w") as z:
    z.writestr("inner.ptx", ptx)
wheel("nested.zip", [("inner.whl", inner.getvalue()), ("../escape.ptx", ptx)], zipfile.ZIP_STORED)
PY
# explain: the crash logs of the explain tests (real and realistic).
cp tests/cli/logs/*.log "$out/explain/"
# records: a real report of the shim, written over the stand-in driver (every
# record type but runtime_kernel and missing, which need a what-if miss), and
# those two from the report tests.
# image: layer blobs (image_fuzzer.cc applies each one twice): files with
# device code, a replacement, a whiteout and an opaque directory, a hard link,
# symlinks (one a loop), bad paths; plain, gzip and zstd; wheels kept as
# files (read as a stream: sizes in the local headers, and in data
# descriptors as a pipe gets them).
python3 - "$fx/sm80.cubin" "$out/image" <<'PY'
import gzip, io, subprocess, sys, tarfile, zipfile
cubin, out = open(sys.argv[1], "rb").read(), sys.argv[2]
def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, data, link in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(data)
            t.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()
F, D, S, H = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
tree = layer([("./usr/", D, b"", ""), ("./usr/lib/k.cubin", F, cubin, ""), ("./usr/lib/k2.cubin", H, b"", "./usr/lib/k.cubin"),
              ("./lib", S, b"", "usr/lib"), ("./lib/via_link.cubin", F, cubin, ""), ("./usr/lib/.wh.k.cubin", F, b"", ""),
              ("./opt/.wh..wh..opq", F, b"", ""), ("./opt/x/loop", S, b"", "../x/loop"),
              ("./s/site-packages/p-1.dist-info/RECORD", F, b"../../usr/lib/k2.cubin,,\n", ""),
              ("./s/site-packages/p-1.dist-info/METADATA", F, b"Name: p\nVersion: 1\n\n", "")])
bad = layer([(".wh..", F, b"", ""), ("/abs.cubin", F, cubin, ""), ("../up.cubin", F, cubin, ""), ("a", S, b"", "b"),
             ("b", S, b"", "a"), ("h", H, b"", "missing")])
class Pipe(io.RawIOBase):  # not seekable: zipfile writes data descriptors
    def __init__(self): self.data = bytearray()
    def writable(self): return True
    def write(self, b): self.data += b; return len(b)
def wheel(target, method):
    with zipfile.ZipFile(target, "w", method) as z:
        for name, data in (("k/k.cubin", cubin), ("k/x.py", b"x = 1\n"), ("k-1.dist-info/RECORD", b"k/k.cubin,,\n")):
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), data, method)
plain, piped = io.BytesIO(), Pipe()
wheel(plain, zipfile.ZIP_STORED)
wheel(piped, zipfile.ZIP_DEFLATED)
wheels = layer([("./w/k-1-py3-none-any.whl", F, plain.getvalue(), ""), ("./w/piped.zip", F, bytes(piped.data), ""),
                ("./w/not-a-zip.whl", F, cubin, "")])
open(f"{out}/wheels.tar", "wb").write(wheels)
open(f"{out}/tree.tar", "wb").write(tree)
open(f"{out}/bad.tar", "wb").write(bad)
open(f"{out}/tree.tar.gz", "wb").write(gzip.compress(tree))
open(f"{out}/tree.tar.zst", "wb").write(subprocess.run(["zstd", "-q", "-c"], input=tree, capture_output=True, check=True).stdout)
# Manifests (an input that starts with '{'): layers with good, bad and odd digests; an index.
open(f"{out}/manifest.json", "w").write('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
    '"config":{"digest":"fuzz:config","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'
    '"digest":"fuzz:layer","size":1024},{"digest":"sha256:00"},{"digest":"../x"}],"manifests":[]}\n')
open(f"{out}/index.json", "w").write('{"schemaVersion":2,"manifests":[{"digest":"fuzz:manifest","platform":'
    '{"os":"linux","architecture":"amd64"}},{"digest":"fuzz:layer"}]}\n')
PY

bin=$(dirname "$fx")/shim
shim=$(dirname "$fx")/../shim/libsmwatch.so
if [ -x "$bin/driver_direct" ] && [ -f "$shim" ]; then
  LD_LIBRARY_PATH="$bin/fakecuda" LD_PRELOAD="$(realpath "$shim")" SMWATCH_REPORT="$tmp/reports" \
    SMWATCH_TARGETS=sm_120,sm_70 SMWATCH_LOG=quiet "$bin/driver_direct" --fatbin80 "$fx/sm80.fatbin" \
    --multi "$fx/multi.so" --so80 "$fx/sm80.so" --cubin80 "$fx/sm80.cubin" --bad-lookups 3 >/dev/null 2>&1 || true
  cat "$tmp"/reports/*.jsonl > "$out/records/driver_direct.jsonl"
fi
cat > "$out/records/what_if.jsonl" <<'EOF_RECORDS'
{"type":"process","pid":7,"time":1,"format":1,"targets":["sm_120","sm_86"],"cmdline":["python3","-m","x"]}
{"type":"runtime_kernel","pid":7,"time":2,"kernel":"k","mangled":"_Z1kv","source":"<memory, loaded by /lib/libcublasLt.so.13>","caller":"/lib/libcublasLt.so.13","archs":"sm_90"}
{"type":"missing","pid":7,"time":3,"target":"sm_120","kernel":"flash_fwd","mangled":"flash_fwd","source":"/venv/flash_attn_2_cuda.so","archs":"sm_80 sm_90"}
{"type":"exit","pid":7,"time":4,"launches":5,"modules":2,"failures":1,"missing":{"sm_120":1,"sm_86":0}}
EOF_RECORDS
du -sh "$out"; find "$out" -type f | wc -l
