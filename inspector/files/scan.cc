#include "smwatch/scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "smwatch/archive.h"
#include "smwatch/decompress.h"
#include "smwatch/device_code.h"
#include "smwatch/elf.h"
#include "smwatch/elf_file.h"
#include "smwatch/file_region.h"
#include "smwatch/mapped_file.h"
#include "smwatch/ptx.h"
#include "smwatch/zip.h"
#include "fatbin_walk.h"
#include "scan_internal.h"

namespace smwatch {
namespace {

// The stored bytes of an image: read from the open file into `buffer`, or a
// view of the bytes in memory. Nothing when they are not all there (the
// fatbin parser has said so already).
std::optional<ByteView> stored_bytes(const ImageSource& source, const FatbinImage& image,
                                     std::vector<uint8_t>& buffer) {
  if (source.fd >= 0) {
    // With a file open, `bytes` are all of it (base 0): nothing is read past its end.
    if (!source.bytes.contains(image.payload_offset(), image.stored_size)) return {};
    buffer.resize(static_cast<size_t>(image.stored_size));
    if (read_file_at(source.fd, image.payload_offset(), buffer.data(), buffer.size()) != buffer.size()) return {};
    return ByteView(buffer.data(), buffer.size());
  }
  if (image.offset < source.base) return {};
  FatbinImage relative = image;
  relative.offset -= source.base;
  return image_payload(source.bytes, relative);
}

// Reads one image's kernel names from where its source keeps it.
void read_kernels(const ImageSource& source, FatbinImage& image, std::vector<std::string>& problems,
                  uint64_t give_up_above = 0) {
  if (image.kind == CodeKind::kLtoIr) return;  // NVVM bitcode: its kernel names are not read
  std::vector<uint8_t> buffer;
  if (auto stored = stored_bytes(source, image, buffer)) read_image_kernels(image, *stored, problems, give_up_above);
}

void read_all_kernels(const ImageSource& source, FileScan& scan, size_t first, const ScanOptions& options);

}  // namespace

void add_containers(const ImageSource& source, ByteView region, uint64_t region_offset, const std::string& member,
                    int member_index, const std::string& section, const ScanOptions& options, FileScan& scan) {
  auto containers = parse_fatbin_region(region, region_offset, scan.problems);
  add_parsed_containers(source, std::move(containers), member, member_index, section, options, scan);
}

std::string embedded_containers_note(const std::string& member, size_t found) {
  return fmt::format("{}{} fatbin{} outside the fatbin sections, which the library loads itself: judged with the "
                     "rest; cuobjdump does not list them",
                     member.empty() ? "" : "member " + member + ": ", found, found == 1 ? "" : "s");
}

void add_parsed_containers(const ImageSource& source, std::vector<FatbinContainer> containers,
                           const std::string& member, int member_index, const std::string& section,
                           const ScanOptions& options, FileScan& scan) {
  const size_t first = scan.containers.size();
  for (auto& container : containers) {
    container.member = member;
    container.member_index = member_index;
    container.section = section;
    if (!options.kernels && options.probe_kernels && !container.images.empty()) {
      // Probe the smallest image only: enough to tell a container without kernels.
      FatbinImage probe = *std::min_element(container.images.begin(), container.images.end(),
                                            [](const FatbinImage& a, const FatbinImage& b) {
                                              // LTO-IR last: its names are not read
                                              return std::pair(a.kind == CodeKind::kLtoIr, a.uncompressed_size) <
                                                     std::pair(b.kind == CodeKind::kLtoIr, b.uncompressed_size);
                                            });
      read_kernels(source, probe, scan.problems, options.max_probe);  // damage found by the probe is damage
      if (probe.kernels_read)
        container.kernels = probe.kernels.empty() ? FatbinContainer::Kernels::kNone : FatbinContainer::Kernels::kSome;
    }
    scan.containers.push_back(std::move(container));
  }
  if (options.kernels) read_all_kernels(source, scan, first, options);
}

namespace {

// With ScanOptions::kernels: decompresses every image of containers [first,
// end) and reads its kernel names. The images are independent, so spare
// threads of the scan (ThreadBudget) join in on big files; problems keep
// file order whatever the threads do.
void read_all_kernels(const ImageSource& source, FileScan& scan, size_t first, const ScanOptions& options) {
  std::vector<FatbinImage*> jobs;
  for (size_t c = first; c < scan.containers.size(); ++c)
    for (auto& image : scan.containers[c].images) jobs.push_back(&image);
  std::vector<std::vector<std::string>> problems(jobs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) read_kernels(source, *jobs[i], problems[i]);
  };
  std::vector<std::thread> helpers;
  // Helpers are worth a thread only with images left to share.
  constexpr size_t kImagesPerHelper = 32;
  while (options.budget != nullptr && jobs.size() - std::min(next.load(), jobs.size()) > kImagesPerHelper &&
         options.budget->try_take()) {
    helpers.emplace_back([&] {
      work();
      options.budget->give();
    });
  }
  work();
  for (auto& t : helpers) t.join();
  for (auto& p : problems)
    for (auto& message : p) scan.problems.push_back(std::move(message));
  for (size_t c = first; c < scan.containers.size(); ++c) {
    FatbinContainer& container = scan.containers[c];
    bool all_read = true, any = false;
    for (const auto& image : container.images) {
      all_read &= image.kernels_read;
      any |= !image.kernels.empty();
    }
    if (any) container.kernels = FatbinContainer::Kernels::kSome;
    else if (all_read && !container.images.empty()) container.kernels = FatbinContainer::Kernels::kNone;
  }
}

// The containers in [offset, offset + size) of the file. When the file is
// open (`open_file`), the walk over their headers reads it with pread: the
// headers of a big section are spread over all of its pages, and touching
// them through the mapping would fault most of the section into the process.
std::vector<FatbinContainer> parse_file_region(ByteView file, const MappedFile* open_file, uint64_t offset,
                                               uint64_t size, std::vector<std::string>& problems) {
  if (open_file != nullptr) return parse_fatbin_region(FileRegion(open_file->fd(), offset, size), offset, problems);
  return parse_fatbin_region(*file.slice(offset, size), offset, problems);
}

// The chains of fatbin entry headers in one section, for the search below.
// Each entry that reads cleanly (parse_entries finds nothing wrong with it
// alone) and fits in the section leads to the one after it; so the entries
// form a forest whose edges point forward. A container at `at` of `size`
// bytes reads cleanly exactly when the chain from its first entry (at + 16)
// lands on its end (at + size): when that end is an ancestor of the first
// entry. Each entry is read once, whatever the number of containers whose
// walk would pass it; trying each candidate with a walk of its own was
// quadratic (a section of chained 80-byte containers: 1 MB took 11.6 s).
template <typename Region>
class EntryChains {
 public:
  explicit EntryChains(const Region& section) : section_(section) {}

