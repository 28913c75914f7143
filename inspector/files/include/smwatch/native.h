// The GPUs of this machine, asked of the driver (libcuda.so.1, opened at run
// time so that smscan also runs where there is none).
#pragma once

#include <string>
#include <vector>

#include "smwatch/arch.h"

namespace smwatch {

struct NativeGpu {
  int ordinal = 0;
  std::string name;
  uint16_t cc = 0;
};

struct NativeInfo {
  bool driver_found = false;
  int driver_version = 0;  // e.g. 13000 for CUDA 13.0
  std::vector<NativeGpu> gpus;
  std::string error;  // why there are no GPUs, when there are none
};

NativeInfo query_native_gpus();

// The GPUs of this machine as targets, each labelled with the driver's name
// for it; an error (the driver's reason) when there are none. What "native"
// means to resolve_targets (arch.h): resolve_targets(specs, native_targets).
Result<std::vector<Target>> native_targets();
// The same from an answer already in hand (no second cuInit).
Result<std::vector<Target>> native_targets(const NativeInfo& native);

}  // namespace smwatch
