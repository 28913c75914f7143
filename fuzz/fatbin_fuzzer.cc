// The fatbin container and entry parser (parse_fatbin_region), over a bare
// fatbin or the contents of a .nv_fatbin section.
#include <string>
#include <vector>

#include "common.h"
#include "smwatch/fatbin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const ByteView region(data, size);
  std::vector<std::string> problems;
  auto containers = parse_fatbin_region(region, 0, problems);
  for (const auto& c : containers) {
    if (c.offset > size || c.size > size - c.offset) std::abort();  // container outside its region
    for (const auto& img : c.images) {
      if (img.header_size < kEntryHeaderMinSize) std::abort();
      // The entry (header + declared payload) lies inside its container.
      if (img.offset < c.offset || img.payload_offset() > c.offset + c.size ||
          img.payload_size > c.offset + c.size - img.payload_offset())
        std::abort();
      (void)img.arch.sm_name();
      (void)img.ptx_isa();
      if (auto p = image_payload(region, img); p) fuzz::check_inside(region, *p);
    }
  }
  (void)looks_like_fatbin(region);
  return 0;
}
