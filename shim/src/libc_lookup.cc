// Finding glibc's own dlsym and dlvsym. The shim exports both names, so any
// call it makes to "dlsym" would reach itself; instead it reads libc's (or,
// before glibc 2.34, libdl's) dynamic symbol table in memory, once.
//
// This runs inside dlsym, which sanitizer runtimes call while they start,
// before their interceptors work: so it walks the loader's own list of
// objects (_r_debug) instead of calling dl_iterate_phdr, compares strings by
// hand, and is not instrumented (SMWATCH_EARLY).
#include <elf.h>
#include <link.h>

#include "shim.h"


namespace smwatch::shim {
namespace {

// Number of symbols in a DT_GNU_HASH table: the highest chain end.
SMWATCH_EARLY size_t gnu_hash_symbol_count(const uint32_t* table) {
  const uint32_t nbuckets = table[0], symoffset = table[1], bloom_size = table[2];
  const uint32_t* buckets = table + 4 + bloom_size * (sizeof(ElfW(Addr)) / 4);
  const uint32_t* chain = buckets + nbuckets;
  uint32_t last = 0;
  for (uint32_t i = 0; i < nbuckets; ++i) last = buckets[i] > last ? buckets[i] : last;
  if (last < symoffset) return symoffset;
  while ((chain[last - symoffset] & 1) == 0) ++last;
  return last + 1;
}

SMWATCH_EARLY bool equal(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

SMWATCH_EARLY bool contains(const char* hay, const char* needle) {
  for (; *hay; ++hay) {
    const char *h = hay, *n = needle;
    while (*n && *h == *n) ++h, ++n;
    if (!*n) return true;
  }
  return false;
}

// glibc relocates dynamic-section addresses in place; the vDSO and some
// loaders do not. (A plain function: a lambda would be instrumented.)
SMWATCH_EARLY ElfW(Addr) relocated(ElfW(Addr) p, ElfW(Addr) base) { return p < base ? p + base : p; }

// `name` in the dynamic symbol table of one loaded object (default versions only).
SMWATCH_EARLY void* find_in(const struct link_map* map, const char* name) {
  const ElfW(Addr) base = map->l_addr;
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  const ElfW(Half)* versym = nullptr;
  size_t count = 0;
  for (const ElfW(Dyn)* d = map->l_ld; d && d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symtab = reinterpret_cast<const ElfW(Sym)*>(relocated(d->d_un.d_ptr, base)); break;
      case DT_STRTAB: strtab = reinterpret_cast<const char*>(relocated(d->d_un.d_ptr, base)); break;
      case DT_VERSYM: versym = reinterpret_cast<const ElfW(Half)*>(relocated(d->d_un.d_ptr, base)); break;
      case DT_HASH: count = reinterpret_cast<const uint32_t*>(relocated(d->d_un.d_ptr, base))[1]; break;
      case DT_GNU_HASH:
        if (count == 0) count = gnu_hash_symbol_count(reinterpret_cast<const uint32_t*>(relocated(d->d_un.d_ptr, base)));
        break;
    }
  }
  if (!symtab || !strtab) return nullptr;
  for (size_t i = 0; i < count; ++i) {
    const ElfW(Sym)& s = symtab[i];
    if (s.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s.st_info) != STT_FUNC) continue;
    if (versym && (versym[i] & 0x8000)) continue;  // a hidden (non-default) version
    if (equal(strtab + s.st_name, name)) return reinterpret_cast<void*>(base + s.st_value);
  }
  return nullptr;
}

}  // namespace

SMWATCH_EARLY void* libc_symbol(const char* name) {
  for (const struct link_map* map = _r_debug.r_map; map; map = map->l_next) {
    if (map->l_ld == _DYNAMIC) continue;  // the shim itself
    const char* object = map->l_name ? map->l_name : "";
    if (!contains(object, "libc.so") && !contains(object, "libdl.so")) continue;
    if (void* found = find_in(map, name)) return found;
  }
  return nullptr;
}

}  // namespace smwatch::shim
