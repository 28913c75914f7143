#include "smwatch/native.h"

#include <cuda.h>
#include <dlfcn.h>

#include <fmt/format.h>

namespace smwatch {

NativeInfo query_native_gpus() {
  NativeInfo info;
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    info.error = "no CUDA driver (libcuda.so.1) on this machine";
    return info;
  }
  info.driver_found = true;
  auto sym = [&](const char* name) { return dlsym(lib, name); };
  auto init = reinterpret_cast<CUresult (*)(unsigned)>(sym("cuInit"));
  auto driver_version = reinterpret_cast<CUresult (*)(int*)>(sym("cuDriverGetVersion"));
  auto count = reinterpret_cast<CUresult (*)(int*)>(sym("cuDeviceGetCount"));
  auto get = reinterpret_cast<CUresult (*)(CUdevice*, int)>(sym("cuDeviceGet"));
  auto attr = reinterpret_cast<CUresult (*)(int*, CUdevice_attribute, CUdevice)>(sym("cuDeviceGetAttribute"));
  auto name = reinterpret_cast<CUresult (*)(char*, int, CUdevice)>(sym("cuDeviceGetName"));
  if (!init || !driver_version || !count || !get || !attr || !name) {
    info.error = "libcuda.so.1 lacks the driver API entry points";
    return info;  // the library stays loaded: unloading a driver is never worth the risk
  }
  driver_version(&info.driver_version);
  if (CUresult r = init(0); r != CUDA_SUCCESS) {
    info.error = fmt::format("cuInit failed with error {}", static_cast<int>(r));
    return info;
  }
  int n = 0;
  if (count(&n) != CUDA_SUCCESS) n = 0;
  for (int i = 0; i < n; ++i) {
    CUdevice dev;
    int major = 0, minor = 0;
    char buf[256] = {};
    if (get(&dev, i) != CUDA_SUCCESS) continue;
    attr(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
    attr(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
    name(buf, sizeof buf - 1, dev);
    info.gpus.push_back({i, buf, static_cast<uint16_t>(major * 10 + minor)});
  }
  if (info.gpus.empty()) info.error = "the driver reports no GPU";
  return info;
}

Result<std::vector<Target>> native_targets(const NativeInfo& native) {
  if (native.gpus.empty()) return make_error(native.error.empty() ? "no GPU found" : native.error);
  std::vector<Target> targets;
  for (const auto& gpu : native.gpus) targets.push_back({gpu.cc, gpu.name});
  return targets;
}

Result<std::vector<Target>> native_targets() { return native_targets(query_native_gpus()); }

}  // namespace smwatch
