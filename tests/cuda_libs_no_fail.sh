#!/usr/bin/env bash
# The CUDA toolkit's own libraries (CUDA 13) run on every GPU it supports:
# `smscan -t <those GPUs> $CUDA_HOME/lib64` must exit 0 and print no FAIL
# verdict for a file, a target or a package (PARTIAL is fine: cuBLAS, cuDNN,
# cuFFT... pick kernels per GPU). With --kernels, the kernel tables are left
# out of the check: a kernel built only for other GPUs is FAIL in its own row
# on this one, which is what makes its file PARTIAL; their number is printed.
# Usage: cuda_libs_no_fail.sh SMSCAN [--kernels]
# Exit 77 (skipped) when $CUDA_HOME/lib64 has no CUDA 13 or newer runtime.
set -u
smscan=$1
targets=sm_75,sm_80,sm_86,sm_89,sm_90,sm_100,sm_103,sm_120,sm_121
lib=${CUDA_HOME:-/usr/local/cuda}/lib64
major=$(ls "$lib"/libcudart.so.* 2>/dev/null | sed -n 's/.*libcudart\.so\.\([0-9]*\).*/\1/p' | sort -n | tail -1)
if [ -z "$major" ] || [ "$major" -lt 13 ]; then
  echo "skipped: no CUDA 13 or newer in $lib (libcudart.so.${major:-?})"
  exit 77
fi
args=(--no-progress -t "$targets")
[ "${2:-}" = --kernels ] && args+=(--kernels)

out=$(mktemp); err=$(mktemp); trap 'rm -f "$out" "$err"' EXIT
start=$(date +%s)
"$smscan" "${args[@]}" "$lib" >"$out" 2>"$err"
rc=$?
echo "smscan ${args[*]} $lib: exit $rc, $(( $(date +%s) - start )) s"
# The report without the kernel tables ("Kernels of FILE (N):" up to a blank line).
awk '/^Kernels of /{k=1; next} k && /^$/{k=0; next} !k' "$out" > "$out.files"
trap 'rm -f "$out" "$out.files" "$err"' EXIT
if grep -q '^Kernels of ' "$out"; then
  echo "kernel rows with a FAIL cell (kernels built only for other GPUs): $(awk '/^Kernels of /{k=1; next} k && /^$/{k=0} k' "$out" | grep -cw FAIL)"
fi
failed=0
if grep -nw FAIL "$out.files"; then
  echo "FAIL lines above: CUDA's own libraries must not fail on $targets"
  failed=1
fi
if [ "$rc" -ne 0 ]; then
  echo "exit status $rc, expected 0"
  cat "$err"
  failed=1
fi
grep -E '^(OK|JIT|PARTIAL|FAIL) +sm_' "$out.files"
exit "$failed"
