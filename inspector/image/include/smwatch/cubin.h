// Cubins: the ELF images of SASS that sit inside fatbins. Read with the
// bounds-checked ELF64 view of smwatch/elf.h rather than libelf, because the
// LD_PRELOAD shim shares this code and must not load libelf into host
// processes (Debian's libelf.a is not position-independent, so it cannot be
// linked in either).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/bytes.h"
#include "smwatch/elf.h"
#include "smwatch/result.h"

namespace smwatch {

inline constexpr uint16_t kEmCuda = 190;

bool looks_like_cubin(ByteView bytes);  // ELF64 little-endian with e_machine EM_CUDA

struct CubinInfo {
  Arch arch;
  std::vector<std::string> kernels;  // mangled names, in symbol-table order
  uint64_t extent = 0;               // bytes the ELF's headers and sections span
};

// The SM of a cubin from e_flags (two layouts: before CUDA 13 the low byte,
// 'a' = 0x800; ABI version 8 the second byte, 'a' = 0x8 or the .nv.compat
// attribute 9, which is what nvcc 13.0 sets) and its kernels (STT_FUNC
// symbols marked STO_CUDA_ENTRY).
Result<CubinInfo> read_cubin(ByteView cubin);

// How many bytes an ELF64 image spans according to its own headers (the
// largest end of the header tables and sections), for images handed over as
// a bare pointer.
Result<uint64_t> elf_extent(ByteView bytes);

}  // namespace smwatch
