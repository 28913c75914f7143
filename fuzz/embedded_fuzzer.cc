// The search for fatbin containers in a library's data sections (scan.cc,
// add_embedded_containers), differentially: the input is the contents of a
// .data section, wrapped in a host ELF; the containers found must be exactly
// those that walking each 8-aligned start would find (the search's
// definition, quadratic, fine for fuzzer-sized inputs), in memory and read
// from a file alike.
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "smwatch/fatbin.h"
#include "smwatch/scan.h"

namespace {

using Found = std::vector<std::pair<uint64_t, uint64_t>>;

// A shared object of one data section holding `data`, at file offset 64.
std::vector<uint8_t> elf_with_data(const uint8_t* data, size_t size) {
  static const char names[] = "\0.data\0.shstrtab";  // with its final NUL: 17 bytes
  std::vector<uint8_t> b(64, 0);
  b.insert(b.end(), data, data + size);
  const uint64_t names_at = b.size();
  b.insert(b.end(), names, names + sizeof names);
  while (b.size() % 8) b.push_back(0);
  Elf64_Shdr shdr[3] = {};
  shdr[1] = {1, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 0, 64, size, 0, 0, 8, 0};
  shdr[2] = {7, SHT_STRTAB, 0, 0, names_at, sizeof names, 0, 0, 1, 0};
  const uint64_t table_at = b.size();
  b.insert(b.end(), reinterpret_cast<const uint8_t*>(shdr), reinterpret_cast<const uint8_t*>(shdr) + sizeof shdr);
  Elf64_Ehdr e{};
  std::memcpy(e.e_ident, ELFMAG, SELFMAG);
  e.e_ident[EI_CLASS] = ELFCLASS64;
  e.e_ident[EI_DATA] = ELFDATA2LSB;
  e.e_ident[EI_VERSION] = EV_CURRENT;
  e.e_type = ET_DYN;
  e.e_machine = EM_X86_64;
  e.e_version = EV_CURRENT;
  e.e_ehsize = sizeof e;
  e.e_shoff = table_at;
  e.e_shentsize = sizeof(Elf64_Shdr);
  e.e_shnum = 3;
  e.e_shstrndx = 2;
  std::memcpy(b.data(), &e, sizeof e);
  return b;
}

Found by_definition(smwatch::ByteView section, uint64_t base) {
  using namespace smwatch;
  Found out;
  for (uint64_t p = 0; p + 80 <= section.size();) {
    if (plausible_container_start(section.tail(p))) {
      const uint64_t entries = *section.read<uint64_t>(p + 8);
      if (entries <= section.size() - p - 16) {
        std::vector<std::string> problems;
        auto found = parse_fatbin_region(*section.slice(p, 16 + entries), base + p, problems);
        if (problems.empty() && found.size() == 1 && !found[0].images.empty()) {
          out.push_back({base + p, 16 + entries});
          p = (p + 16 + entries + 7) & ~uint64_t{7};
          continue;
        }
      }
    }
    p += 8;
  }
  return out;
}

Found embedded(const smwatch::FileScan& scan) {
  Found out;
  for (const auto& c : scan.containers)
    if (c.embedded) out.push_back({c.offset, c.size});
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
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
