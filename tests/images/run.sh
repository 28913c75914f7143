#!/usr/bin/env bash
# smscan on container images, against the reference: builds real images
# offline with umoci (layers from a real rootfs: nvcc-built fixtures, a
# Python site-packages with a RECORD) and skopeo (zstd, docker-archive,
# oci-archive), unpacks them with `umoci unpack`, and checks that smscan of
# the image and smscan of the unpacked tree give the same files with the same
# verdicts, file for file. Then damages copies of the image (missing blob,
# digest mismatch, truncated layer, whiteout outside the root, absolute and
# ".." paths, link loops) and checks each error is named and the rest is
# still scanned.
#
#   tests/images/run.sh SMSCAN FIXTURE_DIR WORKDIR
set -euo pipefail
smscan=$(realpath "$1") fixtures=$(realpath "$2") work=$3
here=$(cd "$(dirname "$0")" && pwd)
cuda_lib=${CUDA_HOME:-/usr/local/cuda}/lib64
[ -n "$(ls "$cuda_lib"/libcudart.so.* 2>/dev/null)" ] || { echo "images: no libcudart in $cuda_lib: skipped"; exit 77; }
for tool in umoci skopeo python3 tar; do
  command -v $tool >/dev/null || { echo "images: $tool not installed (scripts/setup.sh installs it): skipped"; exit 77; }
done
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "images: FAIL: $*" >&2; exit 1; }
targets=sm_80,sm_90,sm_120

# --- the image: three layers -------------------------------------------------
umoci init --layout oci >/dev/null
umoci new --image oci:t
umoci unpack --rootless --image oci:t bundle >/dev/null
root=bundle/rootfs
site=$root/usr/local/lib/python3.11/site-packages
# Layer 1: device-code libraries, a package with a RECORD, symlinks.
mkdir -p $root/usr/lib/cuda $root/opt/app $root/opt/opq $site/kern/lib $site/kern-1.0.dist-info
cp "$fixtures/sm80.so" $root/usr/lib/cuda/libreplaced.so
cp "$fixtures/multi.so" $root/usr/lib/cuda/libmulti.so
cp "$fixtures/sm90a.so" $root/opt/app/libdeleted.so
cp "$fixtures/sm80.so" $root/opt/opq/libhidden.so
cp "$fixtures/sm80.cubin" $root/opt/opq/kept_below.cubin
cp "$fixtures/sm80.so" $site/kern/lib/libkern.so
# torch as PyPI's wheels install it (its version without "+cu124", the CUDA
# line in torch/version.py; one sm_80 library) and a real CUDA runtime from
# this machine's toolkit.
mkdir -p $site/torch/lib $site/torch-2.6.0.dist-info $root/usr/local/cuda/lib64
cp "$fixtures/sm80.so" $site/torch/lib/libtorch_cuda.so
printf 'Metadata-Version: 2.1\nName: torch\nVersion: 2.6.0\n\n' >$site/torch-2.6.0.dist-info/METADATA
printf 'torch/version.py,,\ntorch/lib/libtorch_cuda.so,,\ntorch-2.6.0.dist-info/METADATA,,\n' >$site/torch-2.6.0.dist-info/RECORD
printf "__version__ = '2.6.0+cu124'\ncuda: Optional[str] = '12.4'\n" >$site/torch/version.py
cudart=$(ls "$cuda_lib"/libcudart.so.* | head -1)
cp "$cudart" $root/usr/local/cuda/lib64/
ln -s "$(basename "$cudart")" $root/usr/local/cuda/lib64/libcudart.so
printf 'Metadata-Version: 2.1\nName: kern\nVersion: 1.0+cu118\n\n' >$site/kern-1.0.dist-info/METADATA
printf 'kern/lib/libkern.so,sha256=x,1\nkern-1.0.dist-info/METADATA,,\nkern-1.0.dist-info/RECORD,,\n' \
  >$site/kern-1.0.dist-info/RECORD
