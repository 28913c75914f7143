// Host ELF files (executables, shared libraries, objects), read with libelf
// over bytes already in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/cubin.h"
#include "smwatch/bytes.h"
#include "smwatch/result.h"

namespace smwatch {


struct ElfSection {
  std::string name;
  uint64_t offset = 0;  // in the ELF image
  uint64_t size = 0;
};

// The sections of a host ELF image that hold fatbin containers. Like
// cuobjdump: `.nv_fatbin` (linked device code) when there is one, else the
// relocatable `__nv_relfatbin` of objects built with -rdc.
Result<std::vector<ElfSection>> find_fatbin_sections(ByteView elf);

// The sections where a library can keep fatbins of its own to load at run
// time (cuFFT keeps about 24,000 in .ldata): data with file contents, not
// code, not the fatbin sections themselves. Empty when the image is unreadable.
std::vector<ElfSection> find_data_sections(ByteView elf);

}  // namespace smwatch
