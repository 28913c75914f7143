#!/usr/bin/env bash
# `smscan --list` of large real wheels equals cuobjdump --list-elf --list-ptx
# of each member extracted (issue 19, item 6; tensorflow 2.21's lld-linked
# libraries keep their section names 188 MB before the section table), and a
# wheel renamed to a hash lists the same (item 7). Run by hand: downloads.
#   tests/acceptance/list_check.sh [SMSCAN] [name==version ...]
# Default wheel: tensorflow==2.21.0 (573 MB). SMSCAN_BEFORE=path: a reference
# smscan, timed and counted in the same run. Cache: $SMWATCH_ACCEPTANCE_CACHE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smscan=${1:-$repo/build/inspector/smscan}
shift || true
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(tensorflow==2.21.0)
cache=${SMWATCH_ACCEPTANCE_CACHE:-$HOME/.cache/smwatch-acceptance}
mkdir -p "$cache"
for spec in "${specs[@]}"; do
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    -d "$cache" "$spec"
done
cuobjdump=${CUOBJDUMP:-}
if [ -z "$cuobjdump" ]; then
  for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))'); do
    for c in "$site"/nvidia/*/bin/cuobjdump "$site"/nvidia/cuda_cuobjdump/bin/cuobjdump; do
      [ -x "$c" ] && cuobjdump=$c && break 2
    done
  done
fi
[ -n "$cuobjdump" ] || cuobjdump=$(command -v cuobjdump || true)
[ -n "$cuobjdump" ] || { echo "cuobjdump not found: pip install nvidia-cuda-cuobjdump" >&2; exit 2; }
exec python3 "$here/list_check.py" --smscan "$smscan" --smscan-before "${SMSCAN_BEFORE:-}" \
  --cuobjdump "$cuobjdump" --cache "$cache" "${specs[@]}"
