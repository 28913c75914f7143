// What scan.cc shares with the other readers of inspector/src (zip.cc):
// not part of the library's interface.
#pragma once

#include <string>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/scan.h"

namespace smwatch {

// Parses the fatbin containers of `region` (which starts `region_offset`
// bytes into the file) into `scan`, and reads their kernels when asked.
// `file` holds the file's bytes from offset `file_base` on: the whole file
// (base 0), or one container buffered out of a stream.
void add_containers(ByteView file, uint64_t file_base, ByteView region, uint64_t region_offset,
                    const std::string& member, int member_index, const std::string& section,
                    const ScanOptions& options, FileScan& scan);
// The same for containers already parsed (from a FileRegion, say).
void add_parsed_containers(ByteView file, uint64_t file_base, std::vector<FatbinContainer> containers,
                           const std::string& member, int member_index, const std::string& section,
                           const ScanOptions& options, FileScan& scan);

}  // namespace smwatch
