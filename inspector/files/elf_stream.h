// A host ELF file read as a stream (a big shared library inside a wheel or a
// container image's layer): what zip.cc and container_image.cc share; not
// part of the library's interface.
#pragma once

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scan_internal.h"
#include "smwatch/elf.h"
#include "smwatch/elf_file.h"
#include "smwatch/fatbin.h"

namespace smwatch {

// What one streamed ELF file may take: one container copied out at a time,
// and the places where a fatbin section's name passes (ZipLimits and
// ImageLimits say why each bound is what it is).
struct StreamLimits {
  uint64_t max_container = uint64_t{512} << 20;
  size_t max_section_names = 4096;
};

// Where the names of the fatbin sections, each with its terminating NUL,
// occur in a stream. A section is named ".nv_fatbin" exactly when those 11
// bytes sit at its name's offset, so once the section table says where the
// section-name table lies, the names of the fatbin sections are known without
// having kept that table: it may pass long before the section table arrives
// (lld puts a 188 MB .strtab between them in tensorflow's libtensorflow_cc).
class FatbinNameWatch {
 public:
  explicit FatbinNameWatch(size_t max_seen) : max_seen_(max_seen) {}

  // The next `n` bytes of the stream, at offset `at`.
  void feed(uint64_t at, const uint8_t* data, size_t n) {
    // Names that began in the bytes before: the kept tail and the start of these.
    const size_t head = std::min(n, kLongest - 1);
    std::vector<uint8_t> joined(tail_.begin(), tail_.end());
    joined.insert(joined.end(), data, data + head);
    search(at - tail_.size(), joined.data(), joined.size(), tail_.size());
    search(at, data, n, std::nullopt);
    if (n >= kLongest - 1) tail_.assign(data + n - (kLongest - 1), data + n);
    else {
      tail_.insert(tail_.end(), data, data + n);
      if (tail_.size() > kLongest - 1) tail_.erase(tail_.begin(), tail_.end() - static_cast<ptrdiff_t>(kLongest - 1));
    }
  }

  // The fatbin-section name at file offset `at`, "" when none is; sure only
  // when complete(): not when more occurrences passed than were kept.
  std::string_view name_at(uint64_t at) const {
    auto it = seen_.find(at);
    return it == seen_.end() ? std::string_view() : it->second;
  }
  bool complete() const { return !overflow_; }
  size_t bytes() const { return seen_.size() * (sizeof(uint64_t) + sizeof(std::string_view) + 32) + tail_.capacity(); }
  // The offsets of the names found since the last call.
  std::vector<uint64_t> take_fresh() { return std::exchange(fresh_, {}); }

 private:
  static constexpr size_t kLongest = kRelFatbinSection.size() + 1;

  // Occurrences in `bytes` (stream offset `base`); with `straddling`, only
  // those that start before that index and end after it.
  void search(uint64_t base, const uint8_t* bytes, size_t n, std::optional<size_t> straddling) {
    for (std::string_view name : {kFatbinSection, kRelFatbinSection}) {
      const size_t len = name.size() + 1;  // with the NUL
      for (size_t from = 0; from + len <= n;) {
        const void* hit = memmem(bytes + from, n - from, name.data(), len);
        if (hit == nullptr) break;
        const size_t i = static_cast<size_t>(static_cast<const uint8_t*>(hit) - bytes);
        if (!straddling || (i < *straddling && i + len > *straddling)) {
          if (seen_.size() < max_seen_) {
            if (seen_.emplace(base + i, name).second) fresh_.push_back(base + i);
          } else {
            overflow_ = true;
          }
        }
        from = i + 1;
      }
    }
  }

