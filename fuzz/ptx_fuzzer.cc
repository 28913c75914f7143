// read_ptx() and looks_like_ptx() over arbitrary text.
#include <string_view>

#include "common.h"
#include "smwatch/ptx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)looks_like_ptx(text);
  auto info = read_ptx(text);
  if (info) {
    for (const auto& k : info->kernels)
      if (k.empty() || k.size() > size) std::abort();
    (void)info->target.compute_name();
    (void)cuda_for_ptx_isa(info->isa_major, info->isa_minor);
  }
  return 0;
}