ln -s cuda/libmulti.so $root/usr/lib/libmulti.so.1          # the same file by a second name
ln -s ../usr/lib/cuda $root/opt/cuda                          # a directory by a second name
echo "not device code" >$root/opt/app/README
# Wheels kept as files (as build images keep dist/*.whl), made from the nvcc
# fixtures: one written as pip's tools write (sizes in the local headers),
# one written to a pipe (sizes after the data, in data descriptors, stored
# and deflated): inside the image each is read as a stream.
mkdir -p $root/opt/wheels
python3 - "$fixtures" $root/opt/wheels <<'PY'
import io, sys, zipfile
fx, out = sys.argv[1], sys.argv[2]
read = lambda name: open(f"{fx}/{name}", "rb").read()
def wheel(target, name, members):
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data, method in members:
            info = zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
        meta = f"{name}-1.0.dist-info"
        z.writestr(f"{meta}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
        z.writestr(f"{meta}/RECORD", "".join(f"{m},,\n" for m, _, _ in members) + f"{meta}/METADATA,,\n{meta}/RECORD,,\n")
D, S = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
wheel(f"{out}/demo_pkg-1.0-py3-none-any.whl", "demo_pkg",
      [("demo_pkg/__init__.py", b"x = 1\n", D), ("demo_pkg/lib/libmulti.so", read("multi.so"), D),
       ("demo_pkg/kernels/k.cubin", read("sm90a.cubin"), D)])
class Pipe(io.RawIOBase):  # not seekable: zipfile writes data descriptors
    def __init__(self): self.data = bytearray()
    def writable(self): return True
    def write(self, b): self.data += b; return len(b)
pipe = Pipe()
wheel(pipe, "piped", [("piped/lib/libsm120.so", read("sm120.so"), S), ("piped/lib/libsm80.so", read("sm80.so"), D),
                      ("piped/README", b"no device code\n", S)])
open(f"{out}/piped-1.0-py3-none-any.whl", "wb").write(pipe.data)
PY
cp "$fixtures/sm90a.so" "$root/opt/app/données.so"                # a UTF-8 name (a pax header)
umoci repack --refresh-bundle --image oci:t bundle >/dev/null
# Layer 2: replace one library, delete another (a whiteout), a hard link.
cp "$fixtures/sm120.so" $root/usr/lib/cuda/libreplaced.so
rm $root/opt/app/libdeleted.so
mkdir -p $root/srv
cp "$fixtures/sm90a.cubin" $root/srv/first.cubin
ln $root/srv/first.cubin $root/srv/second.cubin
umoci repack --refresh-bundle --image oci:t bundle >/dev/null
# Layer 3 (umoci raw add-layer, as a tar of real files): an opaque directory
# hides libhidden.so and kept_below.cubin of layer 1; new.so lands in it.
mkdir -p stage3/opt/opq
touch stage3/opt/opq/.wh..wh..opq
cp "$fixtures/sm120.so" stage3/opt/opq/new.so
tar -C stage3 -cf layer3.tar ./opt
umoci raw add-layer --image oci:t layer3.tar
umoci gc --layout oci

python3 - oci <<'PY' || fail "umoci did not make the three layers the test needs"
import json, os, sys, tarfile
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(os.path.join(d, "blobs/sha256", idx["manifests"][0]["digest"].split(":")[1])))
layers = [tarfile.open(os.path.join(d, "blobs/sha256", l["digest"].split(":")[1])) for l in m["layers"]]
assert len(layers) == 3, len(layers)
names = [{i.name.lstrip("./"): i for i in t.getmembers()} for t in layers]
assert "opt/app/.wh.libdeleted.so" in names[1], sorted(names[1])
assert names[1]["srv/second.cubin"].islnk() or names[1]["srv/first.cubin"].islnk(), sorted(names[1])
assert "usr/lib/cuda/libreplaced.so" in names[1]
assert "opt/opq/.wh..wh..opq" in names[2]
PY

# --- the image in every form ----------------------------------------------------
skopeo copy -q oci:oci:t oci:oci-zstd:t --dest-compress-format zstd --dest-compress
skopeo copy -q oci:oci:t docker-archive:docker.tar:smwatch/test:t
skopeo copy -q oci:oci:t oci-archive:oci-archive.tar:t
# A layout with two images needs DIR:TAG.
skopeo copy -q oci:oci:t oci:oci:other
file "$(ls oci-zstd/blobs/sha256/* | head -1)" >/dev/null 2>&1 || true
python3 - oci-zstd <<'PY' || fail "skopeo did not write zstd layers"
import json, sys, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(os.path.join(d, "blobs/sha256", idx["manifests"][0]["digest"].split(":")[1])))
types = [l["mediaType"] for l in m["layers"]]
assert all(t.endswith("+zstd") for t in types), types
PY

# --- the reference: umoci unpack, then smscan of the tree ---------------------------
umoci unpack --rootless --image oci:t ref >/dev/null
set +e
"$smscan" --json -t $targets "$PWD/ref/rootfs" >ref.json; ref_rc=$?
set -e
[ -e ref/rootfs/opt/app/libdeleted.so ] && fail "umoci left the deleted file: the fixture is wrong"
[ -e ref/rootfs/opt/opq/libhidden.so ] && fail "umoci left the file under the opaque directory: the fixture is wrong"

