#!/usr/bin/env bash
# Damaged copies of the image run.sh built (WORK/oci, tag t): each damage gets
# a clear error naming the layer or path and the reason, smscan exits 2, and
# the files the damage does not touch are still scanned. Then a wheel in the
# image with a member over the in-memory cap, and dangling symlinks (a note
# each, not damage).
#
#   tests/images/bad_images.sh SMSCAN WORK HERE
set -euo pipefail
smscan=$1 work=$2
cd "$work"
fail() { echo "images: FAIL: $*" >&2; exit 1; }
layer_blob() {  # layer_blob LAYOUT N: the blob file of layer N (1-based) of tag t
  python3 - "$1" "$2" <<'PY'
import json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
idx = json.load(open(os.path.join(d, "index.json")))
desc = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "t"][0]
m = json.load(open(os.path.join(d, "blobs/sha256", desc["digest"].split(":")[1])))
print(os.path.join(d, "blobs/sha256", m["layers"][n - 1]["digest"].split(":")[1]))
PY
}
expect() {  # expect NAME SPEC MESSAGE... : exit 2, each message in the output, libmulti.so still scanned
  local name=$1 spec=$2 rc
  shift 2
  set +e
  "$smscan" -t sm_90 --json "$spec" >"$name.json" 2>"$name.err"; rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$name: exit $rc, not 2: $(cat "$name.err")"
  for message in "$@"; do
    grep -qF -- "$message" "$name.err" || fail "$name: no \"$message\" in: $(cat "$name.err")"
  done
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f["path"]=="/opt/cuda/libmulti.so" and f.get("containers") for f in d["files"]) else 1)' \
    "$name.json" || fail "$name: the rest of the image was not scanned"
  echo "images: $name: exit 2, $(head -1 "$name.err")"
}

# A missing blob (layer 2's).
cp -a oci bad-missing
rm "$(layer_blob bad-missing 2)"
expect missing bad-missing:t "layer 2 (sha256:" "missing blob"

# A digest mismatch: layer 2 holds another valid layer's bytes.
cp -a oci bad-digest
cp "$(layer_blob bad-digest 3)" "$(layer_blob bad-digest 2)"
expect digest bad-digest:t "layer 2 (sha256:" "digest mismatch: the manifest says sha256:"

# A truncated layer: layer 3 cut in half.
cp -a oci bad-truncated
blob=$(layer_blob bad-truncated 3)
truncate -s $(( $(stat -c %s "$blob") / 2 )) "$blob"
expect truncated bad-truncated:t "layer 3 (sha256:"

# One hostile layer: a whiteout outside the root, absolute and ".." paths,
# symlink loops; the other entries of the same layer still count.
cp -a oci bad-entries
python3 - <<'PY'
import io, tarfile
with tarfile.open("hostile.tar", "w", format=tarfile.GNU_FORMAT) as t:
    def add(name, data=b"", kind=tarfile.REGTYPE, link=""):
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size = kind, link, len(data)
        t.addfile(info, io.BytesIO(data) if data else None)
    add(".wh..")                                   # a whiteout of the root's parent
    add("/etc/absolute.so", b"x")                  # absolute
    add("../escape.so", b"x")                      # above the root
    add("opt/../../escape2.so", b"x")
    add("loop", kind=tarfile.DIRTYPE)
    add("loop/a", kind=tarfile.SYMTYPE, link="b")  # a -> b -> a
    add("loop/b", kind=tarfile.SYMTYPE, link="a")
    add("loop/self", kind=tarfile.SYMTYPE, link="/loop/self/x")
    add("loop/hard", kind=tarfile.LNKTYPE, link="loop/missing")
PY
umoci raw add-layer --image bad-entries:t hostile.tar
expect entries bad-entries:t "layer 4 (sha256:" "whiteout outside the root" "/etc/absolute.so: absolute path" \
  "../escape.so: \"..\" leaves the image's root" "/loop/a: symlink loop" "/loop/self: symlink loop" \
  "hard link to /loop/missing"

# A wheel in the image with a member over what one member may take in memory
# (ImageLimits::max_buffered, 64 MiB: a real cubin padded with zeros, so the
# layer stays small): named, skipped; the wheel's other member and the rest of
# the image still scanned.
cp -a oci bad-wheel
mkdir -p wheel-layer/opt/wheels
python3 - ref/rootfs/srv/first.cubin wheel-layer/opt/wheels/big-1.0-py3-none-any.whl <<'PY'
import sys, zipfile
cubin = open(sys.argv[1], "rb").read()
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("big/kernels/huge.cubin", cubin + bytes((65 << 20) - len(cubin)))
    z.writestr("big/kernels/small.cubin", cubin)
PY
tar -C wheel-layer -cf wheel-layer.tar ./opt
umoci raw add-layer --image bad-wheel:t wheel-layer.tar
expect wheel bad-wheel:t \
  "/opt/wheels/big-1.0-py3-none-any.whl: big/kernels/huge.cubin: 68157440 bytes, over the 64 MiB that a member other than a shared library may take in memory; skipped"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f["path"].endswith("big-1.0-py3-none-any.whl!big/kernels/small.cubin") and f.get("containers") for f in d["files"]) else 1)' \
  wheel.json || fail "wheel: the wheel's other member was not scanned"
echo "images: bad images OK"

# Not damage: symlinks whose target is not in the image (the driver the host
# mounts in, a removed file, a file taken for a directory) are each named in a
# note with their target and why, and the exit status is the clean image's.
cp -a oci dangling
python3 - <<'PY'
import tarfile
with tarfile.open("dangling.tar", "w") as t:
    def link(name, target):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, target
        t.addfile(info)
    info = tarfile.TarInfo("dangling")
    info.type = tarfile.DIRTYPE
    t.addfile(info)
    link("dangling/libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15")
    link("dangling/librel.so", "../nowhere/librel.so")
    link("dangling/through-file", "/opt/app/README/x")
PY
umoci raw add-layer --image dangling:t dangling.tar
set +e
"$smscan" -t sm_90 oci:t >/dev/null 2>&1; clean_rc=$?
"$smscan" -t sm_90 --json dangling:t >dangling.json 2>dangling.err; rc=$?
"$smscan" -t sm_90 dangling:t >dangling.txt 2>&1
set -e
[ "$rc" = "$clean_rc" ] || fail "dangling: exit $rc, the image without the links $clean_rc: $(cat dangling.err)"
python3 - dangling.json <<'PY' || fail "dangling: links not named with their target and reason"
import json, sys
notes = {f["path"]: f.get("notes") for f in json.load(open(sys.argv[1]))["files"]}
want = {
    "/dangling/libcuda.so.1": "dangling symlink (-> /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15): "
                              "/usr/lib/x86_64-linux-gnu does not exist in the image; not scanned",
    "/dangling/librel.so": "dangling symlink (-> ../nowhere/librel.so): /nowhere does not exist in the image; not scanned",
    "/dangling/through-file": "dangling symlink (-> /opt/app/README/x): /opt/app/README is not a directory in the image; "
                              "not scanned",
}
for path, note in want.items():
    assert notes.get(path) == [note], (path, notes.get(path))
assert "/opt/cuda/libmulti.so" in notes, "the rest of the image was not scanned"
PY
grep -qF "/dangling/libcuda.so.1: dangling symlink (-> /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15)" dangling.txt ||
  fail "dangling: not in the table's notes: $(cat dangling.txt)"
echo "images: dangling symlinks named, exit $rc as without them"
