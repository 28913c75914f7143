// scan_zip() (wheels and zips through libarchive) over arbitrary bytes. The
// reader takes a path, so each input is written to one scratch file first.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common.h"
#include "smwatch/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/smwatch-zip-fuzz-" + std::to_string(getpid()) + ".whl";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  smwatch::ScanOptions options;
  options.kernels = size % 2 == 0;  // both paths, chosen by the input
  smwatch::ZipLimits limits;        // the defaults: what users get
  if (size % 3 == 0) limits.stream_above = 0;  // and every ELF member streamed (ElfStream, ElfSections)
  auto scan = smwatch::scan_zip(path, options, limits);
  for (const auto& member : scan.members)
    if (member.path.find('!') == std::string::npos) std::abort();  // members are always labelled zip!member
  return 0;
}
