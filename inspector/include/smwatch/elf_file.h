// Host ELF files and cubins, read with libelf over bytes already in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/bytes.h"
#include "smwatch/result.h"

namespace smwatch {

inline constexpr uint16_t kEmCuda = 190;

bool looks_like_elf(ByteView bytes);
bool looks_like_cubin(ByteView bytes);  // ELF with e_machine EM_CUDA

struct ElfSection {
  std::string name;
  uint64_t offset = 0;  // in the ELF image
  uint64_t size = 0;
};

// The sections of a host ELF image that hold fatbin containers. Like
// cuobjdump: `.nv_fatbin` (linked device code) when there is one, else the
// relocatable `__nv_relfatbin` of objects built with -rdc.
Result<std::vector<ElfSection>> find_fatbin_sections(ByteView elf);

struct CubinInfo {
  Arch arch;
  std::vector<std::string> kernels;  // mangled names, in symbol-table order
};

// The SM of a cubin from e_flags (two layouts: before CUDA 13 the low byte,
// 'a' = 0x800; ABI version 8 the second byte, 'a' = 0x8 or the .nv.compat
// attribute 9) and its kernels (STT_FUNC symbols marked STO_CUDA_ENTRY).
Result<CubinInfo> read_cubin(ByteView cubin);

}  // namespace smwatch
