// Loads a PTX file with cuModuleLoadData on GPU 0 and compares the driver's
// answer with the one expected: 0 for PTX the driver knows, 222
// (CUDA_ERROR_UNSUPPORTED_PTX_VERSION) for PTX whose ISA version is newer than
// the driver. What smscan's PTX-vs-driver rule (arch.h driver_jits) predicts,
// checked against a real driver by tests/gpu/run.sh.
// Usage: ptx_load_check FILE.ptx EXPECTED_CODE   (exit 0 when they match)
#include <cuda.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s FILE.ptx EXPECTED_CODE\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string ptx((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    std::fprintf(stderr, "%s: cannot read\n", argv[1]);
    return 2;
  }
  void* lib = dlopen("libcuda.so.1", RTLD_NOW);
  if (lib == nullptr) {
    std::fprintf(stderr, "no libcuda.so.1: %s\n", dlerror());
    return 2;
  }
  auto init = reinterpret_cast<CUresult (*)(unsigned)>(dlsym(lib, "cuInit"));
  auto version = reinterpret_cast<CUresult (*)(int*)>(dlsym(lib, "cuDriverGetVersion"));
  auto get = reinterpret_cast<CUresult (*)(CUdevice*, int)>(dlsym(lib, "cuDeviceGet"));
  auto retain = reinterpret_cast<CUresult (*)(CUcontext*, CUdevice)>(dlsym(lib, "cuDevicePrimaryCtxRetain"));
  auto set_current = reinterpret_cast<CUresult (*)(CUcontext)>(dlsym(lib, "cuCtxSetCurrent"));
  auto load = reinterpret_cast<CUresult (*)(CUmodule*, const void*)>(dlsym(lib, "cuModuleLoadData"));
  if (!init || !version || !get || !retain || !set_current || !load) {
    std::fprintf(stderr, "libcuda.so.1 lacks an entry point\n");
    return 2;
  }
  int driver = 0;
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  if (init(0) != CUDA_SUCCESS || version(&driver) != CUDA_SUCCESS || get(&dev, 0) != CUDA_SUCCESS ||
      retain(&ctx, dev) != CUDA_SUCCESS || set_current(ctx) != CUDA_SUCCESS) {
    std::fprintf(stderr, "no usable GPU\n");
    return 2;
  }
  CUmodule module = nullptr;
  const int got = static_cast<int>(load(&module, ptx.c_str()));
  const int expected = std::atoi(argv[2]);
  std::printf("%s: cuModuleLoadData = %d (expected %d), driver CUDA %d.%d\n", argv[1], got, expected, driver / 1000,
              driver % 1000 / 10);
  return got == expected ? 0 : 1;
}
