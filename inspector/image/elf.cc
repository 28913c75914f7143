#include "smwatch/elf.h"

#include <fmt/format.h>

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

Result<ElfSections> ElfSections::open(const Elf64_Ehdr& ehdr, ByteView table, uint64_t file_size) {
  if (ehdr.e_shnum != 0 && ehdr.e_shentsize != sizeof(Elf64_Shdr))
    return make_error(fmt::format("ELF section header size {} (expected {})", ehdr.e_shentsize, sizeof(Elf64_Shdr)));
  const uint64_t size = table_size(ehdr);
  const bool in_file = ehdr.e_shoff <= file_size && size <= file_size - ehdr.e_shoff;
  if (!in_file || table.size() < size)
    return make_error(fmt::format("ELF section header table (offset {:#x}, {} entries) runs past the end ({} bytes)",
                                  ehdr.e_shoff, ehdr.e_shnum, file_size));
  return ElfSections(*table.slice(0, size), ehdr.e_shnum, ehdr.e_shstrndx, file_size);
}

Elf64_Shdr ElfSections::operator[](uint16_t i) const {
  return table_.read<Elf64_Shdr>(uint64_t{i} * sizeof(Elf64_Shdr)).value_or(Elf64_Shdr{});
}

Result<Elf64_Shdr> ElfSections::names() const {
  if (names_index_ >= count_) return make_error("ELF section name table index out of range");
  return (*this)[names_index_];
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
