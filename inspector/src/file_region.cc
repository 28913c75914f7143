#include "smwatch/file_region.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fatbin_walk.h"

namespace smwatch {

FileRegion::FileRegion(int fd, uint64_t offset, uint64_t size)
    : fd_(fd), start_(offset), size_(size), window_(std::make_shared<Window>()) {}

std::optional<FileRegion> FileRegion::slice(uint64_t offset, uint64_t length) const {
  if (!contains(offset, length)) return std::nullopt;
  FileRegion sub = *this;
  sub.start_ = start_ + offset;
  sub.size_ = length;
  return sub;
}

bool FileRegion::copy(uint64_t offset, void* out, size_t length) const {
  if (!contains(offset, length)) return false;
  const uint64_t at = start_ + offset;
  Window& w = *window_;
  if (length > Window::kSize) return pread(fd_, out, length, static_cast<off_t>(at)) == static_cast<ssize_t>(length);
  if (at < w.at || at + length > w.at + w.length) {
    ssize_t got;
    do got = pread(fd_, w.bytes, Window::kSize, static_cast<off_t>(at));
    while (got < 0 && errno == EINTR);
    w.at = at;
    w.length = got > 0 ? static_cast<size_t>(got) : 0;
    if (w.length < length) return false;
  }
  std::memcpy(out, w.bytes + (at - w.at), length);
  return true;
}

std::vector<FatbinContainer> parse_fatbin_region(const FileRegion& region, uint64_t base_offset,
                                                 std::vector<std::string>& problems) {
  return fatbin_walk::walk_fatbin_region(region, base_offset, problems);
}

}  // namespace smwatch
