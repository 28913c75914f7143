// The search for fatbin containers in a library's data sections (scan.cc,
// add_embedded_containers), differentially: the input is the contents of a
// .data section, wrapped in a host ELF; the containers found must be exactly
// those that walking each 8-aligned start would find (the search's
// definition, quadratic, fine for fuzzer-sized inputs), in memory and read
// from a file alike.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "embedded_oracle.h"
#include "smwatch/fatbin.h"
#include "smwatch/scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  using namespace smwatch::oracle;
  const std::vector<uint8_t> elf = elf_with_data(data, size);
  const Found expected = by_definition(ByteView(data, size), 64);
  ScanOptions options;
  options.probe_kernels = false;  // the search alone
  if (embedded(scan_bytes(ByteView(elf.data(), elf.size()), "fuzz.so", options)) != expected) std::abort();
  static const int fd = memfd_create("embedded-fuzz", MFD_CLOEXEC);
  if (fd >= 0 && ftruncate(fd, 0) == 0 && pwrite(fd, elf.data(), elf.size(), 0) == static_cast<ssize_t>(elf.size())) {
    FileScan from_file = scan_file("/proc/self/fd/" + std::to_string(fd), options);
    if (!from_file.read_error.empty() || embedded(from_file) != expected) std::abort();
  }
  return 0;
}