  // Follows the chain from `pos` (an offset in the section) until it meets
  // an entry already read, or ends.
  void follow(uint64_t pos) {
    for (uint32_t n = node(pos); next_[n] == kUnread;) {
      const std::optional<uint64_t> after = entry_end(pos_[n]);
      next_[n] = after ? static_cast<int64_t>(node(*after)) : kEnd;
      if (!after) break;
      n = static_cast<uint32_t>(next_[n]);
    }
  }

  // After every follow(): numbers the forest, so that reaches() is a lookup.
  void number() {
    const size_t n = pos_.size();
    std::vector<uint32_t> first(n + 1, 0), children(n);
    for (size_t i = 0; i < n; ++i)
      if (next_[i] >= 0) ++first[static_cast<size_t>(next_[i]) + 1];
    for (size_t i = 0; i < n; ++i) first[i + 1] += first[i];
    std::vector<uint32_t> fill(first.begin(), first.end() - 1);
    for (size_t i = 0; i < n; ++i)
      if (next_[i] >= 0) children[fill[static_cast<size_t>(next_[i])]++] = static_cast<uint32_t>(i);
    pre_.assign(n, 0);
    last_.assign(n, 0);
    uint32_t counter = 0;
    std::vector<std::pair<uint32_t, uint32_t>> stack;  // (node, next child to visit)
    for (uint32_t root = 0; root < n; ++root) {
      if (next_[root] >= 0) continue;
      pre_[root] = counter++;
      stack.push_back({root, first[root]});
      while (!stack.empty()) {
        auto& [v, child] = stack.back();
        if (child < first[v + 1]) {
          const uint32_t c = children[child++];
          pre_[c] = counter++;
          stack.push_back({c, first[c]});
        } else {
          last_[v] = counter - 1;
          stack.pop_back();
        }
      }
    }
  }

