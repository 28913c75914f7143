// PTX text: the ISA version, the target and the kernel entry points.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/result.h"

namespace smwatch {

struct PtxInfo {
  uint16_t isa_major = 0, isa_minor = 0;  // ".version 9.0"
  Arch target;                            // ".target sm_90a"
  std::vector<std::string> kernels;       // ".entry" names, in order
};

bool looks_like_ptx(std::string_view text);  // has ".version" and ".target" near the start
Result<PtxInfo> read_ptx(std::string_view text);

// The CUDA release of a PTX ISA version: cuda_for_ptx_isa (arch.h), next to
// the GPU table.

}  // namespace smwatch
