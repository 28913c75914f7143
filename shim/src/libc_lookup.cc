// Finding glibc's own dlsym and dlvsym. The shim exports both names, so any
// call it makes to "dlsym" would reach itself; instead it reads libc's (or,
// before glibc 2.34, libdl's) dynamic symbol table in memory, once.
#include <elf.h>
#include <link.h>

#include <cstring>

#include "shim.h"

namespace smwatch::shim {
namespace {

struct Query {
  const char* name;
  const void* self;  // an address inside the shim, whose object is skipped
  void* found;
};

// Number of symbols in a DT_GNU_HASH table: the highest chain end.
size_t gnu_hash_symbol_count(const uint32_t* table) {
  const uint32_t nbuckets = table[0], symoffset = table[1], bloom_size = table[2];
  const uint32_t* buckets = table + 4 + bloom_size * (sizeof(ElfW(Addr)) / 4);
  const uint32_t* chain = buckets + nbuckets;
  uint32_t last = 0;
  for (uint32_t i = 0; i < nbuckets; ++i) last = buckets[i] > last ? buckets[i] : last;
  if (last < symoffset) return symoffset;
  while ((chain[last - symoffset] & 1) == 0) ++last;
  return last + 1;
}

int visit(struct dl_phdr_info* info, size_t, void* data) {
  auto* q = static_cast<Query*>(data);
  if (q->found) return 1;
  const ElfW(Dyn)* dynamic = nullptr;
  bool holds_self = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + ph.p_vaddr);
    if (ph.p_type == PT_LOAD) {
      auto start = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
      if (q->self >= start && q->self < start + ph.p_memsz) holds_self = true;
    }
  }
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  if (holds_self || dynamic == nullptr ||
      (std::strstr(name, "libc.so") == nullptr && std::strstr(name, "libdl.so") == nullptr))
    return 0;
  // glibc relocates these entries in place; the vDSO and some loaders do not.
  auto addr = [&](ElfW(Addr) p) { return p < info->dlpi_addr ? p + info->dlpi_addr : p; };
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Half)* versym = nullptr;
  size_t count = 0;
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = reinterpret_cast<const ElfW(Sym)*>(addr(d->d_un.d_ptr)); break;
      case DT_STRTAB: strtab = reinterpret_cast<const char*>(addr(d->d_un.d_ptr)); break;
      case DT_VERSYM: versym = reinterpret_cast<const ElfW(Half)*>(addr(d->d_un.d_ptr)); break;
      case DT_HASH: count = reinterpret_cast<const uint32_t*>(addr(d->d_un.d_ptr))[1]; break;
      case DT_GNU_HASH:
        if (count == 0) count = gnu_hash_symbol_count(reinterpret_cast<const uint32_t*>(addr(d->d_un.d_ptr)));
        break;
    }
  }
  if (!symtab || !strtab) return 0;
  for (size_t i = 0; i < count; ++i) {
    const ElfW(Sym)& s = symtab[i];
    if (s.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s.st_info) != STT_FUNC) continue;
    if (versym && (versym[i] & 0x8000)) continue;  // a hidden (non-default) version
    if (std::strcmp(strtab + s.st_name, q->name) != 0) continue;
    q->found = reinterpret_cast<void*>(info->dlpi_addr + s.st_value);
    return 1;
  }
  return 0;
}

}  // namespace

void* libc_symbol(const char* name) {
  Query q{name, reinterpret_cast<const void*>(&libc_symbol), nullptr};
  dl_iterate_phdr(visit, &q);
  return q.found;
}

}  // namespace smwatch::shim
