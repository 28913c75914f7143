// Static archives (`ar`, .a): the members, as views into the archive's bytes.
// Hand-written because it is a few dozen lines over an mmap, where a general
// archive library would copy every member of a multi-hundred-MB .a.
#pragma once

#include <string>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/result.h"

namespace smwatch {

struct ArchiveMember {
  std::string name;
  uint64_t offset = 0;  // of the member's data in the archive
  ByteView data;
};

bool looks_like_archive(ByteView bytes);
// Members in order; damage after the first member is reported in `problems`
// and what was read before it is kept.
Result<std::vector<ArchiveMember>> read_archive(ByteView bytes, std::vector<std::string>& problems);

}  // namespace smwatch
