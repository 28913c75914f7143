// What scan.cc shares with the other readers of inspector/files (zip.cc):
// not part of the library's interface.
#pragma once

#include <string>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/scan.h"

namespace smwatch {

// Where the images' payloads are read from: `bytes` hold the file from offset
// `base` on (the whole file, or one container buffered out of a stream). When
// the file is open (`fd`), payloads are read from it with pread instead: a
// payload read through the mapping would stay in the process's RSS, with the
// kernel's fault-around on top, until the whole file is done.
struct ImageSource {
  ByteView bytes;
  uint64_t base = 0;
  int fd = -1;
};

// Parses the fatbin containers of `region` (which starts `region_offset`
// bytes into the file) into `scan`, and reads their kernels when asked.
void add_containers(const ImageSource& source, ByteView region, uint64_t region_offset, const std::string& member,
                    int member_index, const std::string& section, const ScanOptions& options, FileScan& scan);
// The same for containers already parsed (from a FileRegion, say).
void add_parsed_containers(const ImageSource& source, std::vector<FatbinContainer> containers,
                           const std::string& member, int member_index, const std::string& section,
                           const ScanOptions& options, FileScan& scan);
// The note on a file (or archive `member`) with `found` containers outside
// its fatbin sections (ScanOptions::embedded).
std::string embedded_containers_note(const std::string& member, size_t found);

}  // namespace smwatch