  // Whether the chain from `from` passes only clean entries until it lands
  // on `to` (> from).
  bool reaches(uint64_t from, uint64_t to) const {
    auto f = index_.find(from), t = index_.find(to);
    if (f == index_.end() || t == index_.end() || from >= to) return false;
    return pre_[t->second] < pre_[f->second] && pre_[f->second] <= last_[t->second];
  }

 private:
  static constexpr int64_t kUnread = -2, kEnd = -1;

  uint32_t node(uint64_t pos) {
    auto [it, added] = index_.try_emplace(pos, static_cast<uint32_t>(pos_.size()));
    if (added) {
      pos_.push_back(pos);
      next_.push_back(kUnread);
    }
    return it->second;
  }

  // Where the entry at `pos` ends, when it reads cleanly and fits: the same
  // checks as the walk's (parse_entries), over just this entry.
  std::optional<uint64_t> entry_end(uint64_t pos) {
    const auto header_size = section_.template read<uint32_t>(pos + fatbin_walk::kHeaderSizeAt);
    const auto payload_size = section_.template read<uint64_t>(pos + fatbin_walk::kPayloadSizeAt);
    if (!header_size || !payload_size || *header_size < kEntryHeaderMinSize) return {};
    if (!section_.contains(pos, *header_size) || !section_.contains(pos + *header_size, *payload_size)) return {};
    const uint64_t length = *header_size + *payload_size;
    scratch_.images.clear();
    problems_.clear();
    fatbin_walk::parse_entries(*section_.slice(pos, length), pos, scratch_, problems_);
    if (!problems_.empty() || scratch_.images.size() != 1) return {};
    return pos + length;
  }

