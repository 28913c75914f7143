// A whole file mapped private (copy-on-write: libelf may convert a foreign-
// endian image in place, which must never reach the file), so parsers touch
// only the pages they read. The file stays open too: walks over many small
// headers spread through a big section read them with pread (FileRegion),
// which keeps the process's RSS flat where touching the mapping would not.
#pragma once

#include <string>

#include "smwatch/bytes.h"
#include "smwatch/result.h"

namespace smwatch {

class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  ByteView bytes() const { return {static_cast<const uint8_t*>(data_), size_}; }
  int fd() const { return fd_; }

 private:
  MappedFile(int fd, void* data, size_t size) : fd_(fd), data_(data), size_(size) {}
  void release();
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace smwatch
