// _dl_find_object (glibc 2.35) for programs and libraries that link libgcc
// statically (-static-libgcc: the shim always, smscan and smwatch in the
// portable build). GCC 12's unwinder, built on glibc 2.35+, asks
// _dl_find_object for the unwind tables of the code an exception passes
// through; this hidden definition answers from dl_iterate_phdr (glibc 2.2.5,
// what the unwinder itself used before GCC 12), so the files need glibc 2.34
// and not 2.35 (RHEL 9 and its rebuilds). It fills what libgcc reads on
// x86-64: the mapping and the PT_GNU_EH_FRAME segment (no link map: unused).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct smwatch_find_ctx {
  uintptr_t pc;
  struct dl_find_object* result;
  int found;
};

static int smwatch_find_cb(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  struct smwatch_find_ctx* ctx = (struct smwatch_find_ctx*)data;
  int contains = 0;
  uintptr_t lo = UINTPTR_MAX, hi = 0, eh = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD) {
      uintptr_t end = start + ph->p_memsz;
      if (ctx->pc >= start && ctx->pc < end) contains = 1;
      if (start < lo) lo = start;
      if (end > hi) hi = end;
    } else if (ph->p_type == PT_GNU_EH_FRAME) {
      eh = start;
    }
  }
  if (!contains) return 0;
  memset(ctx->result, 0, sizeof *ctx->result);
  ctx->result->dlfo_map_start = (void*)lo;
  ctx->result->dlfo_map_end = (void*)hi;
  ctx->result->dlfo_eh_frame = (void*)eh;
  ctx->found = 1;
  return 1;
}

__attribute__((visibility("hidden"))) int _dl_find_object(void* pc, struct dl_find_object* result) {
  struct smwatch_find_ctx ctx = {(uintptr_t)pc, result, 0};
  dl_iterate_phdr(smwatch_find_cb, &ctx);
  return ctx.found ? 0 : -1;
}
