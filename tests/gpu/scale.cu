// The user story in one file: a kernel built for one architecture only
// (sm_80 here), run on a GPU of another (the H100, 9.0). Through the CUDA
// runtime, like real programs: the runtime reaches the driver with dlsym +
// cuGetProcAddress and loads with cuLibraryLoadData.
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
