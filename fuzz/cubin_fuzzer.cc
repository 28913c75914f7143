// read_cubin(): a cubin (ELF64, e_machine 190), and elf_extent(), which the
// shim uses to size an image it only has a pointer to.
#include "common.h"
#if __has_include("smwatch/cubin.h")
#include "smwatch/cubin.h"
#define SMWATCH_HAVE_ELF_EXTENT 1
#else
#include "smwatch/elf_file.h"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const ByteView bytes(data, size);
  auto info = read_cubin(bytes);
  if (info) {
    (void)info->arch.sm_name();
    for (const auto& k : info->kernels)
      if (k.empty() || k.size() > size) std::abort();
  }
#ifdef SMWATCH_HAVE_ELF_EXTENT
  auto extent = elf_extent(bytes);
  (void)extent;
#endif
  return 0;
}
