// A whole file mapped private (copy-on-write: libelf may convert a foreign-
// endian image in place, which must never reach the file), so parsers touch
// only the pages they read: listing a 456 MB library reads a few kilobytes.
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

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace smwatch
