#include "smwatch/zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <fmt/format.h>
#include <locale.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "elf_stream.h"
#include "scan_internal.h"
#include "smwatch/archive.h"
#include "smwatch/text.h"
#include "smwatch/cubin.h"
#include "smwatch/elf.h"
#include "smwatch/elf_file.h"
#include "smwatch/fatbin.h"
#include "smwatch/file_region.h"
#include "smwatch/regular_file.h"

namespace smwatch {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// libarchive's last error; it may be NULL (a failure with no message set),
// found by the zip fuzzer: fmt throws on a null string. Some of its messages
// end in a newline ("ZIP uncompressed data is wrong size (...)\n"): stripped,
// or the problem line would break in two.
std::string archive_reason(archive* a) {
  const char* reason = archive_error_string(a);
  std::string text = reason != nullptr ? reason : "libarchive gave no reason";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "libarchive gave no reason" : text;
}

// libarchive converts member names to the charset of the locale, and nothing
// sets one in smscan: in "C", a UTF-8 name (données.txt) failed to convert, the
// member lost its name and the wheel was "damaged". The thread that reads a
// zip uses a UTF-8 LC_CTYPE while it does (uselocale is per thread; the
// process's locale is left alone).
class Utf8Names {
 public:
  Utf8Names() {
    if (static const locale_t utf8 = make(); utf8 != locale_t{}) previous_ = uselocale(utf8);
  }
  ~Utf8Names() {
    if (previous_ != locale_t{}) uselocale(previous_);
  }
  Utf8Names(const Utf8Names&) = delete;
  Utf8Names& operator=(const Utf8Names&) = delete;

