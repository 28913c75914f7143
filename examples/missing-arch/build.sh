#!/usr/bin/env bash
# Builds scale.cu three ways into OUTDIR (default: the current directory):
#   scale_sm80        SASS for sm_80 (A100) only
#   scale_sm80_ptx    sm_80 SASS + compute_80 PTX (newer GPUs can JIT-compile the PTX)
#   scale_sm90_sm120  SASS for sm_90 (H100/H200) and sm_120 (RTX 50xx)
# NVCC picks the compiler (default /usr/local/cuda/bin/nvcc). No GPU needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-.}
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
mkdir -p "$out"
set -x
"$nvcc" -o "$out/scale_sm80" "$here/scale.cu" -gencode arch=compute_80,code=sm_80
"$nvcc" -o "$out/scale_sm80_ptx" "$here/scale.cu" -gencode arch=compute_80,code=[sm_80,compute_80]
"$nvcc" -o "$out/scale_sm90_sm120" "$here/scale.cu" -gencode arch=compute_90,code=sm_90 -gencode arch=compute_120,code=sm_120
