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

size_t read_file_at(int fd, uint64_t offset, void* out, size_t length) {
  size_t done = 0;
  while (done < length) {
    const ssize_t got = pread(fd, static_cast<uint8_t*>(out) + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // an error, or the end of the file
    done += static_cast<size_t>(got);
  }
  return done;
}

bool FileRegion::copy(uint64_t offset, void* out, size_t length) const {
  if (!contains(offset, length)) return false;
  const uint64_t at = start_ + offset;
  Window& w = *window_;
  if (length > Window::kSize) return read_file_at(fd_, at, out, length) == length;
  if (at < w.at || at + length > w.at + w.length) {
    w.at = at;
    w.length = read_file_at(fd_, at, w.bytes, Window::kSize);
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