  size_t max_seen_;
  std::unordered_map<uint64_t, std::string_view> seen_;
  std::vector<uint8_t> tail_;  // the last kLongest - 1 bytes fed
  std::vector<uint64_t> fresh_;
  bool overflow_ = false;
};

// A host ELF file read as a stream, for members too big to hold: fatbin
// containers are recognised by their header as the bytes pass (the section
// table comes last in an ELF file), copied out one at a time, parsed, and
// dropped; when the section table arrives, only containers inside the
// sections cuobjdump reads (.nv_fatbin, else __nv_relfatbin) are kept, and,
// as a scan of the file finds them (ScanOptions::embedded), the containers
// that read cleanly in its other data sections, marked embedded. The table is
// read with the same ElfSections as cubins and the shim, over the bytes caught
// from the stream; the fatbin sections are told by where the FatbinNameWatch
// saw their names go by, and the other sections' names are read from windows
// of bytes kept around those places and before the section table, where the
// section-name table lies.
class ElfStream {
 public:
  ElfStream(const ScanOptions& options, const StreamLimits& limits, FileScan& scan)
      : options_(options), limits_(limits), scan_(scan), names_(limits.max_section_names) {}

  // The next bytes of the member, in order.
  void feed(const uint8_t* data, size_t n) {
    names_.feed(seen_, data, n);
    open_name_windows();
    capture(data, n);
    keep_recent(data, n);
    pending_.insert(pending_.end(), data, data + n);
    process();
    peak_ = std::max<uint64_t>(peak_, pending_.capacity() + container_.capacity() + table_.bytes.capacity() +
                                          names_.bytes() + recent_.capacity() + name_windows_.size() * 2 * kNameWindow);
  }

  // End of the member: keep the containers the section table vouches for.
  void finish(uint64_t size) {
    if (mode_ == Mode::kCopy)
      scan_.problems.push_back(fmt::format("fatbin container at offset {:#x} declares {} bytes, past the end ({})",
                                           container_at_, container_size_, size));
    if (!have_header_) {
      scan_.problems.push_back("ELF header truncated");
      return;
    }
    const std::vector<ElfSection> data_sections = read_sections(size);
    for (const auto& s : sections_cuobjdump_reads(fatbin_sections_)) {
      if (s.size == 0) continue;
      bool start_seen = false;
      for (auto& candidate : candidates_) {
        if (candidate.at < s.offset || candidate.at >= s.offset + s.size) continue;
        start_seen |= candidate.at == s.offset;
        for (auto& p : candidate.problems) scan_.problems.push_back(std::move(p));
        for (auto& p : candidate.probe_problems) scan_.problems.push_back(std::move(p));
        for (auto& c : candidate.containers) {
          c.section = s.name;
          scan_.containers.push_back(std::move(c));
        }
        candidate.containers.clear();
      }
      if (!start_seen)
        scan_.problems.push_back(fmt::format("section {} at offset {:#x} does not start with a fatbin container "
                                             "that could be read from the stream",
                                             s.name, s.offset));
    }
    std::sort(scan_.containers.begin(), scan_.containers.end(),
              [](const FatbinContainer& a, const FatbinContainer& b) { return a.offset < b.offset; });
    if (options_.embedded) keep_embedded(data_sections);
  }

  uint64_t peak() const { return peak_; }

 private:
  enum class Mode { kSearch, kCopy };
  // A container header plus the first entry header: enough to tell a real
  // container from four bytes that happen to match the magic.
  static constexpr size_t kLookahead = kFatbinHeaderSize + kEntryHeaderMinSize;

  struct Capture {
    uint64_t begin = 0, end = 0;  // wanted file range
    std::vector<uint8_t> bytes;   // bytes of [begin, end) seen so far, in order
  };
  struct Candidate {
    uint64_t at = 0, size = 0;
    std::vector<FatbinContainer> containers;
    std::vector<std::string> problems;        // of its walk
    std::vector<std::string> probe_problems;  // of reading its kernels
    bool clean = false;  // one container whose walk read cleanly, with images
  };
  // Bytes kept on each side of a place where a fatbin section's name passed,
  // and before the section table: the section-name table is there in the
  // files linkers write (its names a few hundred bytes long in all).
  static constexpr uint64_t kNameWindow = 4096;
  static constexpr size_t kMaxNameWindows = 16;