 private:
  static locale_t make() {
    for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8"})
      if (locale_t l = newlocale(LC_CTYPE_MASK, name, locale_t{}); l != locale_t{}) return l;
    return locale_t{};
  }
  locale_t previous_{};
};

bool ends_with_lower(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

bool is_nested_archive_name(std::string_view name) {
  for (std::string_view ext : {".whl", ".zip", ".egg", ".jar", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.bz2"})
    if (ends_with_lower(name, ext)) return true;
  return false;
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

// libarchive's input: the open file, read with pread, never past the size
// fstat gave when it was opened, and seekable (the zip reader then reads the
// central directory first, as it does with a file name).
struct BoundedReader {
  int fd;
  uint64_t size;
  uint64_t at = 0;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(size_t{1} << 16);

  int open(archive* a) {
    archive_read_set_callback_data(a, this);
    archive_read_set_read_callback(a, &BoundedReader::read);
    archive_read_set_seek_callback(a, &BoundedReader::seek);
    archive_read_set_skip_callback(a, &BoundedReader::skip);
    return archive_read_open1(a);
  }
  static la_ssize_t read(archive* a, void* self, const void** out) {
    auto& r = *static_cast<BoundedReader*>(self);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(r.buffer.size(), r.size - std::min(r.at, r.size)));
    errno = 0;
    const size_t got = read_file_at(r.fd, r.at, r.buffer.data(), want);
    if (got < want && errno != 0) {
      archive_set_error(a, errno, "cannot read: %s", std::strerror(errno));
      return -1;
    }
    r.at += got;
    *out = r.buffer.data();
    return static_cast<la_ssize_t>(got);
  }
  static la_int64_t seek(archive*, void* self, la_int64_t offset, int whence) {
    auto& r = *static_cast<BoundedReader*>(self);
    const int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? static_cast<int64_t>(r.at)
                                                                      : static_cast<int64_t>(r.size);
    const int64_t to = base + offset;
    if (to < 0) return ARCHIVE_FATAL;
    r.at = static_cast<uint64_t>(to);
    return to;
  }
  static la_int64_t skip(archive*, void* self, la_int64_t request) {
    auto& r = *static_cast<BoundedReader*>(self);
    const uint64_t step = std::min<uint64_t>(static_cast<uint64_t>(std::max<la_int64_t>(request, 0)),
                                             r.size - std::min(r.at, r.size));
    r.at += step;
    return static_cast<la_int64_t>(step);
  }
};

// libarchive's input for a zip read as a stream (scan_zip_stream): the
// source's bytes in order, no seeking (the streaming zip reader walks the
// local headers).
struct StreamReader {
  const ZipSource& next;

  int open(archive* a) {
    archive_read_set_callback_data(a, this);
    archive_read_set_read_callback(a, &StreamReader::read);
    return archive_read_open1(a);
  }
  static la_ssize_t read(archive* a, void* self, const void** out) {
    auto bytes = static_cast<StreamReader*>(self)->next();
    if (!bytes) {
      archive_set_error(a, EIO, "%s", bytes.error().message.c_str());
      return -1;
    }
    *out = bytes->data();
    return static_cast<la_ssize_t>(bytes->size());
  }
};

}  // namespace

bool is_zip_path(std::string_view path) { return ends_with_lower(path, ".whl") || ends_with_lower(path, ".zip"); }

bool looks_like_zip(ByteView bytes) { return identify(bytes) == ByteKind::kZip; }

std::string member_label(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    const size_t n = std::max<size_t>(utf8_sequence(name.substr(i)), 1);
    const std::string_view one = name.substr(i, n);
    out += n > 1 && printable(one) == one ? one : one[0] >= 0x20 && one[0] < 0x7f ? one : "?";
    i += n;
  }
  return out.empty() ? "?" : out;
}

namespace {

// Every member of an open zip, in the order the reader gives them: scanned
// when it can hold device code, counted otherwise; what one zip may cost is
// capped by `limits` (over the zip's size in result.self.size).
void read_members(archive* za, const ScanOptions& options, const ZipLimits& limits, ZipScan& result) {
  FileScan& self = result.self;
  const std::string& path = self.path;
  const uint64_t total_cap =
      std::min(limits.max_total, self.size * limits.max_ratio + (uint64_t{1} << 30));
  std::vector<uint8_t> chunk(limits.chunk);
  size_t members_seen = 0;

  archive_entry* entry = nullptr;
  while (true) {
    int rc = archive_read_next_header(za, &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_FATAL) {
      self.problems.push_back(fmt::format("zip damaged after {} members: {}", members_seen,
                                          archive_reason(za)));
      break;
    }
    ++members_seen;
    const char* raw_name = archive_entry_pathname(entry);
    const std::string name = member_label(raw_name ? raw_name : "");
    const std::string label = path + "!" + name;
    if (const size_t slash = name.find('/'); result.dist_info.empty() && slash != std::string::npos &&
                                              std::string_view(name).substr(0, slash).ends_with(".dist-info"))
      result.dist_info = name.substr(0, slash);
    if (rc == ARCHIVE_WARN) self.problems.push_back(fmt::format("{}: {}", name, archive_reason(za)));
    if (archive_entry_filetype(entry) != AE_IFREG) continue;  // directories, links: names only
    const bool declared_known = archive_entry_size_is_set(entry);
    const uint64_t declared = declared_known ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
    if (declared_known && declared > limits.max_member) {
      self.problems.push_back(fmt::format("{}: declares {} bytes, over the {} MiB limit for one member; skipped",
                                          name, declared, limits.max_member / kMiB));
      continue;
    }
    // Inflates into `buf`; returns bytes read, 0 at the end, -1 on error or
    // when a limit is hit (the problem is recorded).
    uint64_t member_bytes = 0;
    bool member_failed = false;
    auto read_some = [&](uint8_t* buf, size_t want) -> ssize_t {
      la_ssize_t got = archive_read_data(za, buf, want);
      if (got < 0) {
        self.problems.push_back(fmt::format("{}: cannot inflate: {}", name, archive_reason(za)));
        member_failed = true;
        return -1;
      }
      member_bytes += static_cast<uint64_t>(got);
      result.inflated += static_cast<uint64_t>(got);
      if ((declared_known && member_bytes > declared) || member_bytes > limits.max_member) {
        self.problems.push_back(fmt::format("{}: inflates past {} bytes ({}); stopped", name,
                                            declared_known ? declared : limits.max_member,
                                            declared_known ? "its declared size" : "the limit for one member"));
        member_failed = true;
        return -1;
      }
      if (result.inflated > total_cap) {
        self.problems.push_back(fmt::format("{}: the zip inflates past {} MiB, {}x its size: a zip bomb? stopped",
                                            name, total_cap / kMiB, limits.max_ratio));
        member_failed = true;
        return -1;
      }
      return static_cast<ssize_t>(got);
    };

    // The first bytes say whether the member can hold device code.
    std::vector<uint8_t> head;
    while (head.size() < sizeof(Elf64_Ehdr)) {
      ssize_t got = read_some(chunk.data(), std::min(chunk.size(), sizeof(Elf64_Ehdr) - head.size()));
      if (got <= 0) break;
      head.insert(head.end(), chunk.begin(), chunk.begin() + got);
    }
    if (member_failed) {
      if (result.inflated > total_cap) break;
      continue;
    }
    ByteView sniff(head.data(), head.size());
    const ByteKind kind = identify(sniff);
    if (kind == ByteKind::kZip || is_nested_archive_name(name)) {
      self.notes.push_back(fmt::format("nested archive skipped: {} (smscan reads one level of zips; extract it "
                                       "and scan the result)",
                                       name));
      continue;
    }
    const bool host_elf = kind == ByteKind::kHostElf;
    const bool candidate = kind != ByteKind::kOther || ends_with_lower(name, ".ptx");
    if (!candidate) {
      ++result.members_without_device_code;
      continue;  // libarchive skips the rest without inflating it
    }

    FileScan scan;
    scan.path = label;
    scan.zip_path = path;
    scan.zip_member = name;
    const bool stream = host_elf && (!declared_known || declared > limits.stream_above);
    if (stream) {
      ElfStream elf(options, StreamLimits{limits.max_container, limits.max_section_names}, scan);
      elf.feed(head.data(), head.size());
      for (ssize_t got; (got = read_some(chunk.data(), chunk.size())) > 0;) elf.feed(chunk.data(), static_cast<size_t>(got));
      if (!member_failed) elf.finish(member_bytes);
      scan.format = FileFormat::kHostElf;
      result.peak_buffer = std::max(result.peak_buffer, elf.peak() + chunk.size());
    } else {
      if (declared_known && declared > limits.max_buffered) {
        self.problems.push_back(fmt::format("{}: {} bytes, over the {} MiB that a member other than a shared "
                                            "library may take in memory; skipped",
                                            name, declared, limits.max_buffered / kMiB));
        continue;
      }
      std::vector<uint8_t> bytes = std::move(head);
      if (declared_known) bytes.reserve(static_cast<size_t>(declared));
      for (ssize_t got; (got = read_some(chunk.data(), chunk.size())) > 0;) {
        if (bytes.size() + static_cast<size_t>(got) > limits.max_buffered) {
          self.problems.push_back(fmt::format("{}: over the {} MiB that a member may take in memory; skipped", name,
                                              limits.max_buffered / kMiB));
          member_failed = true;
          break;
        }
        bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
      }
      result.peak_buffer = std::max<uint64_t>(result.peak_buffer, bytes.capacity() + chunk.size());
      if (!member_failed) scan = scan_bytes(ByteView(bytes.data(), bytes.size()), label, options);
      scan.zip_path = path;
      scan.zip_member = name;
    }
    scan.size = member_bytes;
    if (member_failed) {
      if (result.inflated > total_cap) break;
      continue;  // the problem is on the zip; a partial member is not judged
    }
    if (scan.has_device_code() || !scan.problems.empty() || !scan.members.empty() || !scan.notes.empty())
      result.members.push_back(std::move(scan));
    else
      ++result.members_without_device_code;
  }
  for (FileScan& m : result.members) m.zip_dist_info = result.dist_info;  // a wheel lists it last
}

}  // namespace

ZipScan scan_zip(const std::string& path, const ScanOptions& options, const ZipLimits& limits) {
  ZipScan result;
  FileScan& self = result.self;
  self.path = path;
  // Opened here, not by libarchive (whose open blocks on a FIFO swapped in
  // after the walk, and reads /proc files past the size they claim).
  auto file = RegularFile::open(path);
  if (!file) {
    self.read_error = file.error().message;
    return result;
  }
  self.size = file->size();
  BoundedReader reader{file->fd(), file->size()};  // outlives the archive reading it
  const Utf8Names utf8_names;  // before the reader: it picks its conversion once
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_format_zip(a.get());
  if (reader.open(a.get()) != ARCHIVE_OK) {
    self.read_error = "not a readable zip: " + archive_reason(a.get());
    return result;
  }
  read_members(a.get(), options, limits, result);
  return result;
}

ZipScan scan_zip_stream(const std::string& path, uint64_t size, const ZipSource& next, const ScanOptions& options,
                        const ZipLimits& limits) {
  ZipScan result;
  result.self.path = path;
  result.self.size = size;
  StreamReader reader{next};
  const Utf8Names utf8_names;
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_format_zip_streamable(a.get());
  if (reader.open(a.get()) != ARCHIVE_OK) {
    result.self.read_error = "not a readable zip: " + archive_reason(a.get());
    return result;
  }
  read_members(a.get(), options, limits, result);
  return result;
}

}  // namespace smwatch