compare() {  # compare NAME SPEC: smscan SPEC against the reference
  local name=$1 spec=$2 rc
  set +e
  "$smscan" --json -t $targets "$spec" >"$name.json" 2>"$name.err"; rc=$?
  set -e
  [ "$rc" = "$ref_rc" ] || fail "$name: exit $rc, the unpacked tree $ref_rc ($(cat "$name.err"))"
  python3 "$here/compare.py" ref.json "$PWD/ref/rootfs" "$name.json" || fail "$name: verdicts differ from umoci unpack + smscan"
  echo "images: $name: same files and verdicts as umoci unpack + smscan (exit $rc)"
}
compare oci-gzip oci:t
compare oci-zstd oci-zstd
compare docker-archive docker.tar
compare oci-archive oci-archive.tar:t

# What the image says of itself: the package by its RECORD, fixes that name the image.
python3 - oci-gzip.json <<'PY' || fail "the image's packages or fixes are wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
pk = {p["name"]: p for p in doc["packages"] if p["name"]}
assert "kern" in pk, doc["packages"]
assert pk["kern"]["files"] == ["/usr/local/lib/python3.11/site-packages/kern/lib/libkern.so"], pk["kern"]
assert doc["image"]["site_packages"] == ["/usr/local/lib/python3.11/site-packages"], doc["image"]
fix = doc["summary"]["targets"]["sm_90"].get("fix", "")
assert fix.startswith("oci:t: ") and "use an image built with CUDA" in fix and "pip" not in fix, fix
fix = pk["kern"]["verdicts"]["sm_90"]["fix"]
assert fix == "oci:t: this image's kern 1.0+cu118 has no sm_90: use an image built with CUDA 11.8 or newer", fix
assert doc["image"]["torch"] == {"version": "2.6.0", "cuda": "12.4"}, doc["image"]["torch"]
fix = pk["torch"]["verdicts"]["sm_120"]["fix"]
assert fix == "oci:t: this image's torch 2.6.0 (CUDA 12.4) has no sm_120: use an image built with CUDA 12.8 or newer", fix
libs = doc["image"]["cuda_libraries"]
assert [l["component"] for l in libs] == ["CUDA runtime"] and libs[0]["path"].startswith("/usr/local/cuda/lib64/libcudart.so."), libs
assert doc["image"]["layers"] == 3 and doc["image"]["distributions"] == 2, doc["image"]
# The wheels kept as files: their members, as a scan of a wheel names them, grouped by the wheel.
files = {f["path"]: f for f in doc["files"]}
for wheel, member, arch in (("demo_pkg", "demo_pkg/lib/libmulti.so", "sm_90"), ("demo_pkg", "demo_pkg/kernels/k.cubin", "sm_90a"),
                            ("piped", "piped/lib/libsm120.so", "sm_120"), ("piped", "piped/lib/libsm80.so", "sm_80")):
    whl = f"/opt/wheels/{wheel}-1.0-py3-none-any.whl"
    f = files.get(f"{whl}!{member}")
    assert f and f["zip"] == {"path": whl, "member": member}, (member, f)
    assert arch in f["archs"] and f["package"] == {"name": wheel.replace("_", "-"), "version": "1.0"}, f
PY
for fmt in --list --markdown=md --html=page.html; do
  case $fmt in
    --list) "$smscan" --list oci:t >list.txt || fail "--list on the image"
            "$smscan" --list "$PWD/ref/rootfs" >ref-list.txt || true
            sed "s#$PWD/ref/rootfs##" ref-list.txt | diff - list.txt >/dev/null ||
              fail "--list of the image differs from the unpacked tree's" ;;
    *) "$smscan" -t $targets "${fmt%%=*}" "${fmt#*=}" oci:t >/dev/null || true
       grep -q "use an image built with CUDA" "${fmt#*=}" || fail "$fmt: no image fix" ;;
  esac
done
# One image of two needs its tag.
"$smscan" -t sm_90 oci >two.out 2>&1 && fail "a layout of two images scanned without a tag"
grep -q "holds 2 images: name one as PATH:TAG" two.out || fail "no clear error for two images: $(cat two.out)"
echo "images: formats, packages and fixes OK"

# --- bad images: each error named, the rest still scanned ----------------------
"$here/bad_images.sh" "$smscan" "$work" "$here"