  const Region& section_;
  std::unordered_map<uint64_t, uint32_t> index_;  // entry offset -> node
  std::vector<uint64_t> pos_;
  std::vector<int64_t> next_;  // the node after it, kEnd, or kUnread
  std::vector<uint32_t> pre_, last_;  // preorder number; the last one in its subtree
  FatbinContainer scratch_;
  std::vector<std::string> problems_;
};

// Containers a library keeps in its data sections and loads itself (cuFFT):
// every 8-byte aligned spot (where all of cuFFT's 23,984 sit) that starts a
// plausible container whose whole walk reads cleanly, searched on after the
// end of each one found. Bytes that merely match the magic are not damage, so
// a failed walk is no problem, only not a container. Read with pread in
// chunks when the file is open: a 277 MB .ldata never enters the process's
// RSS. Time and memory are linear in the section (EntryChains).
void add_embedded_containers(const ImageSource& source, const MappedFile* open_file, ByteView elf, uint64_t base,
                             const std::string& member, int member_index, const ScanOptions& options,
                             FileScan& scan) {
  constexpr size_t kChunk = size_t{1} << 20;
  constexpr size_t kLookahead = kFatbinHeaderSize + kEntryHeaderMinSize;
  const size_t before = scan.containers.size();
  std::vector<uint8_t> buffer;
  for (const ElfSection& section : find_data_sections(elf)) {
    const uint64_t start = base + section.offset, end = start + section.size;
    // The plausible container starts, and the sizes they declare.
    std::vector<std::pair<uint64_t, uint64_t>> candidates;
    uint64_t at = (start + 7) & ~uint64_t{7};
    while (at + kLookahead <= end) {
      // A chunk of the section and a lookahead past it.
      const size_t length = static_cast<size_t>(std::min<uint64_t>(kChunk + kLookahead, end - at));
      ByteView chunk;
      if (open_file != nullptr) {
        buffer.resize(length);
        if (read_file_at(open_file->fd(), at, buffer.data(), length) != length) break;  // cut short: no more
        chunk = ByteView(buffer.data(), length);
      } else {
        chunk = *source.bytes.slice(at - source.base, length);
      }
      size_t p = 0;
      for (; p < kChunk && p + kLookahead <= length; p += 8) {
        if (!plausible_container_start(chunk.tail(p))) continue;
        const uint64_t entries = *chunk.read<uint64_t>(p + 8);
        if (entries > end - (at + p) - kFatbinHeaderSize) continue;
        candidates.push_back({at + p, kFatbinHeaderSize + entries});
      }
      at += p;
    }
    if (candidates.empty()) continue;
    auto search = [&](const auto& region) {
      EntryChains chains(region);
      for (const auto& [container_at, size] : candidates) chains.follow(container_at - start + kFatbinHeaderSize);
      chains.number();
      uint64_t resume = 0;  // the end of the last container found
      for (const auto& [container_at, size] : candidates) {
        if (container_at < resume) continue;
        if (!chains.reaches(container_at - start + kFatbinHeaderSize, container_at - start + size)) continue;
        std::vector<std::string> problems;
        auto found = parse_file_region(source.bytes, open_file, container_at, size, problems);
        if (!problems.empty() || found.size() != 1 || found[0].images.empty()) continue;
        found[0].embedded = true;
        add_parsed_containers(source, std::move(found), member, member_index, section.name, options, scan);
        resume = (container_at + size + 7) & ~uint64_t{7};
      }
    };
    if (open_file != nullptr) search(FileRegion(open_file->fd(), start, section.size));
    else search(*source.bytes.slice(start - source.base, section.size));
  }
  if (const size_t found = scan.containers.size() - before; found > 0)
    scan.notes.push_back(embedded_containers_note(member, found));
}

// A host ELF image (the file itself, or an archive member at `base`).
void scan_host_elf(ByteView file, const MappedFile* open_file, ByteView elf, uint64_t base,
                   const std::string& member, int member_index, const ScanOptions& options, FileScan& scan) {
  auto sections = find_fatbin_sections(elf);
  if (!sections) {
    scan.problems.push_back((member.empty() ? "" : "member " + member + ": ") + sections.error().message);
    return;
  }
  for (const ElfSection& section : *sections)
    add_parsed_containers({file, 0, open_file ? open_file->fd() : -1},
                          parse_file_region(file, open_file, base + section.offset, section.size, scan.problems),
                          member, member_index, section.name, options, scan);
  if (options.embedded)
    add_embedded_containers({file, 0, open_file ? open_file->fd() : -1}, open_file, elf, base, member, member_index,
                            options, scan);
}

// A bare cubin or PTX text: one container of one image.
void scan_single_image(ByteView bytes, CodeKind kind, const ScanOptions& options, FileScan& scan) {
  auto container = single_image_container(bytes, kind, options.kernels);
  if (!container) {
    scan.problems.push_back(container.error().message);
    return;
  }
  scan.containers.push_back(std::move(*container));
  scan.format = kind == CodeKind::kSass ? FileFormat::kCubin : FileFormat::kPtx;
}

bool has_ptx_extension(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".ptx") == 0;
}

}  // namespace

const char* format_name(FileFormat format) {
  switch (format) {
    case FileFormat::kHostElf: return "elf";
    case FileFormat::kArchive: return "archive";
    case FileFormat::kFatbin: return "fatbin";
    case FileFormat::kCubin: return "cubin";
    case FileFormat::kPtx: return "ptx";
    default: return "none";
  }
}

