// One kernel and a main that launches it: the smallest program that shows
// "no kernel image is available for execution on the device" when it is
// built for one GPU and run on another. Built three ways by build.sh.
#include <cstdio>

__global__ void scale_by_two(float* p, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] *= 2.0f;
}

int main() {
  const int n = 1 << 10;
  float* d = nullptr;
  cudaMalloc(&d, n * sizeof(float));
  cudaMemset(d, 0, n * sizeof(float));
  scale_by_two<<<(n + 127) / 128, 128>>>(d, n);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  printf("scale_by_two: %s (%s)\n", cudaGetErrorName(err), cudaGetErrorString(err));
  cudaFree(d);
  return err == cudaSuccess ? 0 : 1;
}
