#!/usr/bin/env python3
"""Compares smscan --json of an image with smscan --json of the same image
unpacked by the reference tool (umoci unpack): the same files (paths inside
the image; a wheel's members as WHEEL!MEMBER), each with the same format,
size, device code, verdicts and notes (a wheel's members: and package; a
tree scan of a rootfs does not read its RECORDs), and the same count of
files without device code.

    compare.py REFERENCE.json ROOTFS IMAGE.json
"""
import json
import sys

ref_doc, rootfs, image_doc = json.load(open(sys.argv[1])), sys.argv[2].rstrip("/"), json.load(open(sys.argv[3]))


def files(doc, prefix):
    out = {}
    for f in doc["files"]:
        path = f["path"]
        if prefix:
            assert path.startswith(prefix + "/"), path
            path = path[len(prefix):]
        if not path.startswith("/"):
            continue  # the image's own entry (its damage), not a file of it
        out[path] = {k: f.get(k) for k in ("format", "size", "archs", "containers", "verdicts", "error", "problems",
                                           "notes")}
        if "zip" in f:  # a wheel's member: the wheel's path inside the image, its package by the wheel's name
            out[path]["zip"] = dict(f["zip"], path=f["zip"]["path"][len(prefix):])
            out[path]["package"] = f.get("package")
    return out


ref, image = files(ref_doc, rootfs), files(image_doc, "")
ok = True
for path in sorted(set(ref) | set(image)):
    if path not in image:
        print(f"compare: {path}: in the unpacked tree, not in the image scan")
        ok = False
    elif path not in ref:
        print(f"compare: {path}: in the image scan, not in the unpacked tree")
        ok = False
    elif ref[path] != image[path]:
        for key in ref[path]:
            if ref[path][key] != image[path][key]:
                print(f"compare: {path}: {key} differs:\n  tree:  {ref[path][key]}\n  image: {image[path][key]}")
        ok = False
for key in ("files_with_device_code", "files_without_device_code"):
    if ref_doc["summary"][key] != image_doc["summary"][key]:
        print(f"compare: {key}: tree {ref_doc['summary'][key]}, image {image_doc['summary'][key]}")
        ok = False
for target, s in ref_doc["summary"]["targets"].items():
    mine = image_doc["summary"]["targets"][target]
    for key in ("verdict", "ok", "jit", "partial", "fail"):
        if s[key] != mine[key]:
            print(f"compare: {target} {key}: tree {s[key]}, image {mine[key]}")
            ok = False
print(f"compare: {len(image)} files with device code or damage, {'same' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