namespace {

// `bytes` are the whole file's; `open_file` is the file they are mapped from,
// or null for bytes in memory.
FileScan scan_source(ByteView bytes, const MappedFile* open_file, std::string path, const ScanOptions& options) {
  FileScan scan;
  scan.path = std::move(path);
  scan.size = bytes.size();
  switch (identify(bytes)) {
    case ByteKind::kFatbin:
      add_parsed_containers({bytes, 0, open_file ? open_file->fd() : -1},
                            parse_file_region(bytes, open_file, 0, bytes.size(), scan.problems), "", -1, "", options,
                            scan);
      scan.format = FileFormat::kFatbin;
      break;
    case ByteKind::kCubin:
      scan_single_image(bytes, CodeKind::kSass, options, scan);
      break;
    case ByteKind::kHostElf:
      scan_host_elf(bytes, open_file, bytes, 0, "", -1, options, scan);
      scan.format = FileFormat::kHostElf;
      break;
    case ByteKind::kArchive:
      if (auto members = read_archive(bytes, scan.problems); !members) {
        scan.problems.push_back(members.error().message);
      } else {
        for (const ArchiveMember& m : *members) {
          const int index = static_cast<int>(scan.members.size());
          scan.members.push_back(m.name);
          const ByteKind member_kind = identify(m.data);
          if (member_kind == ByteKind::kHostElf)
            scan_host_elf(bytes, open_file, m.data, m.offset, m.name, index, options, scan);
          else if (member_kind == ByteKind::kArchive)
            scan.notes.push_back("nested archive skipped: " + m.name + " (smscan reads one level of archives; extract it and scan the result)");
        }
      }
      scan.format = FileFormat::kArchive;
      break;
    case ByteKind::kZip:
    case ByteKind::kOther:
      if (looks_like_ptx(bytes.as_chars())) scan_single_image(bytes, CodeKind::kPtx, options, scan);
      break;
  }
  return scan;
}

}  // namespace

FileScan scan_bytes(ByteView bytes, std::string path, const ScanOptions& options) {
  return scan_source(bytes, nullptr, std::move(path), options);
}

namespace {

// What a file's first bytes say it is, without mapping it (most files in a
// tree hold no device code); nothing, with scan.read_error and scan.size set,
// when it cannot be read. O_NONBLOCK: a FIFO that took a file's place is not
// waited on.
std::optional<ByteKind> sniff_file(const std::string& path, FileScan& scan) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    scan.read_error = std::string("cannot open: ") + std::strerror(errno);
    return std::nullopt;
  }
  uint8_t head[8] = {};
  ssize_t got = pread(fd, head, sizeof head, 0);
  int err = errno;
  struct stat st {};
  fstat(fd, &st);
  ::close(fd);
  if (got < 0) {
    scan.read_error = std::string("cannot read: ") + std::strerror(err);
    return std::nullopt;
  }
  scan.size = static_cast<uint64_t>(st.st_size);
  return identify(ByteView(head, static_cast<size_t>(got)));
}

FileScan scan_sniffed_file(FileScan scan, ByteKind kind, const ScanOptions& options) {
  if ((kind == ByteKind::kOther || kind == ByteKind::kZip) && !has_ptx_extension(scan.path)) return scan;
  auto mapped = MappedFile::open(scan.path);
  if (!mapped) {
    scan.read_error = mapped.error().message;
    return scan;
  }
  FileScan scan_result = scan_source(mapped->bytes(), &*mapped, scan.path, options);
  if (auto change = mapped->changed()) scan_result.problems.push_back(*change);  // cut while read
  return scan_result;
}

}  // namespace

FileScan scan_file(const std::string& path, const ScanOptions& options) {
  FileScan scan;
  scan.path = path;
  const std::optional<ByteKind> kind = sniff_file(path, scan);
  if (!kind) return scan;
  return scan_sniffed_file(std::move(scan), *kind, options);
}

namespace {

struct Walker {
  std::vector<std::string> files;
  std::vector<FileScan> errors;  // unreadable directories and entries
  std::set<std::pair<dev_t, ino_t>> seen;

  void add_error(const std::string& path, const std::string& why) {
    FileScan scan;
    scan.path = path;
    scan.read_error = why;
    errors.push_back(std::move(scan));
  }

