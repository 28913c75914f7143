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

// The CUDA release that introduced a PTX ISA version ("8.7" -> "12.8"), or ""
// when unknown. A driver JIT-compiles only the ISA versions it knows.
std::string cuda_for_ptx_isa(uint16_t major, uint16_t minor);

}  // namespace smwatch
