#include "smwatch/elf_file.h"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <memory>
#include <mutex>
#include <string>

#include "smwatch/elf.h"
#include "smwatch/fatbin.h"

namespace smwatch {
namespace {

// Host files keep libelf, while cubins, streamed members and the shim use the
// bounds-checked ElfSections (smwatch/elf.h): host objects come in every ELF
// shape (32-bit, big-endian, extended section numbering for objects of
// 65,280+ sections, as -ffunction-sections makes in static archives), which
// libelf reads and names the damage of. Over the same private mapping the
// view would save only libelf's per-section records, and it finds the same
// fatbin sections on every fixture (tests/unit/elf_test.cc). The
// fatbin-section names and rule are elf.h's.

// libelf keeps its last error per thread until elf_errno() reads it, so
// elf_errmsg(-1) can name an error from an earlier, unrelated file (found by
// the scan fuzzer: the same bytes got two different messages). Clear it before
// each use, and read it only through elf_errno().
void clear_libelf_error() { (void)elf_errno(); }
std::string libelf_reason(const char* otherwise) {
  const int err = elf_errno();
  return err != 0 ? elf_errmsg(err) : otherwise;
}

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfHandle = std::unique_ptr<Elf, ElfCloser>;

Result<ElfHandle> open_elf(ByteView bytes) {
  static std::once_flag once;
  std::call_once(once, [] { elf_version(EV_CURRENT); });
  // libelf only reads through this pointer in ELF_C_READ mode; the const_cast
  // is needed by its C interface.
  clear_libelf_error();
  Elf* e = elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size());
  if (e == nullptr || elf_kind(e) != ELF_K_ELF) {
    std::string reason = libelf_reason("its ELF header is not valid");
    if (e) elf_end(e);
    return make_error("not a readable ELF file: " + reason);
  }
  return ElfHandle(e);
}

// Walks the section headers, checking each one's extent against the image.
// A section table that does not read is damage, never "no sections": libelf
// takes a table whose extended count (e_shnum 0, the count in section 0) runs
// past the file for none at all, and a name table index that is 0, out of
// range or not a string table (under SHN_XINDEX, section 0's sh_link) for
// sections without names. Either way the fatbin sections vanished and a
// library with code for one GPU read as "nothing to run".
template <typename Visit>
Result<bool> for_each_section(Elf* e, const GElf_Ehdr& ehdr, Visit&& visit) {
  if (ehdr.e_shoff == 0) return true;  // no section table (stripped to the program headers)
  size_t count = 0;
  clear_libelf_error();
  if (elf_getshdrnum(e, &count) != 0 || count == 0)
    return make_error(fmt::format("ELF section header table at offset {:#x} holds no sections that can be read "
                                  "(e_shnum {}; for more, the count in section 0 is missing or runs past the end)",
                                  ehdr.e_shoff, ehdr.e_shnum));
  size_t shstrndx = 0;
  clear_libelf_error();
  if (elf_getshdrstrndx(e, &shstrndx) != 0)
    return make_error("ELF section names unreadable: " + libelf_reason("no reason given"));
  GElf_Shdr names;
  if (shstrndx == SHN_UNDEF || shstrndx >= count || gelf_getshdr(elf_getscn(e, shstrndx), &names) == nullptr ||
      names.sh_type != SHT_STRTAB)
    return make_error(fmt::format("ELF section name table index {} (e_shstrndx {}) is not a string table of the {} "
                                  "sections",
                                  shstrndx, ehdr.e_shstrndx, count));
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn != nullptr; scn = elf_nextscn(e, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) return make_error("ELF section header unreadable");
    const char* name = elf_strptr(e, shstrndx, shdr.sh_name);
    if (name == nullptr)
      return make_error(fmt::format("ELF section {} has no readable name (offset {} in the name table)",
                                    elf_ndxscn(scn), shdr.sh_name));
    visit(scn, shdr, std::string_view(name));
  }
  return true;
}

}  // namespace


Result<std::vector<ElfSection>> find_fatbin_sections(ByteView bytes) {
  auto elf = open_elf(bytes);
  if (!elf) return elf.error();
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf->get(), &ehdr) == nullptr) return make_error("ELF header unreadable (truncated?)");
  const uint64_t table_size = uint64_t{ehdr.e_shnum} * ehdr.e_shentsize;
  if (ehdr.e_shoff != 0 && !bytes.contains(ehdr.e_shoff, table_size))
    return make_error(fmt::format("ELF section header table (offset {:#x}, {} bytes) runs past the end of the "
                                  "file ({} bytes): truncated?",
                                  ehdr.e_shoff, table_size, bytes.size()));
  std::vector<ElfSection> sections;
  std::string problem;
  auto walked = for_each_section(elf->get(), ehdr, [&](Elf_Scn*, const GElf_Shdr& shdr, std::string_view name) {
    if (!is_fatbin_section(name) || shdr.sh_type == SHT_NOBITS) return;
    if (!bytes.contains(shdr.sh_offset, shdr.sh_size)) {
      problem = elf_section_past_end(name, shdr, bytes.size());
      return;
    }
    sections.push_back({std::string(name), shdr.sh_offset, shdr.sh_size});
  });
  if (!walked) return walked.error();
  if (!problem.empty() && sections.empty()) return make_error(problem);
  return sections_cuobjdump_reads(std::move(sections));
}

std::vector<ElfSection> find_data_sections(ByteView bytes) {
  std::vector<ElfSection> out;
  auto elf = open_elf(bytes);
  if (!elf) return out;
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf->get(), &ehdr) == nullptr) return out;
  (void)for_each_section(elf->get(), ehdr, [&](Elf_Scn*, const GElf_Shdr& shdr, std::string_view name) {
    if (shdr.sh_type != SHT_PROGBITS || (shdr.sh_flags & SHF_EXECINSTR) != 0) return;
    if (is_fatbin_section(name)) return;
    if (shdr.sh_size < kFatbinHeaderSize + kEntryHeaderMinSize || !bytes.contains(shdr.sh_offset, shdr.sh_size)) return;
    out.push_back({std::string(name), shdr.sh_offset, shdr.sh_size});
  });
  return out;
}

}  // namespace smwatch
