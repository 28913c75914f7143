// The search for fatbin containers in a library's data sections (scan.cc,
// add_embedded_containers), by its definition: the oracle that the fuzzer
// (embedded_fuzzer.cc) and the hostile tests (tests/hostile/scan_safety_test.cc)
// check the real, linear search against.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "smwatch/fatbin.h"
#include "smwatch/scan.h"

namespace smwatch::oracle {

// Containers as (file offset, size).
using Found = std::vector<std::pair<uint64_t, uint64_t>>;

// A host ELF (x86-64 shared object) of one writable data section holding
// `size` bytes of `data`, at file offset 64 (8-aligned, as in a linked library).
inline std::vector<uint8_t> elf_with_data(const uint8_t* data, size_t size) {
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

// What the search must find: each 8-aligned start, in order, whose own walk
// reads cleanly, going on after its end (the search as first written, which
// walked each candidate: quadratic, but the definition).
inline Found by_definition(ByteView section, uint64_t base) {
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

// The embedded containers a scan found.
inline Found embedded(const FileScan& scan) {
  Found out;
  for (const auto& c : scan.containers)
    if (c.embedded) out.push_back({c.offset, c.size});
  return out;
}

}  // namespace smwatch::oracle
