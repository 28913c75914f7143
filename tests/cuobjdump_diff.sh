#!/usr/bin/env bash
# Differential test: `smscan --list FILE` must print exactly what
# `cuobjdump --list-elf --list-ptx FILE` prints, for every test fixture and
# every library with device code on this machine (the CUDA toolkit's and the
# nvidia-* pip packages'). Usage: cuobjdump_diff.sh SMSCAN FIXTURE_DIR [MORE FILES/DIRS...]
set -u

find_cuobjdump() {
  if [ -n "${CUOBJDUMP:-}" ]; then echo "$CUOBJDUMP"; return; fi
  for site in $(python3 -c 'import site, sys; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null); do
    for c in "$site"/nvidia/*/bin/cuobjdump "$site"/nvidia/cuda_cuobjdump/bin/cuobjdump; do
      [ -x "$c" ] && { echo "$c"; return; }
    done
  done
  command -v cuobjdump
}
cuobjdump=$(find_cuobjdump)
[ "${1:-}" = --print-cuobjdump ] && { echo "$cuobjdump"; exit 0; }
smscan=$1; shift
roots=("$@")
if [ -z "$cuobjdump" ]; then
  echo "cuobjdump not found: run scripts/setup.sh (it installs nvidia-cuda-cuobjdump from PyPI)" >&2
  exit 1
fi
echo "reference: $cuobjdump ($("$cuobjdump" --version | tail -1))"

cuda_lib=${CUDA_HOME:-/usr/local/cuda}/lib64
[ -d "$cuda_lib" ] && roots+=("$cuda_lib")
for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null); do
  [ -d "$site/nvidia" ] && roots+=("$site/nvidia")
  [ -d "$site/torch/lib" ] && roots+=("$site/torch/lib")
done

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
compared=0; with_code=0; failed=0
while IFS= read -r -d '' f; do
  case "$f" in *.ptx) continue ;; esac          # cuobjdump lists no bare PTX file
  magic=$(head -c 8 "$f" | od -An -c | tr -d ' \n')
  case "$magic" in \177ELF*|'!<arch>\n'|P355*) ;; *) continue ;; esac
  "$cuobjdump" --list-elf --list-ptx "$f" > "$tmp/ref" 2>/dev/null
  "$smscan" --no-progress --list "$f" > "$tmp/got" 2>"$tmp/err"
  compared=$((compared + 1))
  [ -s "$tmp/ref" ] && with_code=$((with_code + 1))
  if ! cmp -s "$tmp/ref" "$tmp/got"; then
    failed=$((failed + 1))
    echo "DIFFERS: $f"
    diff "$tmp/ref" "$tmp/got" | head -20
  fi
done < <(find -H "${roots[@]}" -type f -print0 2>/dev/null | sort -z)

echo "compared $compared files ($with_code with device code) against cuobjdump: $((compared - failed)) identical, $failed different"
[ "$compared" -gt 0 ] && [ "$failed" -eq 0 ]
