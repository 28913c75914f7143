// Reading report files: a line at a time, each folded into its process.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "model.h"
#include "smwatch/regular_file.h"
#include "what_if.h"

namespace smwatch::cli {

namespace fs = std::filesystem;

size_t MergedReport::failure_count() const {
  size_t n = 0;
  for (const auto& p : processes) n += p.failure_records;
  return n;
}
size_t MergedReport::missing_count() const {
  size_t n = 0;
  for (const auto& p : processes) n += p.missing.size();
  return n;
}
size_t MergedReport::module_count() const {
  size_t n = 0;
  for (const auto& p : processes) n += p.module_loads;
  return n;
}
int MergedReport::exit_code() const {
  if (processes.empty() || unreadable > 0) return 2;
  return failure_count() > 0 || missing_count() > 0 ? 1 : 0;
}

namespace {

// A key made of strings, unambiguous (each is length-prefixed: a name may hold any byte).
template <typename... Parts>
std::string fold_key(const Parts&... parts) {
  std::string key;
  ((key += std::to_string(std::string_view(parts).size()), key += ':', key += std::string_view(parts)), ...);
  return key;
}

// Where each distinct thing of one process is, for folding the next record
// into it in O(1): kept while its file is read, then dropped.
struct Folding {
  std::unordered_map<std::string, size_t> modules, failures, handled;
  std::unordered_set<std::string> gpus, missing, runtime;
};

void fold(ProcessReport& p, Folding&, record::Process&& r) {
  p.ppid = r.ppid;
  p.format = r.format;
  p.exe = std::move(r.exe);
  p.cmdline = std::move(r.cmdline);
  p.smwatch_version = std::move(r.smwatch);
  p.targets = std::move(r.targets);
  if (r.time > 0) p.start = r.time;
}

void fold(ProcessReport& p, Folding& f, record::Gpu&& r) {
  if (f.gpus.insert(fold_key(std::to_string(r.ordinal), r.name, r.cc)).second) p.gpus.push_back(std::move(r));
}

void fold(ProcessReport& p, Folding& f, record::Module&& r) {
  ++p.module_loads;
  if (r.source.empty()) r.source = "<memory>";
  // By source and code: the images a library loads from memory differ.
  auto [it, fresh] = f.modules.try_emplace(fold_key(r.source, r.archs), p.modules.size());
  if (fresh) p.modules.push_back({r.source, std::move(r.archs), std::move(r.origin), std::move(r.verdicts), {}, 0, 0});
  ModuleLoads& m = p.modules[it->second];
  ++m.loads;
  if (r.result != 0) ++m.failed;
  if (m.problems.empty()) m.problems = std::move(r.problems);
}

// The key a failure group is folded by.
std::string failure_key(const record::Failure& r) {
  return fold_key(r.call, std::to_string(r.error), r.mangled.empty() ? r.kernel : r.mangled, r.source);
}

// Folds `count` failures like `r` into the failures, or the handled look-ups.
void add_failure(ProcessReport& p, std::unordered_map<std::string, size_t>& index, record::Failure&& r, size_t count,
                 bool handled) {
  auto& groups = handled ? p.handled : p.failures;
  (handled ? p.handled_records : p.failure_records) += count;
  auto [it, fresh] = index.try_emplace(failure_key(r), groups.size());
  if (fresh) groups.push_back({std::move(r), 0});
  groups[it->second].count += count;
}

void fold(ProcessReport& p, Folding& f, record::Failure&& r) {
  const bool handled = r.built_for_other_gpus;
  add_failure(p, handled ? f.handled : f.failures, std::move(r), 1, handled);
}

void fold(ProcessReport& p, Folding&, record::Library&& r) {
  std::string path = r.path;
  p.libraries.insert_or_assign(std::move(path), std::move(r));
}

void fold(ProcessReport& p, Folding& f, record::Missing&& r) {
  if (f.missing.insert(fold_key(r.target, r.mangled.empty() ? r.kernel : r.mangled, r.source)).second)
    p.missing.push_back(std::move(r));
}

void fold(ProcessReport& p, Folding& f, record::RuntimeKernel&& r) {
  if (f.runtime.insert(fold_key(r.mangled.empty() ? r.kernel : r.mangled, r.caller, r.source)).second)
    p.runtime_kernels.push_back(std::move(r));
}

void fold(ProcessReport& p, Folding&, record::Exit&& r) { p.exit = std::move(r); }

// One report file, line by line.
class FileReader {
 public:
  FileReader(MergedReport& report, const std::string& name) : report_(report), name_(name) { ++report_.files; }

