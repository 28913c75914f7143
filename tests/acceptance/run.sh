#!/usr/bin/env bash
# Acceptance test on real wheels from PyPI (not part of every CI run: it
# downloads ~4.1 GB once, then needs a few minutes). One command:
#   tests/acceptance/run.sh [path/to/smscan]
# Wheels are cached outside the repository, in $SMWATCH_ACCEPTANCE_CACHE
# (default ~/.cache/smwatch-acceptance). Checks:
#  - torch 2.5.1 (PyPI manylinux wheel, built with CUDA 12.4): FAIL on sm_120
#    with libtorch_cuda.so a failing file; not FAIL on sm_80, sm_86, sm_89,
#    sm_90, and libtorch_cuda.so, libtorch_cuda_linalg.so OK there;
#  - a torch built with CUDA >= 12.8 ($NEW_TORCH, default torch==2.9.1, whose
#    PyPI wheel is cu128): not FAIL on sm_120, libtorch_cuda.so OK there;
#  - nvidia-cublas-cu12 12.8.4.1 and nvidia-cudnn-cu12 9.10.2.21: never FAIL
#    (PARTIAL expected: they pick kernels per GPU) on sm_75, sm_80, sm_86,
#    sm_89, sm_90, sm_100, sm_120, and exit 0 without --strict;
#  - no wheel is damaged (exit 2);
#  - flashinfer-cubin (bare cubins for sm_100, sm_100a, sm_103a, chosen per
#    GPU): not FAIL on sm_100; sgl-kernel: verdicts reported;
#  - serving stacks (vllm, sgl-kernel, sglang-kernel, flashinfer-python,
#    flashinfer-cubin, bitsandbytes; $STACKS): no FAIL on a GPU the project
#    builds for, FAIL kept where it does not (vllm on sm_70, sgl-kernel on
#    sm_75 and sm_103), no masked failure (vllm's _C_stable_libtorch FAILs on
#    sm_110), and every file verdict agrees with its --kernels rows;
#  - every .so in every wheel: `smscan --list` of the wheel equals cuobjdump
#    --list-elf --list-ptx of that member extracted to a temporary directory
#    (cuobjdump needs a file; smscan itself never extracts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smscan=${1:-${SMSCAN:-$repo/build/inspector/smscan}}
cache=${SMWATCH_ACCEPTANCE_CACHE:-$HOME/.cache/smwatch-acceptance}
[ -x "$smscan" ] || { echo "smscan not found at $smscan: build first (scripts/build.sh) or pass its path" >&2; exit 2; }
mkdir -p "$cache"

old_torch=${OLD_TORCH:-torch==2.5.1}
new_torch=${NEW_TORCH:-torch==2.9.1}
cublas=${CUBLAS:-nvidia-cublas-cu12==12.8.4.1}
cudnn=${CUDNN:-nvidia-cudnn-cu12==9.10.2.21}
sgl=${SGL_KERNEL:-sgl-kernel==0.3.21}
flashinfer=${FLASHINFER_CUBIN:-flashinfer-cubin==0.6.13}
# Serving stacks (issue 19), judged with --kernels on sm_70 .. sm_120.
stacks=(${STACKS:-vllm==0.33.0 sgl-kernel==0.3.21 sglang-kernel==0.4.10 flashinfer-python==0.7.4
        flashinfer-cubin==0.6.13 bitsandbytes==0.50.2})

# pip download skips files already in the cache (it checks the name and hash).
# The wheels for CPython 3.11 on x86-64 Linux, whatever Python runs this; pip
# picks the best of the platform tags given.
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
for spec in "$old_torch" "$new_torch" "$cublas" "$cudnn" "$sgl" "$flashinfer" "${stacks[@]}"; do
  echo "+ pip download --no-deps $spec"
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 "${platforms[@]}" -d "$cache" "$spec"
done

find_cuobjdump() {
  if [ -n "${CUOBJDUMP:-}" ]; then echo "$CUOBJDUMP"; return; fi
  for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))'); do
    for c in "$site"/nvidia/*/bin/cuobjdump "$site"/nvidia/cuda_cuobjdump/bin/cuobjdump; do
      [ -x "$c" ] && { echo "$c"; return; }
    done
  done
  command -v cuobjdump || true
}
cuobjdump=$(find_cuobjdump)
[ -n "$cuobjdump" ] || { echo "cuobjdump not found: pip install nvidia-cuda-cuobjdump (scripts/setup.sh)" >&2; exit 2; }

exec python3 "$here/check.py" --smscan "$smscan" --cuobjdump "$cuobjdump" --cache "$cache" \
  --old-torch "$old_torch" --new-torch "$new_torch" --sgl "$sgl" --flashinfer "$flashinfer" \
  --cublas "$cublas" --cudnn "$cudnn" $(printf -- '--stack %s ' "${stacks[@]}")
