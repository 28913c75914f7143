// Reading report files: a line at a time, each folded into its process.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "model.h"
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
  if (processes.empty()) return 2;
  return failure_count() > 0 || missing_count() > 0 ? 1 : 0;
}

namespace {

void fold(ProcessReport& p, record::Process&& r) {
  p.ppid = r.ppid;
  p.format = r.format;
  p.exe = std::move(r.exe);
  p.cmdline = std::move(r.cmdline);
  p.smwatch_version = std::move(r.smwatch);
  p.targets = std::move(r.targets);
  if (r.time > 0) p.start = r.time;
}

void fold(ProcessReport& p, record::Gpu&& r) {
  auto same = [&](const record::Gpu& g) { return g.ordinal == r.ordinal && g.name == r.name && g.cc == r.cc; };
  if (std::none_of(p.gpus.begin(), p.gpus.end(), same)) p.gpus.push_back(std::move(r));
}

void fold(ProcessReport& p, record::Module&& r) {
  ++p.module_loads;
  if (r.source.empty()) r.source = "<memory>";
  // By source and code: the images a library loads from memory differ.
  auto [it, fresh] = p.module_index.try_emplace(std::make_pair(r.source, r.archs), p.modules.size());
  if (fresh) p.modules.push_back({r.source, std::move(r.archs), std::move(r.origin), std::move(r.verdicts), {}, 0, 0});
  ModuleLoads& m = p.modules[it->second];
  ++m.loads;
  if (r.result != 0) ++m.failed;
  if (m.problems.empty()) m.problems = std::move(r.problems);
}

void add_failure(ProcessReport& p, record::Failure&& r, size_t count, bool handled) {
  auto& groups = handled ? p.handled : p.failures;
  auto& index = handled ? p.handled_index : p.failure_index;
  (handled ? p.handled_records : p.failure_records) += count;
  auto key = std::make_tuple(r.call, r.error, r.mangled.empty() ? r.kernel : r.mangled, r.source);
  auto [it, fresh] = index.try_emplace(std::move(key), groups.size());
  if (fresh) groups.push_back({std::move(r), 0});
  groups[it->second].count += count;
}

void fold(ProcessReport& p, record::Failure&& r) {
  const bool handled = r.built_for_other_gpus;
  add_failure(p, std::move(r), 1, handled);
}

void fold(ProcessReport& p, record::Library&& r) {
  std::string path = r.path;
  p.libraries.insert_or_assign(std::move(path), std::move(r));
}

void fold(ProcessReport& p, record::Missing&& r) {
  if (p.missing_seen.emplace(r.target, r.mangled.empty() ? r.kernel : r.mangled, r.source).second)
    p.missing.push_back(std::move(r));
}

void fold(ProcessReport& p, record::RuntimeKernel&& r) {
  if (p.runtime_seen.emplace(r.mangled.empty() ? r.kernel : r.mangled, r.caller, r.source).second)
    p.runtime_kernels.push_back(std::move(r));
}

void fold(ProcessReport& p, record::Exit&& r) { p.exit = std::move(r); }

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
    auto [it, fresh] = index_.try_emplace(common.pid, report_.processes.size());
    if (fresh) {
      ProcessReport p;
      p.file = name_;
      p.pid = common.pid;
      p.start = common.time;
      report_.processes.push_back(std::move(p));
    }
    ProcessReport& p = report_.processes[it->second];
    ++p.records;
    std::visit([&](auto&& r) { fold(p, std::move(r)); }, std::move(*d.record));
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
  size_t line_no_ = 0, listed_ = 0, suppressed_ = 0;
  bool warned_format_ = false;
  // Records of one file, by pid: a file is one process, but a forked child
  // that has not yet reopened its own file may still write a record here.
  std::map<int64_t, size_t> index_;
};

}  // namespace

void add_report_stream(MergedReport& report, std::istream& in, const std::string& name) {
  FileReader reader(report, name);
  std::string line;
  bool skipping = false;  // inside a line longer than kMaxRecordBytes
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    std::string_view chunk(buf, static_cast<size_t>(in.gcount()));
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      std::string_view piece = chunk.substr(0, nl);
      chunk.remove_prefix(nl == std::string_view::npos ? chunk.size() : nl + 1);
      if (!skipping && line.size() + piece.size() > kMaxRecordBytes) {
        skipping = true;
        line.clear();
        line.shrink_to_fit();
        reader.too_long();
      }
      if (!skipping) line.append(piece);
      if (nl == std::string_view::npos) break;
      if (!skipping) reader.line(line, true);
      skipping = false;
      line.clear();
    }
  }
  if (!line.empty() && !skipping) reader.line(line, false);
  reader.finish();
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
    for (auto& group : p.handled) add_failure(p, std::move(group.first), group.count, false);
    p.handled.clear();
    p.handled_index.clear();
    p.handled_records = 0;
  }
  std::stable_sort(report.processes.begin(), report.processes.end(), [](const ProcessReport& a, const ProcessReport& b) {
    return a.start != b.start ? a.start < b.start : a.pid < b.pid;
  });
  judge_what_if(report);
}

MergedReport read_reports(const std::vector<std::string>& paths) {
  MergedReport report;
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".jsonl") found.push_back(it->path().string());
      }
      if (ec) {
        ++report.unreadable;
        report.problems.push_back({path, 0, "cannot list directory: " + ec.message()});
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      ++report.unreadable;
      report.problems.push_back({path, 0, "no such file or directory"});
    }
  }
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      ++report.unreadable;
      report.problems.push_back({file, 0, "cannot open: " + std::error_code(errno, std::generic_category()).message()});
      continue;
    }
    add_report_stream(report, in, file);
    if (in.bad()) {
      ++report.unreadable;
      report.problems.push_back({file, 0, "read error: " + std::error_code(errno, std::generic_category()).message()});
    }
  }
  finish_report(report);
  return report;
}

}  // namespace smwatch::cli