  void line(std::string_view text, bool terminated) {
    ++line_no_;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) return;
    record::Decoded d = record::decode(text);
    if (!d.record) {
      if (d.code == record::DecodeError::kUnknownType) {  // a newer shim's
        ++report_.newer_records;
        return;
      }
      // The shim writes each record with one write(2), so only a crash in the
      // middle of that write can cut a line: it is then the last, unterminated one.
      if (!terminated && d.code == record::DecodeError::kNotJson) {
        ++report_.truncated_lines;
        problem("last record cut off (the process died while writing it?); ignored");
      } else {
        ++report_.garbage_lines;
        problem(d.error + "; ignored");
      }
      return;
    }
    const record::Common& common = std::visit([](const auto& r) -> const record::Common& { return r; }, *d.record);
    auto it = index_.find(common.pid);
    if (it == index_.end()) {
      if (index_.size() == kMaxProcessesPerFile) {
        ++skipped_records_;
        return;
      }
      it = index_.try_emplace(common.pid, Indexed{report_.processes.size(), {}}).first;
      ProcessReport p;
      p.file = name_;
      p.pid = common.pid;
      p.start = common.time;
      report_.processes.push_back(std::move(p));
    }
    ProcessReport& p = report_.processes[it->second.process];
    ++p.records;
    std::visit([&](auto&& r) { fold(p, it->second.folding, std::move(r)); }, std::move(*d.record));
    if (p.format > record::kFormatVersion && !warned_format_) {
      warned_format_ = true;
      problem("written by a newer smwatch (record format " + std::to_string(p.format) + ", this one reads " +
              std::to_string(record::kFormatVersion) + "); what it added is not shown");
    }
  }

  void too_long() {
    ++line_no_;
    ++report_.garbage_lines;
    problem("longer than " + std::to_string(kMaxRecordBytes >> 20) + " MiB: not a record; ignored");
  }

  void finish() {
    if (skipped_records_) {
      ++report_.unreadable;
      report_.problems.push_back({name_, 0, "records of more than " + std::to_string(kMaxProcessesPerFile) +
                                                " processes (the shim writes one per file): " +
                                                std::to_string(skipped_records_) + " records of the others not read"});
    }
    if (suppressed_)
      report_.problems.push_back({name_, 0, std::to_string(suppressed_) + " more problem" + (suppressed_ == 1 ? "" : "s") +
                                                " like those above, not listed"});
  }

 private:
  void problem(std::string reason) {
    if (listed_ < kMaxProblemsPerFile) {
      ++listed_;
      report_.problems.push_back({name_, line_no_, std::move(reason)});
    } else {
      ++suppressed_;
    }
  }

  MergedReport& report_;
  const std::string& name_;
  size_t line_no_ = 0, listed_ = 0, suppressed_ = 0, skipped_records_ = 0;
  bool warned_format_ = false;
  // Records of one file, by pid: a file is one process, but a child started
  // without fork handlers (a raw clone) may still write a record here.
  struct Indexed {
    size_t process;  // in report_.processes
    Folding folding;
  };
  std::unordered_map<int64_t, Indexed> index_;
};

// Cuts a file's bytes into lines for a FileReader; a line longer than
// kMaxRecordBytes is skipped unread.
class LineSplitter {
 public:
  explicit LineSplitter(FileReader& reader) : reader_(reader) {}