  void capture(const uint8_t* data, size_t n) {
    const uint64_t at = seen_;
    seen_ += n;
    if (!have_header_) {
      size_t take = std::min<size_t>(n, sizeof(Elf64_Ehdr) - header_.size());
      header_.insert(header_.end(), data, data + take);
      if (header_.size() == sizeof(Elf64_Ehdr)) start_captures();
    }
    take(table_, data, at, n);
    for (Capture& w : name_windows_) take(w, data, at, n);
    if (extended_ && table_.bytes.size() >= sizeof(Elf64_Shdr)) {
      // Extended numbering: the first entry holds the count; the rest of the
      // table may be in these same bytes.
      extended_ = false;
      table_.end = table_.begin + ElfSections::table_size(*ehdr_, ByteView(table_.bytes.data(), table_.bytes.size()));
      take(table_, data, at, n);
    }
  }

  // The bytes of [at, at + n) that `c` wants and does not have yet.
  static void take(Capture& c, const uint8_t* data, uint64_t at, size_t n) {
    const uint64_t from = std::max(c.begin + c.bytes.size(), at), to = std::min(c.end, at + n);
    if (from >= to) return;
    c.bytes.insert(c.bytes.end(), data + (from - at), data + (to - at));
  }

  void start_captures() {
    have_header_ = true;
    auto ehdr = read_elf_header(ByteView(header_.data(), header_.size()));
    if (!ehdr) {
      scan_.problems.push_back(ehdr.error().message + ": cannot stream it");
      return;
    }
    if (ehdr->e_shnum == 0 && ehdr->e_shoff == 0) return;  // no section table: nothing to list
    ehdr_ = *ehdr;
    extended_ = ehdr->e_shnum == 0;
    table_.begin = ehdr->e_shoff;
    table_.end = ehdr->e_shoff + ElfSections::table_size(*ehdr);
    if (options_.embedded) {
      Capture before;
      before.begin = ehdr->e_shoff > kNameWindow ? ehdr->e_shoff - kNameWindow : 0;
      before.end = ehdr->e_shoff;
      if (before.begin >= seen_) name_windows_.push_back(std::move(before));
    }
  }

  // A window around each fatbin section's name that just went by: its bytes
  // before it from recent_, the rest as they pass.
  void open_name_windows() {
    for (uint64_t hit : names_.take_fresh()) {
      if (!options_.embedded || name_windows_.size() >= kMaxNameWindows) continue;
      const uint64_t recent_begin = seen_ - recent_.size();
      Capture w;
      w.begin = std::max(recent_begin, hit > kNameWindow ? hit - kNameWindow : 0);
      w.end = hit + kNameWindow;
      if (w.begin < seen_) w.bytes.assign(recent_.begin() + static_cast<ptrdiff_t>(w.begin - recent_begin), recent_.end());
      name_windows_.push_back(std::move(w));
    }
  }

  // The last bytes fed (kNameWindow and a name's length), for the windows.
  void keep_recent(const uint8_t* data, size_t n) {
    if (!options_.embedded) return;
    constexpr size_t kKeep = kNameWindow + 32;
    if (n >= kKeep) {
      recent_.assign(data + n - kKeep, data + n);
    } else {
      recent_.insert(recent_.end(), data, data + n);
      if (recent_.size() > kKeep) recent_.erase(recent_.begin(), recent_.end() - static_cast<ptrdiff_t>(kKeep));
    }
  }

  // The NUL-terminated string at file offset `at`, if a window holds it whole.
  std::optional<std::string> string_at(uint64_t at) const {
    for (const Capture& w : name_windows_) {
      if (at < w.begin || at >= w.begin + w.bytes.size()) continue;
      const auto from = w.bytes.begin() + static_cast<ptrdiff_t>(at - w.begin);
      const auto nul = std::find(from, w.bytes.end(), uint8_t{0});
      if (nul != w.bytes.end()) return std::string(from, nul);
    }
    return std::nullopt;
  }

