#include "smwatch/cubin.h"

#include <elf.h>
#include <fmt/format.h>

#include <string_view>

namespace smwatch {
namespace {

constexpr unsigned kStoCudaEntry = 0x10;
constexpr uint32_t kNvCompatArchSpecific = 9;  // .nv.compat attribute: 1 = 'a' code

// A typed view over an ELF64 little-endian image; every access is checked.
class Elf64View {
 public:
  static Result<Elf64View> open(ByteView bytes) {
    if (!bytes.starts_with("\x7f" "ELF")) return make_error("not an ELF file");
    auto ehdr = bytes.read<Elf64_Ehdr>(0);
    if (!ehdr) return make_error("ELF header truncated");
    if (ehdr->e_ident[EI_CLASS] != ELFCLASS64 || ehdr->e_ident[EI_DATA] != ELFDATA2LSB)
      return make_error("cubin is not 64-bit little-endian ELF");
    Elf64View view(bytes, *ehdr);
    if (ehdr->e_shnum != 0 && ehdr->e_shentsize != sizeof(Elf64_Shdr))
      return make_error(fmt::format("ELF section header size {} (expected {})", ehdr->e_shentsize, sizeof(Elf64_Shdr)));
    if (!bytes.contains(ehdr->e_shoff, uint64_t{ehdr->e_shnum} * sizeof(Elf64_Shdr)))
      return make_error(fmt::format("ELF section header table (offset {:#x}, {} entries) runs past the end ({} bytes)",
                                    ehdr->e_shoff, ehdr->e_shnum, bytes.size()));
    // The driver loads a cubin by its program headers: cut off, it is damaged
    // even when every section is there.
    if (ehdr->e_phnum != 0 && ehdr->e_phentsize != sizeof(Elf64_Phdr))
      return make_error(fmt::format("ELF program header size {} (expected {})", ehdr->e_phentsize, sizeof(Elf64_Phdr)));
    if (ehdr->e_phnum != 0 && !bytes.contains(ehdr->e_phoff, uint64_t{ehdr->e_phnum} * sizeof(Elf64_Phdr)))
      return make_error(fmt::format("ELF program header table (offset {:#x}, {} entries) runs past the end ({} bytes)",
                                    ehdr->e_phoff, ehdr->e_phnum, bytes.size()));
    return view;
  }
  const Elf64_Ehdr& header() const { return ehdr_; }
  uint16_t section_count() const { return ehdr_.e_shnum; }
  Elf64_Shdr section(uint16_t i) const { return *bytes_.read<Elf64_Shdr>(ehdr_.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr)); }
  std::optional<ByteView> contents(const Elf64_Shdr& s) const {
    if (s.sh_type == SHT_NOBITS) return ByteView();
    return bytes_.slice(s.sh_offset, s.sh_size);
  }
  // A NUL-terminated string at `offset` in string table section `index`.
  std::string_view string(uint32_t index, uint64_t offset) const {
    if (index >= section_count()) return {};
    auto table = contents(section(static_cast<uint16_t>(index)));
    if (!table || offset >= table->size()) return {};
    std::string_view s = table->tail(offset).as_chars();
    size_t nul = s.find('\0');
    return nul == std::string_view::npos ? std::string_view() : s.substr(0, nul);
  }
  std::string_view section_name(const Elf64_Shdr& s) const { return string(ehdr_.e_shstrndx, s.sh_name); }

 private:
  Elf64View(ByteView bytes, const Elf64_Ehdr& ehdr) : bytes_(bytes), ehdr_(ehdr) {}
  ByteView bytes_;
  Elf64_Ehdr ehdr_;
};

}  // namespace

bool looks_like_elf(ByteView bytes) { return bytes.starts_with("\x7f" "ELF"); }

bool looks_like_cubin(ByteView bytes) { return looks_like_elf(bytes) && bytes.read<uint16_t>(18) == kEmCuda; }

Result<uint64_t> elf_extent(ByteView bytes) {
  auto ehdr = bytes.read<Elf64_Ehdr>(0);
  if (!looks_like_elf(bytes) || !ehdr || ehdr->e_ident[EI_CLASS] != ELFCLASS64)
    return make_error("not a 64-bit ELF header");
  auto end_of = [](uint64_t offset, uint64_t size) { return offset + size < offset ? UINT64_MAX : offset + size; };
  uint64_t extent = sizeof(Elf64_Ehdr);
  extent = std::max(extent, end_of(ehdr->e_shoff, uint64_t{ehdr->e_shnum} * ehdr->e_shentsize));
  extent = std::max(extent, end_of(ehdr->e_phoff, uint64_t{ehdr->e_phnum} * ehdr->e_phentsize));
  return extent;
}

Result<CubinInfo> read_cubin(ByteView bytes) {
  if (!looks_like_cubin(bytes)) return make_error("not a cubin (ELF with e_machine 190)");
  auto elf = Elf64View::open(bytes);
  if (!elf) return elf.error();
  const Elf64_Ehdr& ehdr = elf->header();
  CubinInfo info;
  bool arch_specific = false;
  if (ehdr.e_ident[EI_ABIVERSION] >= 8) {
    info.arch.number = static_cast<uint16_t>((ehdr.e_flags >> 8) & 0xff);
    arch_specific = ehdr.e_flags & 0x8;
  } else {
    info.arch.number = static_cast<uint16_t>(ehdr.e_flags & 0xff);
    arch_specific = ehdr.e_flags & 0x800;
  }
  if (info.arch.number < 10) return make_error(fmt::format("cubin e_flags {:#x} name no known SM", ehdr.e_flags));
  info.extent = *elf_extent(bytes);

  for (uint16_t i = 0; i < elf->section_count(); ++i) {
    Elf64_Shdr shdr = elf->section(i);
    auto data = elf->contents(shdr);
    if (!data) return make_error(fmt::format("cubin section {} runs past the end of the image", i));
    info.extent = std::max(info.extent, shdr.sh_type == SHT_NOBITS ? 0 : shdr.sh_offset + shdr.sh_size);
    if (elf->section_name(shdr) == ".nv.compat") {
      // A list of attributes: u8 format (2 = u16 value), u8 id, u16 value.
      for (uint64_t at = 0; data->contains(at, 4); at += 4)
        if (*data->read<uint8_t>(at) == 2 && *data->read<uint8_t>(at + 1) == kNvCompatArchSpecific &&
            *data->read<uint16_t>(at + 2) == 1)
          arch_specific = true;
    }
    if (shdr.sh_type != SHT_SYMTAB) continue;
    if (shdr.sh_entsize != sizeof(Elf64_Sym)) return make_error("cubin symbol table has an odd entry size");
    for (uint64_t at = 0; data->contains(at, sizeof(Elf64_Sym)); at += sizeof(Elf64_Sym)) {
      Elf64_Sym sym = *data->read<Elf64_Sym>(at);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || !(sym.st_other & kStoCudaEntry)) continue;
      std::string_view name = elf->string(shdr.sh_link, sym.st_name);
      if (!name.empty()) info.kernels.emplace_back(name);
    }
  }
  if (arch_specific) info.arch.variant = ArchVariant::kArchSpecific;
  return info;
}

}  // namespace smwatch