  void feed(std::string_view chunk) {
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      std::string_view piece = chunk.substr(0, nl);
      chunk.remove_prefix(nl == std::string_view::npos ? chunk.size() : nl + 1);
      if (!skipping_ && line_.size() + piece.size() > kMaxRecordBytes) {
        skipping_ = true;
        line_.clear();
        line_.shrink_to_fit();
        reader_.too_long();
      }
      if (!skipping_) line_.append(piece);
      if (nl == std::string_view::npos) break;
      if (!skipping_) reader_.line(line_, true);
      skipping_ = false;
      line_.clear();
    }
  }

  void finish() {
    if (!line_.empty() && !skipping_) reader_.line(line_, false);
    reader_.finish();
  }

 private:
  FileReader& reader_;
  std::string line_;
  bool skipping_ = false;  // inside a line longer than kMaxRecordBytes
};

void not_read(MergedReport& report, const std::string& path, std::string reason) {
  ++report.unreadable;
  report.problems.push_back({path, 0, std::move(reason)});
}

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

// A file found or named: `follow` whether a link as its last component may be
// followed (a file named on the command line, or a link that stays inside
// the directory being read).
struct ReportFile {
  std::string path;  // as shown
  std::string open_path;
  bool follow;
};

// One file: a regular file only, opened without blocking (a FIFO swapped in
// after the walk, /proc/kmsg), read no further than fstat's size (a file
// growing while it is read; /proc/self/pagemap says 0). Each file once
// (two links to one file, a file named twice).
void read_report_file(MergedReport& report, const ReportFile& file, std::set<std::pair<dev_t, ino_t>>& seen) {
  auto opened = RegularFile::open(file.open_path,
                                  file.follow ? RegularFile::LastLink::kFollow : RegularFile::LastLink::kRefuse);
  if (!opened) {
    not_read(report, file.path, opened.error().message);
    return;
  }
  if (!seen.insert(opened->identity()).second) return;
  FileReader reader(report, file.path);
  LineSplitter lines(reader);
  const uint64_t size = opened->size();
  uint64_t left = size;
  std::vector<char> buf(1 << 16);
  while (left > 0) {
    const ssize_t n = ::read(opened->fd(), buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
    if (n == 0) break;  // shorter than it was
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      lines.finish();
      not_read(report, file.path, "read error after " + std::to_string(size - left) + " bytes: " + errno_text(e));
      return;
    }
    lines.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    left -= static_cast<uint64_t>(n);
  }
  lines.finish();
}

bool is_report_name(std::string_view name) {
  return name.size() > 6 && name.substr(name.size() - 6) == ".jsonl";
}

