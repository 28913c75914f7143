#!/usr/bin/env bash
# smscan IMAGE against the reference way to get the same answer: `umoci
# unpack` of the image, then smscan of the unpacked tree. The image is built
# from real wheels, the CUDA part of a vLLM 0.8.4 serving image: torch 2.6.0
# with NVIDIA's cu12 libraries, vllm 0.8.4 and xformers 0.0.29.post2 (vllm's
# METADATA pins torch==2.6.0 and xformers==0.0.29.post2, xformers' torch==2.6.0;
# installed --no-deps, their pure-Python dependencies left out), all into a
# rootfs with `pip install --target`, plus the xformers wheel itself kept as a
# file (/opt/wheels: a wheel inside an image, read as a stream). About 6.5 GB
# uncompressed (torch and its cu12 libraries alone are 5.0 GiB, just at the
# 5 GB mark), in five layers gzip-compressed by umoci: NVIDIA's libraries,
# torch, the rest of torch's dependencies, vllm and xformers, /opt/wheels.
# Goal: smscan IMAGE faster than the unpack alone, in under 200 MiB.
#
#   bench/bench_image.sh [SMSCAN]
#     SMSCAN   default: build/inspector/smscan (or $BUILD_DIR/inspector/smscan)
#   bench/bench_image.sh --build-only     builds the image (once) and stops
# Environment: BENCH_WHEELS (wheel cache, default /work/.cache-wheels: only
# what is not there is downloaded, about 3.4 GB), BENCH_DIR (where the image
# and the unpacked tree go, default /work/.cache-wheels/bench-image; the image
# is kept and reused), BENCH_TARGETS (default sm_120,sm_90).
# Heavy: run it by hand, `nice -n 10` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
[ "${1:-}" = --build-only ] && { build_only=true; shift; }
smscan=$(realpath "${1:-${BUILD_DIR:-build}/inspector/smscan}")
wheels=${BENCH_WHEELS:-/work/.cache-wheels}
dir=${BENCH_DIR:-/work/.cache-wheels/bench-image}
targets=${BENCH_TARGETS:-sm_120,sm_90}
for tool in umoci python3 /usr/bin/time; do
  command -v $tool >/dev/null || { echo "bench_image: $tool missing (scripts/setup.sh)" >&2; exit 1; }
done
$build_only || [ -x "$smscan" ] || { echo "bench_image: $smscan not found: build first" >&2; exit 1; }
mkdir -p "$wheels" "$dir"
image=$dir/oci

# The wheels: torch and what it pulls in; vllm and xformers without theirs.
torch_spec=torch==2.6.0 serving_specs=(vllm==0.8.4 xformers==0.0.29.post2)
if [ ! -f "$dir/built" ]; then  # written last: a build cut short is redone
  echo "bench_image: wheels for $torch_spec ${serving_specs[*]} into $wheels (pip skips those already there)"
  pip_quiet=(-q --disable-pip-version-check --root-user-action=ignore)
  python3 -m pip download "${pip_quiet[@]}" --only-binary=:all: -d "$wheels" "$torch_spec"
  python3 -m pip download "${pip_quiet[@]}" --only-binary=:all: --no-deps -d "$wheels" "${serving_specs[@]}"
  rm -rf "$dir/site" "$dir/serving" "$dir/bundle" "$image"
  site=usr/local/lib/python3.11/site-packages
  python3 -m pip install "${pip_quiet[@]}" --no-index --find-links "$wheels" --no-compile --no-warn-conflicts \
    --target "$dir/site/$site" "$torch_spec"
  python3 -m pip install "${pip_quiet[@]}" --no-index --find-links "$wheels" --no-compile --no-warn-conflicts --no-deps \
    --target "$dir/serving/$site" "${serving_specs[@]}"
  umoci init --layout "$image" >/dev/null
  umoci new --image "$image:t"
  umoci unpack --rootless --image "$image:t" "$dir/bundle" >/dev/null
  mkdir -p "$dir/bundle/rootfs/$site"
  repack() { umoci repack --refresh-bundle --image "$image:t" "$dir/bundle" >/dev/null; }
  # Layer 1: NVIDIA's libraries; 2: torch; 3: torch's other dependencies.
  mv "$dir/site/$site/nvidia" "$dir/bundle/rootfs/$site/"
  mv "$dir/site/$site"/nvidia_* "$dir/bundle/rootfs/$site/"
  repack
  mv "$dir/site/$site/torch" "$dir/site/$site"/torch-*.dist-info "$dir/bundle/rootfs/$site/"
  repack
  cp -a "$dir/site/$site/." "$dir/bundle/rootfs/$site/"
  repack
  # Layer 4: vllm and xformers; 5: the xformers wheel as a file.
  cp -a "$dir/serving/$site/." "$dir/bundle/rootfs/$site/"
  repack
  mkdir -p "$dir/bundle/rootfs/opt/wheels"
  cp "$wheels"/xformers-0.0.29.post2-*.whl "$dir/bundle/rootfs/opt/wheels/"
  repack
  umoci gc --layout "$image"
  rm -rf "$dir/site" "$dir/serving" "$dir/bundle"
  touch "$dir/built"
