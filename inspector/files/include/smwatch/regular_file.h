// Opening files smwatch did not make, safely: only regular files, never
// blocking. The file tree walk checks types with stat, but a name can be
// swapped for a FIFO or a link to a device between that check and the open,
// and some files (a package's RECORD, a wheel named on the command line) are
// opened without a walk. A FIFO blocks open(2) and read(2) forever without
// O_NONBLOCK; /dev/zero never ends; /proc files claim size 0 and read on.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#include "smwatch/result.h"

namespace smwatch {

// An open regular file (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) and its
// size from fstat on the open descriptor; closes it when dropped.
class RegularFile {
 public:
  // Whether a symbolic link as the path's last component is followed, or
  // refused ("a link, not followed"): a report directory's links may point
  // anywhere.
  enum class LastLink { kFollow, kRefuse };
  // Refused, with the reason, when the path is not a regular file before the
  // open (stat: a FIFO is never opened, a device never touched) or after it
  // (fstat on the descriptor: swapped in between).
  static Result<RegularFile> open(const std::string& path, LastLink last_link = LastLink::kFollow);
  RegularFile(RegularFile&& other) noexcept : fd_(other.fd_), size_(other.size_), identity_(other.identity_) {
    other.fd_ = -1;
  }
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  // Device and inode: the same file reached by two names is read once.
  std::pair<dev_t, ino_t> identity() const { return identity_; }

 private:
  RegularFile(int fd, uint64_t size, std::pair<dev_t, ino_t> identity) : fd_(fd), size_(size), identity_(identity) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::pair<dev_t, ino_t> identity_{};
};

// The first min(size, max_bytes) bytes of a regular file, its size as fstat
// gives it when opened: a file that grows while read is not followed.
Result<std::string> read_regular_file(const std::string& path, uint64_t max_bytes);

}  // namespace smwatch
