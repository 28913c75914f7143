#!/usr/bin/env bash
# smscan IMAGE against the reference way to get the same answer: `umoci
# unpack` of the image, then smscan of the unpacked tree. The image is built
# from real wheels: torch and NVIDIA's cu12 libraries installed into a rootfs
# with `pip install --target`, in three layers (NVIDIA's libraries, torch,
# the rest), gzip-compressed by umoci. Goal: smscan IMAGE faster than the
# unpack alone, in under 200 MiB.
#
#   bench/bench_image.sh [SMSCAN]
#     SMSCAN   default: build/inspector/smscan (or $BUILD_DIR/inspector/smscan)
# Environment: BENCH_TORCH (default 2.6.0), BENCH_WHEELS (wheel cache, default
# /work/.cache-wheels: only what is not there is downloaded), BENCH_DIR (where
# the image and the unpacked tree go, default /work/.cache-wheels/bench-image;
# the image is kept and reused), BENCH_TARGETS (default sm_120,sm_90).
# Heavy: run it by hand, `nice -n 10` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
smscan=$(realpath "${1:-${BUILD_DIR:-build}/inspector/smscan}")
torch=${BENCH_TORCH:-2.6.0}
wheels=${BENCH_WHEELS:-/work/.cache-wheels}
dir=${BENCH_DIR:-/work/.cache-wheels/bench-image}
targets=${BENCH_TARGETS:-sm_120,sm_90}
for tool in umoci python3 /usr/bin/time; do
  command -v $tool >/dev/null || { echo "bench_image: $tool missing (scripts/setup.sh)" >&2; exit 1; }
done
[ -x "$smscan" ] || { echo "bench_image: $smscan not found: build first" >&2; exit 1; }
mkdir -p "$wheels" "$dir"
image=$dir/oci

if [ ! -f "$dir/built" ]; then  # written last: a build cut short is redone
  echo "bench_image: wheels for torch==$torch into $wheels (pip skips those already there)"
  python3 -m pip download -q --disable-pip-version-check --only-binary=:all: -d "$wheels" "torch==$torch"
  rm -rf "$dir/site" "$dir/bundle" "$image"
  site=usr/local/lib/python3.11/site-packages
  python3 -m pip install -q --disable-pip-version-check --no-index --find-links "$wheels" --no-compile \
    --target "$dir/site/$site" "torch==$torch"
  umoci init --layout "$image" >/dev/null
  umoci new --image "$image:t"
  umoci unpack --rootless --image "$image:t" "$dir/bundle" >/dev/null
  mkdir -p "$dir/bundle/rootfs/$site"
  # Layer 1: NVIDIA's libraries; layer 2: torch; layer 3: everything else.
  mv "$dir/site/$site/nvidia" "$dir/bundle/rootfs/$site/"
  mv "$dir/site/$site"/nvidia_* "$dir/bundle/rootfs/$site/"
  umoci repack --refresh-bundle --image "$image:t" "$dir/bundle" >/dev/null
  mv "$dir/site/$site/torch" "$dir/site/$site"/torch-*.dist-info "$dir/bundle/rootfs/$site/"
  umoci repack --refresh-bundle --image "$image:t" "$dir/bundle" >/dev/null
  cp -a "$dir/site/$site/." "$dir/bundle/rootfs/$site/"
  umoci repack --refresh-bundle --image "$image:t" "$dir/bundle" >/dev/null
  umoci gc --layout "$image"
  rm -rf "$dir/site" "$dir/bundle"
  touch "$dir/built"
fi
blobs=$(du -sb "$image" | cut -f1)
echo "image: $image ($(( blobs / 1048576 )) MiB of blobs, $(nproc) cores)"

# run VAR LABEL COMMAND...: wall time and peak RSS (GNU time) of one command,
# kept in VAR_s and VAR_rss (KiB).
run() {
  local var=$1 label=$2 out
  shift 2
  out=$( { /usr/bin/time -f "TIME %M %e" "$@" >/dev/null 2>"$dir/last.err"; } 2>&1 | grep '^TIME' || true)
  [ -n "$out" ] || out=$(grep '^TIME' "$dir/last.err" | tail -1)
  read -r _ rss secs <<<"$out"
  printf '%-44s %8.1f s  peak RSS %7.1f MiB\n' "$label" "$secs" "$(echo "$rss / 1024" | bc -l)"
  eval "${var}_s=$secs ${var}_rss=$rss"
}
rm -rf "$dir/unpacked"
sync
run unpack "umoci unpack" umoci unpack --rootless --image "$image:t" "$dir/unpacked"
unpacked=$(du -sb "$dir/unpacked/rootfs" | cut -f1)
echo "  (unpacked tree: $(( unpacked / 1048576 )) MiB)"
run tree "smscan of the unpacked tree" "$smscan" --no-progress -q -t "$targets" "$dir/unpacked/rootfs"
run image "smscan IMAGE" "$smscan" --no-progress -q -t "$targets" "$image:t"
"$smscan" --no-progress -q -t "$targets" --json "$image:t" >"$dir/image.json" || true
"$smscan" --no-progress -q -t "$targets" --json "$dir/unpacked/rootfs" >"$dir/tree.json" || true
python3 tests/images/compare.py "$dir/tree.json" "$dir/unpacked/rootfs" "$dir/image.json" | tail -1
rm -rf "$dir/unpacked"
python3 - "$unpack_s" "$tree_s" "$image_s" "$image_rss" <<'PY'
import sys
unpack, tree, image, rss = map(float, sys.argv[1:])
print(f"smscan IMAGE: {image:.1f} s vs {unpack + tree:.1f} s for unpack + scan ({(unpack + tree) / image:.1f}x), "
      f"{unpack / image:.2f}x the unpack alone; peak RSS {rss / 1024:.0f} MiB (goal: faster than the unpack, under 200 MiB)")
PY
