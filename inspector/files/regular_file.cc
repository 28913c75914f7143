#include "smwatch/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "smwatch/file_region.h"

namespace smwatch {

Result<RegularFile> RegularFile::open(const std::string& path, LastLink last_link) {
  const bool follow = last_link == LastLink::kFollow;
  struct stat st {};
  if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0)
    return make_error(std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISLNK(st.st_mode)) return make_error("a link, not followed");
  if (!S_ISREG(st.st_mode)) return make_error("not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) return make_error(errno == ELOOP ? std::string("a link, not followed")
                                               : std::string("cannot open: ") + std::strerror(errno));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("not a regular file (replaced while opened)");
  }
  return RegularFile(fd, static_cast<uint64_t>(st.st_size), {st.st_dev, st.st_ino});
}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    size_ = other.size_;
    identity_ = other.identity_;
    other.fd_ = -1;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> read_regular_file(const std::string& path, uint64_t max_bytes) {
  auto file = RegularFile::open(path);
  if (!file) return file.error();
  std::string bytes(static_cast<size_t>(std::min(file->size(), max_bytes)), '\0');
  errno = 0;
  const size_t got = read_file_at(file->fd(), 0, bytes.data(), bytes.size());
  if (got < bytes.size() && errno != 0) return make_error(std::string("cannot read: ") + std::strerror(errno));
  bytes.resize(got);  // cut while read: what was there
  return bytes;
}

}  // namespace smwatch
