"""A torch extension built the way users build theirs
(torch.utils.cpp_extension), for the architectures TORCH_CUDA_ARCH_LIST
names: with "8.0" it holds sm_80 SASS only and its launch fails on a newer
GPU ("no kernel image is available"); with "8.0+PTX" the driver JIT-compiles
its PTX and it runs.
Usage: arch_extension.py BUILD_DIR NAME   (prints "result ..." or raises)"""
import os
import sys

import torch
from torch.utils import cpp_extension

CUDA_SOURCE = r'''
#include <torch/extension.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

__global__ void smwatch_scale_kernel(const float* x, float* y, float a, int64_t n) {
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i];
}

torch::Tensor scale(torch::Tensor x, double a) {
  auto y = torch::empty_like(x);
  int64_t n = x.numel();
  smwatch_scale_kernel<<<(n + 255) / 256, 256, 0, c10::cuda::getCurrentCUDAStream()>>>(
      x.data_ptr<float>(), y.data_ptr<float>(), (float)a, n);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}
'''
CPP_SOURCE = "torch::Tensor scale(torch::Tensor x, double a);"


def main():
    build_dir, name = sys.argv[1], sys.argv[2]
    os.makedirs(build_dir, exist_ok=True)
    ext = cpp_extension.load_inline(name=name, cpp_sources=CPP_SOURCE, cuda_sources=CUDA_SOURCE,
                                    functions=["scale"], build_directory=build_dir, verbose=False)
    print("extension", ext.__file__, "arch list", os.environ.get("TORCH_CUDA_ARCH_LIST"), flush=True)
    x = torch.arange(1024, dtype=torch.float32, device="cuda")
    y = ext.scale(x, 3.0)
    torch.cuda.synchronize()
    assert torch.equal(y, 3.0 * x)
    print("result ok", float(y.sum()), flush=True)


if __name__ == "__main__":
    main()
