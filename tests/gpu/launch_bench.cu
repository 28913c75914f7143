// A launch-bound loop: N launches of an empty kernel, timed on the host. Run
// with and without libsmwatch.so to measure what the shim adds per launch.
#include <chrono>
#include <cstdio>
#include <cstdlib>

__global__ void empty_kernel() {}

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000000;
  empty_kernel<<<1, 1>>>();
  cudaDeviceSynchronize();
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) empty_kernel<<<1, 1>>>();
  cudaDeviceSynchronize();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cudaError_t err = cudaGetLastError();
  printf("launches=%ld seconds=%.6f ns_per_launch=%.2f status=%s\n", n, s, s * 1e9 / n, cudaGetErrorName(err));
  return err == cudaSuccess ? 0 : 1;
}