// Every *.jsonl under `root`, in path order. A directory is read whole and
// closed before the next (no descriptor per level: a deep tree cannot run
// out of them); links to directories are not followed; a *.jsonl link is
// followed only to a file inside `root`. What cannot be listed or is
// refused is named and counted, and the walk goes on.
void walk(MergedReport& report, const std::string& root, std::vector<ReportFile>& files) {
  std::error_code ec;
  const fs::path root_real = fs::canonical(root, ec);
  if (ec) return not_read(report, root, "cannot resolve: " + ec.message());
  const std::string inside = root_real.string() == "/" ? "/" : root_real.string() + "/";
  std::vector<ReportFile> found;
  std::set<std::pair<dev_t, ino_t>> visited;
  std::vector<std::string> pending{root};
  while (!pending.empty()) {
    const std::string dir = std::move(pending.back());
    pending.pop_back();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK | (dir == root ? 0 : O_NOFOLLOW));
    if (dfd < 0) {
      not_read(report, dir, "cannot list directory: " + errno_text(errno));
      continue;
    }
    struct stat st{};
    if (fstat(dfd, &st) == 0 && !visited.emplace(st.st_dev, st.st_ino).second) {  // a bind-mount loop
      ::close(dfd);
      continue;
    }
    DIR* d = fdopendir(dfd);
    if (!d) {
      not_read(report, dir, "cannot list directory: " + errno_text(errno));
      ::close(dfd);
      continue;
    }
    std::vector<std::string> subdirs;
    for (;;) {
      errno = 0;
      const dirent* e = readdir(d);
      if (!e) {
        if (errno) not_read(report, dir, "cannot list directory (stopped): " + errno_text(errno));
        break;
      }
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat est{};
        if (fstatat(dirfd(d), e->d_name, &est, AT_SYMLINK_NOFOLLOW) != 0) type = DT_UNKNOWN;
        else if (S_ISDIR(est.st_mode)) type = DT_DIR;
        else if (S_ISREG(est.st_mode)) type = DT_REG;
        else if (S_ISLNK(est.st_mode)) type = DT_LNK;
        else type = DT_FIFO;  // any other kind: not a file to read
      }
      const std::string path = (dir.back() == '/' ? dir : dir + "/") + std::string(name);
      if (type == DT_DIR) {
        subdirs.push_back(path);
        continue;
      }
      if (!is_report_name(name)) continue;
      if (type == DT_REG) {
        found.push_back({path, path, false});
      } else if (type == DT_LNK) {
        const fs::path target = fs::canonical(path, ec);
        if (ec) not_read(report, path, "a link to nothing readable (" + ec.message() + "): not followed");
        else if (target.string().compare(0, inside.size(), inside) != 0)
          not_read(report, path, "a link out of " + root + " (to " + fs::read_symlink(path, ec).string() + "): not followed");
        else found.push_back({path, target.string(), false});
      } else {
        not_read(report, path, "not a regular file");
      }
    }
    closedir(d);
    // Depth first, in name order.
    std::sort(subdirs.begin(), subdirs.end(), std::greater<>());
    for (auto& s : subdirs) pending.push_back(std::move(s));
  }
  std::sort(found.begin(), found.end(), [](const ReportFile& a, const ReportFile& b) { return a.path < b.path; });
  files.insert(files.end(), found.begin(), found.end());
}

}  // namespace

void add_report_stream(MergedReport& report, std::istream& in, const std::string& name) {
  FileReader reader(report, name);
  LineSplitter lines(reader);
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    lines.feed(std::string_view(buf, static_cast<size_t>(in.gcount())));
  }
  lines.finish();
}

void add_report_text(MergedReport& report, std::string_view text, const std::string& name) {
  std::istringstream in{std::string(text)};
  add_report_stream(report, in, name);
}

void finish_report(MergedReport& report) {
  // A look-up of a kernel built for other GPUs was handled only if the
  // process went on to exit normally; after a crash it may be the cause.
  for (auto& p : report.processes) {
    if (p.exit || p.handled.empty()) continue;
    std::unordered_map<std::string, size_t> index;  // the failure groups there are
    for (size_t i = 0; i < p.failures.size(); ++i) index.emplace(failure_key(p.failures[i].first), i);
    for (auto& group : p.handled) add_failure(p, index, std::move(group.first), group.count, false);
    p.handled.clear();
    p.handled_records = 0;
  }
  std::stable_sort(report.processes.begin(), report.processes.end(), [](const ProcessReport& a, const ProcessReport& b) {
    return a.start != b.start ? a.start < b.start : a.pid < b.pid;
  });
  judge_what_if(report);
}

MergedReport read_reports(const std::vector<std::string>& paths) {
  MergedReport report;
  std::vector<ReportFile> files;
  for (const auto& path : paths) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
      not_read(report, path, errno == ENOENT ? "no such file or directory" : "cannot stat: " + errno_text(errno));
    } else if (S_ISDIR(st.st_mode)) {
      walk(report, path, files);
    } else {
      files.push_back({path, path, true});  // named: read whatever its name, through a link too
    }
  }
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const auto& file : files) read_report_file(report, file, seen);
  finish_report(report);
  return report;
}

}  // namespace smwatch::cli