fi
$build_only && exit 0
blobs=$(du -sb "$image" | cut -f1)
echo "image: $image ($(( blobs / 1048576 )) MiB of blobs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# run VAR LABEL OUTPUT COMMAND...: wall time and peak RSS (GNU time) of one
# command, its standard output to OUTPUT, kept in VAR_s and VAR_rss (KiB).
run() {
  local var=$1 label=$2 output=$3 out
  shift 3
  out=$( { /usr/bin/time -f "TIME %M %e" "$@" >"$output" 2>"$dir/last.err"; } 2>&1 | grep '^TIME' || true)
  [ -n "$out" ] || out=$(grep '^TIME' "$dir/last.err" | tail -1)
  read -r _ rss secs <<<"$out"
  awk -v l="$label" -v s="$secs" -v r="$rss" 'BEGIN { printf "%-44s %8.1f s  peak RSS %7.1f MiB\n", l, s, r / 1024 }'
  eval "${var}_s=$secs ${var}_rss=$rss"
}
rm -rf "$dir/unpacked"
sync
run unpack "umoci unpack" /dev/null umoci unpack --rootless --image "$image:t" "$dir/unpacked"
unpacked=$(du -sb "$dir/unpacked/rootfs" | cut -f1)
echo "  (unpacked tree: $(( unpacked / 1048576 )) MiB, $(find "$dir/unpacked/rootfs" -type f | wc -l) files)"
# The timed scans write the JSON the comparison reads (smscan exits 1 when a
# target fails: that is a verdict, not an error).
run tree "smscan of the unpacked tree" "$dir/tree.json" "$smscan" --no-progress -q -t "$targets" --json "$dir/unpacked/rootfs"
run image "smscan IMAGE" "$dir/image.json" "$smscan" --no-progress -q -t "$targets" --json "$image:t"
if python3 tests/images/compare.py "$dir/tree.json" "$dir/unpacked/rootfs" "$dir/image.json" >"$dir/compare.txt"; then
  tail -1 "$dir/compare.txt"
else
  head -20 "$dir/compare.txt" | cut -c1-300; echo "  (all of it: $dir/compare.txt)"
fi
rm -rf "$dir/unpacked"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$unpack_s" "$tree_s" "$image_s" "$image_rss" "$unpacked" <<'PY'
import sys
unpack, tree, image, rss, size = map(float, sys.argv[1:])
print(f"image {size / 1e9:.2f} GB unpacked: smscan IMAGE {image:.1f} s vs {unpack + tree:.1f} s for unpack + scan "
      f"({(unpack + tree) / image:.1f}x), {unpack / image:.2f}x the unpack alone; peak RSS {rss / 1024:.0f} MiB "
      f"(goal: faster than the unpack, under 200 MiB)")
PY