  // The fatbin sections of the ELF file (into fatbin_sections_), from the
  // section table and where their names were seen; returns its other data
  // sections, where a scan of the file looks for embedded containers
  // (find_data_sections: PROGBITS, not code, inside the file).
  std::vector<ElfSection> read_sections(uint64_t size) {
    std::vector<ElfSection> data;
    if (!ehdr_) return data;
    auto table = ElfSections::open(*ehdr_, ByteView(table_.bytes.data(), table_.bytes.size()), size);
    if (!table) {
      scan_.problems.push_back(table.error().message);
      return data;
    }
    auto strtab = table->names();
    if (!strtab) {
      scan_.problems.push_back(strtab.error().message);
      return data;
    }
    if (!names_.complete()) {
      keep_unsectioned();
      return data;
    }
    for (uint16_t i = 0; i < table->count(); ++i) {
      const Elf64_Shdr s = (*table)[i];
      if (s.sh_type == SHT_NOBITS) continue;
      const bool named = s.sh_name < strtab->sh_size;
      const std::string_view name = named ? names_.name_at(strtab->sh_offset + s.sh_name) : std::string_view();
      if (!is_fatbin_section(name)) {
        if (s.sh_type == SHT_PROGBITS && (s.sh_flags & SHF_EXECINSTR) == 0 && table->fits(s) &&
            s.sh_size >= kLookahead) {
          // Named as the section-name table says, where a window holds it.
          std::optional<std::string> text = named ? string_at(strtab->sh_offset + s.sh_name) : std::string();
          data.push_back({text ? *text : fmt::format("section {}", i), s.sh_offset, s.sh_size});
        }
        continue;
      }
      if (!table->fits(s)) {
        scan_.problems.push_back(elf_section_past_end(name, s, size));
        continue;
      }
      fatbin_sections_.push_back({std::string(name), s.sh_offset, s.sh_size});
    }
    return data;
  }

  // The containers of the data sections that a scan of the whole file finds
  // (add_embedded_containers): starting in the section, ending inside it, a
  // walk that reads cleanly, searched on after the end of each one kept.
  // The stream skips the bytes a container declares whether or not its walk
  // reads cleanly, where the whole-file search goes on 8 bytes later: only a
  // file made so (a plausible start whose walk fails, declaring bytes that
  // hold a real container) is read differently.
  void keep_embedded(const std::vector<ElfSection>& data_sections) {
    std::vector<FatbinContainer> found;
    for (const ElfSection& s : data_sections) {
      const uint64_t end = s.offset + s.size;
      uint64_t resume = 0;
      for (Candidate& c : candidates_) {
        if (c.at < s.offset || c.at < resume || c.at + kLookahead > end || c.size > end - c.at) continue;
        if (!c.clean || c.containers.empty()) continue;
        for (auto& p : c.probe_problems) scan_.problems.push_back(std::move(p));
        for (auto& container : c.containers) {
          container.section = s.name;
          container.embedded = true;
          found.push_back(std::move(container));
        }
        c.containers.clear();
        resume = (c.at + c.size + 7) & ~uint64_t{7};
      }
    }
    if (found.empty()) return;
    scan_.notes.push_back(embedded_containers_note("", found.size()));
    for (auto& c : found) scan_.containers.push_back(std::move(c));
  }

  // More fatbin-section names went by than were kept (bytes made to look so:
  // no linker writes thousands), so the containers read from the stream
  // cannot be matched to .nv_fatbin. Those whose walk read cleanly are kept
  // as containers found outside the fatbin sections (as a library's embedded
  // ones are), with a note; the rest are dropped as bytes that only looked
  // like a container.
  void keep_unsectioned() {
    if (candidates_.empty()) return;
    size_t kept = 0;
    for (auto& candidate : candidates_) {
      if (!candidate.problems.empty() || candidate.containers.empty()) continue;
      if (!options_.embedded) continue;  // --list: cuobjdump lists only the fatbin sections
      for (auto& c : candidate.containers) {
        c.section.clear();
        c.embedded = true;
        scan_.containers.push_back(std::move(c));
        ++kept;
      }
      candidate.containers.clear();
    }
    scan_.notes.push_back(fmt::format(
        "over {} places in the file spell a fatbin section's name, more than are kept while streaming, so the "
        "fatbin sections cannot be told apart in the stream: {}",
        limits_.max_section_names,
        options_.embedded ? fmt::format("{} fatbin{} read cleanly judged as found outside them", kept,
                                        kept == 1 ? "" : "s")
                          : std::string("none listed")));
  }

