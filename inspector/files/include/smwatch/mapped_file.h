// A whole file mapped private (copy-on-write: libelf may convert a foreign-
// endian image in place, which must never reach the file), so parsers touch
// only the pages they read. The file stays open too: walks over many small
// headers spread through a big section read them with pread (FileRegion),
// which keeps the process's RSS flat where touching the mapping would not.
//
// Another process may cut the file while it is mapped: the pages past its new
// end then read as zeros instead of raising SIGBUS (a process-wide handler,
// installed by the first open(), confines the signal to the mapping), and
// changed() says so. A SIGBUS outside any MappedFile goes to the handler that
// was there before.
#pragma once

#include <optional>
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
  // Why what was read may not be the file (it was cut, or changed size, since
  // it was opened), or nothing when it was not.
  std::optional<std::string> changed() const;

 private:
  MappedFile(int fd, void* data, size_t size, int guard) : fd_(fd), data_(data), size_(size), guard_(guard) {}
  void release();
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
  int guard_ = -1;  // its slot in the SIGBUS handler's table
};

}  // namespace smwatch