  void visit(const std::string& path, bool named_by_user) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      int err = errno;
      struct stat lst {};
      if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
        add_error(path, err == ELOOP ? "symlink loop" : std::string("dangling symlink: ") + std::strerror(err));
      else
        add_error(path, std::string("cannot stat: ") + std::strerror(err));
      return;
    }
    if (!seen.insert({st.st_dev, st.st_ino}).second) return;  // visited through another link
    if (S_ISREG(st.st_mode)) {
      files.push_back(path);
    } else if (S_ISDIR(st.st_mode)) {
      std::error_code ec;
      std::filesystem::directory_iterator it(path, ec), end;
      if (ec) {
        add_error(path, "cannot read directory: " + ec.message());
        return;
      }
      std::vector<std::string> children;
      for (; it != end; it.increment(ec)) {
        if (ec) {
          add_error(path, "cannot read directory: " + ec.message());
          break;
        }
        children.push_back(it->path().string());
      }
      std::sort(children.begin(), children.end());
      for (const auto& child : children) visit(child, false);
    } else if (named_by_user) {
      add_error(path, "not a regular file or directory");
    }
  }
};

}  // namespace

TreeScan scan_paths(const std::vector<std::string>& paths, const ScanOptions& options, unsigned threads,
                    const std::function<void(const ScanProgress&)>& progress) {
  Walker walker;
  for (const auto& path : paths) walker.visit(path, true);

  const size_t total = walker.files.size();
  // One slot per file: a wheel or zip gives its members, a plain file itself.
  struct Slot {
    std::vector<FileScan> scans;
    size_t without_device_code = 0;
  };
  std::vector<Slot> results(total);
  std::atomic<size_t> next{0}, done{0};
  std::atomic<uint64_t> bytes_done{0};
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const unsigned file_threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(total, 1)));
  // Threads not needed for files, and those of workers that ran out of
  // files, help with the images of the files still being read.
  ThreadBudget budget(static_cast<int>(threads - file_threads));
  ScanOptions file_options = options;
  if (file_options.budget == nullptr) file_options.budget = &budget;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < total;) {
      const std::string& path = walker.files[i];
      Slot& slot = results[i];
      // Zips by content (pip's cache keeps wheels under hashes) or by name
      // (a damaged .whl is an error, not a file without device code).
      FileScan sniffed;
      sniffed.path = path;
      const std::optional<ByteKind> kind = sniff_file(path, sniffed);
      if (kind && (*kind == ByteKind::kZip || is_zip_path(path))) {
        ZipScan zip = scan_zip(path, file_options);
        slot.without_device_code = zip.members_without_device_code;
        bytes_done += zip.self.size;
        if (!zip.self.read_error.empty() || !zip.self.problems.empty() || !zip.self.notes.empty())
          slot.scans.push_back(std::move(zip.self));
        for (auto& m : zip.members) slot.scans.push_back(std::move(m));
      } else {
        FileScan scan = kind ? scan_sniffed_file(std::move(sniffed), *kind, file_options) : std::move(sniffed);
        bytes_done += scan.size;
        if (!scan.has_device_code() && scan.read_error.empty()) slot.without_device_code = 1;
        // Archives stay even without device code: cuobjdump's listing names their members.
        if (scan.has_device_code() || !scan.read_error.empty() || !scan.problems.empty() || !scan.members.empty())
          slot.scans.push_back(std::move(scan));
      }
      done.fetch_add(1, std::memory_order_release);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < file_threads; ++t)
    pool.emplace_back([&] {
      work();
      budget.give();
    });
  if (progress) {
    // This thread reports progress while the pool works, then joins in.
    while (done.load(std::memory_order_acquire) < total && pool.size() > 0) {
      progress({done.load(), total, bytes_done.load(), 0});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (next.load() >= total) break;
    }
  }
  work();
  budget.give();
  for (auto& t : pool) t.join();
  if (progress) progress({total, total, bytes_done.load(), 0});

  TreeScan tree;
  for (auto& slot : results) {
    tree.files_without_device_code += slot.without_device_code;
    for (auto& scan : slot.scans) tree.files.push_back(std::move(scan));
  }
  for (auto& e : walker.errors) tree.files.push_back(std::move(e));
  std::stable_sort(tree.files.begin(), tree.files.end(),
                   [](const FileScan& a, const FileScan& b) { return a.path < b.path; });
  return tree;
}

}  // namespace smwatch