  bool container_starts(const uint8_t* p) const { return plausible_container_start(ByteView(p, kLookahead)); }

  void process() {
    size_t p = 0;
    const uint64_t base = seen_ - pending_.size();  // file offset of pending_[0]
    while (true) {
      if (mode_ == Mode::kCopy) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(pending_.size() - p, copy_left_));
        container_.insert(container_.end(), pending_.begin() + static_cast<ptrdiff_t>(p),
                          pending_.begin() + static_cast<ptrdiff_t>(p + take));
        p += take;
        copy_left_ -= take;
        if (copy_left_ > 0) break;
        parse_container();
        mode_ = Mode::kSearch;
        continue;
      }
      const uint64_t at = base + p;
      p += static_cast<size_t>((8 - at % 8) % 8);  // containers are 8-byte aligned in the file
      if (p + kLookahead > pending_.size()) break;
      if (!container_starts(pending_.data() + p)) {
        p += 8;
        continue;
      }
      const uint64_t size = kFatbinHeaderSize + *ByteView(pending_.data() + p, 16).read<uint64_t>(8);
      if (size > limits_.max_container) {
        Candidate c;
        c.at = base + p;
        c.problems.push_back(fmt::format("fatbin container at offset {:#x} declares {} bytes, over the {} MiB "
                                         "that one container may take in a streamed member; skipped",
                                         base + p, size, limits_.max_container / (uint64_t{1} << 20)));
        candidates_.push_back(std::move(c));
        p += 8;
        continue;
      }
      mode_ = Mode::kCopy;
      container_at_ = base + p;
      container_size_ = size;
      copy_left_ = size;
      container_.clear();
      container_.reserve(static_cast<size_t>(size));
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(std::min(p, pending_.size())));
  }

  void parse_container() {
    peak_ = std::max<uint64_t>(peak_, pending_.capacity() + container_.capacity());
    ByteView bytes(container_.data(), container_.size());
    Candidate c;
    c.at = container_at_;
    c.size = container_.size();
    auto containers = parse_fatbin_region(bytes, container_at_, c.problems);
    c.clean = c.problems.empty() && containers.size() == 1 && !containers[0].images.empty();
    FileScan part;
    add_parsed_containers({bytes, container_at_}, std::move(containers), "", -1, "", options_, part);
    c.containers = std::move(part.containers);
    c.probe_problems = std::move(part.problems);
    candidates_.push_back(std::move(c));
    container_.clear();
    container_.shrink_to_fit();  // hold one container at a time, not the largest seen
  }

  const ScanOptions& options_;
  StreamLimits limits_;
  FileScan& scan_;
  uint64_t seen_ = 0;  // bytes fed so far
  std::vector<uint8_t> header_;
  bool have_header_ = false;
  std::optional<Elf64_Ehdr> ehdr_;  // a 64-bit little-endian header with sections
  bool extended_ = false;           // the section count is in the first entry, not yet caught
  Capture table_;
  FatbinNameWatch names_;
  std::vector<uint8_t> pending_;  // bytes not yet searched, from file offset seen_ - pending_.size()
  Mode mode_ = Mode::kSearch;
  std::vector<uint8_t> container_;
  uint64_t container_at_ = 0, container_size_ = 0, copy_left_ = 0;
  std::vector<Candidate> candidates_;
  std::vector<ElfSection> fatbin_sections_;
  std::vector<Capture> name_windows_;  // where the section-name table may be
  std::vector<uint8_t> recent_;        // the last bytes fed, for name windows
  uint64_t peak_ = 0;
};

}  // namespace smwatch
