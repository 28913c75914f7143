#include "smwatch/elf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>

#include "smwatch/cubin.h"
#include "smwatch/fatbin.h"

namespace smwatch {

bool looks_like_elf(ByteView bytes) { return bytes.starts_with(ELFMAG); }

Result<Elf64_Ehdr> read_elf_header(ByteView head) {
  if (!looks_like_elf(head)) return make_error("not an ELF file");
  auto ehdr = head.read<Elf64_Ehdr>(0);
  if (!ehdr) return make_error("ELF header truncated");
  if (ehdr->e_ident[EI_CLASS] != ELFCLASS64 || ehdr->e_ident[EI_DATA] != ELFDATA2LSB)
    return make_error("not a 64-bit little-endian ELF file");
  return *ehdr;
}

std::string_view elf_string(ByteView table, uint64_t offset) {
  if (offset >= table.size()) return {};
  std::string_view s = table.tail(offset).as_chars();
  const size_t nul = s.find('\0');
  return nul == std::string_view::npos ? std::string_view() : s.substr(0, nul);
}

uint64_t ElfSections::table_size(const Elf64_Ehdr& ehdr, ByteView first_entry) {
  if (ehdr.e_shnum != 0) return uint64_t{ehdr.e_shnum} * sizeof(Elf64_Shdr);
  if (ehdr.e_shoff == 0) return 0;  // no table
  const auto count = first_entry.read<uint64_t>(offsetof(Elf64_Shdr, sh_size));
  // Until the first entry is known, or when it holds a count this reader
  // does not take (open() says so), the first entry only.
  if (!count || *count == 0 || *count > UINT16_MAX) return sizeof(Elf64_Shdr);
  return *count * sizeof(Elf64_Shdr);
}

Result<ElfSections> ElfSections::open(const Elf64_Ehdr& ehdr, ByteView table, uint64_t file_size) {
  if (ehdr.e_shnum == 0 && ehdr.e_shoff == 0) return ElfSections(ByteView(), 0, 0, file_size);  // no table
  if (ehdr.e_shentsize != sizeof(Elf64_Shdr))
    return make_error(fmt::format("ELF section header size {} (expected {})", ehdr.e_shentsize, sizeof(Elf64_Shdr)));
  auto past_end = [&](uint64_t count) {
    return make_error(fmt::format("ELF section header table (offset {:#x}, {} entries) runs past the end ({} bytes)",
                                  ehdr.e_shoff, count, file_size));
  };
  auto in_file = [&](uint64_t size) { return ehdr.e_shoff <= file_size && size <= file_size - ehdr.e_shoff; };
  uint64_t count = ehdr.e_shnum;
  uint64_t names_index = ehdr.e_shstrndx;
  if (ehdr.e_shnum == 0 || ehdr.e_shstrndx == SHN_XINDEX) {
    // Extended numbering: the count or the name table index is in section 0.
    const auto first = table.read<Elf64_Shdr>(0);
    if (!in_file(sizeof(Elf64_Shdr)) || !first) return past_end(std::max<uint64_t>(count, 1));
    if (ehdr.e_shnum == 0) count = first->sh_size;
    if (ehdr.e_shstrndx == SHN_XINDEX) names_index = first->sh_link;
    if (count == 0)
      return make_error(fmt::format("ELF section header table at offset {:#x} declares no sections "
                                    "(e_shnum 0, and 0 in section 0)",
                                    ehdr.e_shoff));
  }
  if (count > file_size / sizeof(Elf64_Shdr) || !in_file(count * sizeof(Elf64_Shdr)) ||
      table.size() < count * sizeof(Elf64_Shdr))
    return past_end(count);
  if (count > UINT16_MAX)
    return make_error(fmt::format("ELF section header table at offset {:#x} has {} sections, more than this reader "
                                  "takes ({})",
                                  ehdr.e_shoff, count, UINT16_MAX));
  // An index past the table is said when the names are asked for (names()).
  const uint16_t names = names_index < count ? static_cast<uint16_t>(names_index) : static_cast<uint16_t>(count);
  return ElfSections(*table.slice(0, count * sizeof(Elf64_Shdr)), static_cast<uint16_t>(count), names, file_size);
}

Elf64_Shdr ElfSections::operator[](uint16_t i) const {
  return table_.read<Elf64_Shdr>(uint64_t{i} * sizeof(Elf64_Shdr)).value_or(Elf64_Shdr{});
}

Result<Elf64_Shdr> ElfSections::names() const {
  if (names_index_ >= count_ || names_index_ == SHN_UNDEF)
    return make_error("ELF section name table index out of range");
  const Elf64_Shdr names = (*this)[names_index_];
  if (names.sh_type != SHT_STRTAB)
    return make_error(fmt::format("ELF section name table (section {}) is not a string table", names_index_));
  return names;
}

std::string elf_section_past_end(std::string_view name, const Elf64_Shdr& s, uint64_t file_size) {
  return fmt::format("section {} (offset {:#x}, {} bytes) runs past the end of the file ({} bytes)", name,
                     s.sh_offset, s.sh_size, file_size);
}

Result<ElfImage> ElfImage::open(ByteView bytes) {
  auto ehdr = read_elf_header(bytes);
  if (!ehdr) return ehdr.error();
  auto sections = ElfSections::open(*ehdr, bytes.tail(ehdr->e_shoff), bytes.size());
  if (!sections) return sections.error();
  return ElfImage(bytes, *ehdr, *sections);
}

std::optional<ByteView> ElfImage::contents(const Elf64_Shdr& s) const {
  if (s.sh_type == SHT_NOBITS) return ByteView();
  return bytes_.slice(s.sh_offset, s.sh_size);
}

std::string_view ElfImage::string(uint32_t index, uint64_t offset) const {
  if (index >= sections_.count()) return {};
  auto table = contents(sections_[static_cast<uint16_t>(index)]);
  return table ? elf_string(*table, offset) : std::string_view();
}

ByteKind identify(ByteView head) {
  if (looks_like_fatbin(head)) return ByteKind::kFatbin;
  if (looks_like_cubin(head)) return ByteKind::kCubin;
  if (looks_like_elf(head)) return ByteKind::kHostElf;
  if (head.starts_with(kArMagic) || head.starts_with(kThinArMagic)) return ByteKind::kArchive;
  if (head.starts_with("PK\x03\x04") || head.starts_with("PK\x05\x06")) return ByteKind::kZip;
  return ByteKind::kOther;
}

}  // namespace smwatch
