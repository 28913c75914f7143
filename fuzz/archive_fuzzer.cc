// read_archive(): ar archives (GNU and BSD names, symbol tables, thin).
#include <string>
#include <vector>

#include "common.h"
#include "smwatch/archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const ByteView bytes(data, size);
  (void)looks_like_archive(bytes);
  std::vector<std::string> problems;
  auto members = read_archive(bytes, problems);
  if (!members) return 0;
  for (const auto& m : *members) {
    fuzz::check_inside(bytes, m.data);
    if (m.data.size() && m.offset != static_cast<uint64_t>(m.data.data() - data)) std::abort();
  }
  return 0;
}
