#include "smwatch/elf_file.h"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <memory>
#include <mutex>

namespace smwatch {
namespace {

constexpr unsigned kStoCudaEntry = 0x10;
constexpr uint32_t kNvCompatArchSpecific = 9;  // .nv.compat attribute: 1 = 'a' code

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfHandle = std::unique_ptr<Elf, ElfCloser>;

Result<ElfHandle> open_elf(ByteView bytes) {
  static std::once_flag once;
  std::call_once(once, [] { elf_version(EV_CURRENT); });
  // libelf only reads through this pointer in ELF_C_READ mode; the const_cast
  // is needed by its C interface.
  Elf* e = elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size());
  if (e == nullptr || elf_kind(e) != ELF_K_ELF) {
    if (e) elf_end(e);
    return make_error(fmt::format("not a readable ELF file: {}", elf_errmsg(-1)));
  }
  return ElfHandle(e);
}

// Walks the section headers, checking each one's extent against the image.
template <typename Visit>
Result<bool> for_each_section(Elf* e, ByteView bytes, Visit&& visit) {
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(e, &shstrndx) != 0)
    return make_error(fmt::format("ELF section names unreadable: {}", elf_errmsg(-1)));
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn != nullptr; scn = elf_nextscn(e, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) return make_error("ELF section header unreadable");
    const char* name = elf_strptr(e, shstrndx, shdr.sh_name);
    if (name == nullptr) continue;
    visit(scn, shdr, std::string_view(name));
  }
  (void)bytes;
  return true;
}

}  // namespace

bool looks_like_elf(ByteView bytes) { return bytes.starts_with("\x7f" "ELF"); }

bool looks_like_cubin(ByteView bytes) {
  return looks_like_elf(bytes) && bytes.read<uint16_t>(18) == kEmCuda;
}

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
  std::vector<ElfSection> executable, relocatable;
  std::string problem;
  auto walked = for_each_section(elf->get(), bytes, [&](Elf_Scn*, const GElf_Shdr& shdr, std::string_view name) {
    const bool exe = name == ".nv_fatbin", rel = name == "__nv_relfatbin";
    if (!exe && !rel) return;
    if (shdr.sh_type == SHT_NOBITS) return;
    if (!bytes.contains(shdr.sh_offset, shdr.sh_size)) {
      problem = fmt::format("section {} (offset {:#x}, {} bytes) runs past the end of the file ({} bytes)", name,
                            shdr.sh_offset, shdr.sh_size, bytes.size());
      return;
    }
    (exe ? executable : relocatable).push_back({std::string(name), shdr.sh_offset, shdr.sh_size});
  });
  if (!walked) return walked.error();
  if (!problem.empty() && executable.empty() && relocatable.empty()) return make_error(problem);
  return executable.empty() ? relocatable : executable;
}

Result<CubinInfo> read_cubin(ByteView bytes) {
  if (!looks_like_cubin(bytes)) return make_error("not a cubin (ELF with e_machine 190)");
  auto elf = open_elf(bytes);
  if (!elf) return elf.error();
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf->get(), &ehdr) == nullptr) return make_error("cubin ELF header unreadable");
  CubinInfo info;
  const uint32_t flags = static_cast<uint32_t>(ehdr.e_flags);
  bool arch_specific = false;
  if (ehdr.e_ident[EI_ABIVERSION] >= 8) {
    info.arch.number = static_cast<uint16_t>((flags >> 8) & 0xff);
    arch_specific = flags & 0x8;
  } else {
    info.arch.number = static_cast<uint16_t>(flags & 0xff);
    arch_specific = flags & 0x800;
  }
  std::vector<std::pair<Elf_Scn*, GElf_Shdr>> symtabs;
  auto walked = for_each_section(elf->get(), bytes, [&](Elf_Scn* scn, const GElf_Shdr& shdr, std::string_view name) {
    if (shdr.sh_type == SHT_SYMTAB) symtabs.emplace_back(scn, shdr);
    if (name == ".nv.compat") {
      // A list of attributes: u8 format (2 = u16 value), u8 id, u16 value.
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr || data->d_buf == nullptr) return;
      ByteView compat(data->d_buf, data->d_size);
      for (uint64_t at = 0; compat.contains(at, 4); at += 4) {
        if (*compat.read<uint8_t>(at) == 2 && *compat.read<uint8_t>(at + 1) == kNvCompatArchSpecific &&
            *compat.read<uint16_t>(at + 2) == 1)
          arch_specific = true;
      }
    }
  });
  if (!walked) return walked.error();
  if (info.arch.number < 10) return make_error(fmt::format("cubin e_flags {:#x} name no known SM", flags));
  if (arch_specific) info.arch.variant = ArchVariant::kArchSpecific;
  for (auto& [scn, shdr] : symtabs) {
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || shdr.sh_entsize == 0) continue;
    const size_t count = data->d_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) break;
      if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || !(sym.st_other & kStoCudaEntry)) continue;
      const char* name = elf_strptr(elf->get(), shdr.sh_link, sym.st_name);
      if (name != nullptr && *name) info.kernels.emplace_back(name);
    }
  }
  return info;
}

}  // namespace smwatch
