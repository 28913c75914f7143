// find_fatbin_sections(): a host ELF (executable, .so, .o) and its fatbin
// sections; then the containers inside them, as the scanner reads them.
#include <string>
#include <vector>

#include "common.h"
#include "smwatch/elf_file.h"
#include "smwatch/fatbin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const ByteView bytes(data, size);
  (void)looks_like_elf(bytes);
  (void)looks_like_cubin(bytes);
  auto sections = find_fatbin_sections(bytes);
  if (!sections) return 0;
  for (const auto& s : *sections) {
    auto region = bytes.slice(s.offset, s.size);
    if (!region) std::abort();  // a section reported outside the file
    std::vector<std::string> problems;
    (void)parse_fatbin_region(*region, s.offset, problems);
  }
  return 0;
}
