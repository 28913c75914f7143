// A bounds-checked view of a byte range of an open file, read with pread
// through a small window rather than mapped. Walking the entry headers of a
// 500 MB .nv_fatbin section through a mapping faults in 64 KB around every
// header it touches (the kernel's fault-around, which MADV_RANDOM does not
// turn off), so smscan's RSS grew with the section; read this way, none of its
// pages stay in the process. Same reading interface as ByteView; a read that
// fails (an I/O error, a file that shrank) reads as bytes that are not there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smwatch/fatbin.h"

namespace smwatch {

class FileRegion {
 public:
  // [offset, offset + size) of the file open as `fd` (not owned: it must
  // outlive the region and its slices).
  FileRegion(int fd, uint64_t offset, uint64_t size);

  uint64_t size() const { return size_; }
  bool contains(uint64_t offset, uint64_t length) const { return offset <= size_ && length <= size_ - offset; }
  std::optional<FileRegion> slice(uint64_t offset, uint64_t length) const;
  template <typename T>  // little-endian unsigned integers only
  std::optional<T> read(uint64_t offset) const {
    T value;
    if (!copy(offset, &value, sizeof value)) return std::nullopt;
    return value;
  }
  // Copies [offset, offset + length) into `out`; false when it is not all there.
  bool copy(uint64_t offset, void* out, size_t length) const;

 private:
  // Shared by a region and its slices: the walk reads forward, so one window
  // serves many headers.
  struct Window {
    static constexpr size_t kSize = 4096;
    uint64_t at = 0;  // file offset of bytes[0]
    size_t length = 0;
    uint8_t bytes[kSize];
  };
  int fd_;
  uint64_t start_, size_;
  std::shared_ptr<Window> window_;
};

// Reads up to `length` bytes at `offset` of the file open as `fd` (pread,
// again after EINTR or a short read); returns how many it got: fewer at the
// end of the file or on an error.
size_t read_file_at(int fd, uint64_t offset, void* out, size_t length);

// parse_fatbin_region over a file region: the same walk, the same results.
std::vector<FatbinContainer> parse_fatbin_region(const FileRegion& region, uint64_t base_offset,
                                                 std::vector<std::string>& problems);

}  // namespace smwatch
