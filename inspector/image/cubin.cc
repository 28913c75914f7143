#include "smwatch/cubin.h"

#include <elf.h>
#include <fmt/format.h>

#include <string_view>
#include <unordered_set>

#include "smwatch/elf.h"

namespace smwatch {
namespace {

constexpr unsigned kStoCudaEntry = 0x10;
constexpr uint32_t kNvCompatArchSpecific = 9;  // .nv.compat attribute: 1 = 'a' code

}  // namespace

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
  auto elf = ElfImage::open(bytes);
  if (!elf) return elf.error();
  const Elf64_Ehdr& ehdr = elf->header();
  // The driver loads a cubin by its program headers: cut off, it is damaged
  // even when every section is there.
  if (ehdr.e_phnum != 0 && ehdr.e_phentsize != sizeof(Elf64_Phdr))
    return make_error(fmt::format("ELF program header size {} (expected {})", ehdr.e_phentsize, sizeof(Elf64_Phdr)));
  if (ehdr.e_phnum != 0 && !bytes.contains(ehdr.e_phoff, uint64_t{ehdr.e_phnum} * sizeof(Elf64_Phdr)))
    return make_error(fmt::format("ELF program header table (offset {:#x}, {} entries) runs past the end ({} bytes)",
                                  ehdr.e_phoff, ehdr.e_phnum, bytes.size()));
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
  uint64_t name_bytes = 0;  // of the kernel names kept

  for (uint16_t i = 0; i < elf->sections().count(); ++i) {
    Elf64_Shdr shdr = elf->sections()[i];
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
    // Names are copied out of the image, so what they may cost is bounded by
    // the image: symbols that share a string share one copy (a name is one
    // kernel however often it is listed), and all the names kept together
    // are at most as long as the image. nvcc's string tables store each name
    // once, so a real cubin is far below; 20,000 symbols naming one 150 KB
    // string would otherwise cost 3 GB for a 630 KB file.
    std::unordered_set<uint32_t> names_taken;
    for (uint64_t at = 0; data->contains(at, sizeof(Elf64_Sym)); at += sizeof(Elf64_Sym)) {
      Elf64_Sym sym = *data->read<Elf64_Sym>(at);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || !(sym.st_other & kStoCudaEntry)) continue;
      if (!names_taken.insert(sym.st_name).second) continue;
      std::string_view name = elf->string(shdr.sh_link, sym.st_name);
      if (name.empty()) continue;
      name_bytes += name.size();
      if (name_bytes > bytes.size())
        return make_error(fmt::format("cubin kernel names take more than the image's {} bytes (string table "
                                      "entries shared by different symbols): damaged",
                                      bytes.size()));
      info.kernels.emplace_back(name);
    }
  }
  if (arch_specific) info.arch.variant = ArchVariant::kArchSpecific;
  return info;
}

}  // namespace smwatch
