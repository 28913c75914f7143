#include "reports.h"

#include "runtime_origin.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

namespace smwatch::cli {

using nlohmann::json;
namespace fs = std::filesystem;

std::string field_text(const json& record, const char* key) {
  if (!record.is_object() || !record.contains(key)) return "";
  const json& v = record[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) out += (out.empty() ? "" : " ") + (item.is_string() ? item.get<std::string>() : item.dump());
    return out;
  }
  return v.dump();
}

namespace {

int64_t field_int(const json& record, const char* key) {
  if (!record.contains(key)) return 0;
  const json& v = record[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number()) return static_cast<int64_t>(v.get<double>());
  return 0;
}

double field_double(const json& record, const char* key) {
  return record.contains(key) && record[key].is_number() ? record[key].get<double>() : 0.0;
}

}  // namespace

size_t MergedReport::failure_count() const {
  size_t n = 0;
  for (const auto& p : processes) n += p.failures.size();
  return n;
}
size_t MergedReport::missing_count() const {
  size_t n = 0;
  for (const auto& p : processes) n += p.missing.size();
  return n;
}
size_t MergedReport::module_count() const {
  size_t n = 0;
  for (const auto& p : processes) n += p.modules.size();
  return n;
}
int MergedReport::exit_code() const {
  if (processes.empty()) return 2;
  return failure_count() > 0 || missing_count() > 0 ? 1 : 0;
}

void add_report_text(MergedReport& report, std::string_view text, const std::string& name) {
  ++report.files;
  // Records of one file, by pid: a file is one process, but a forked child
  // that has not yet reopened its own file may still write a record here.
  std::map<int64_t, size_t> index;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    const bool last_unterminated = nl == std::string_view::npos;
    std::string_view line = text.substr(pos, last_unterminated ? std::string_view::npos : nl - pos);
    pos = last_unterminated ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json rec = json::parse(line, nullptr, false);
    if (rec.is_discarded() || !rec.is_object()) {
      // The shim writes each record with one write(2), so only a crash in the
      // middle of that write can cut a line: it is then the last, unterminated one.
      if (last_unterminated && rec.is_discarded()) {
        ++report.truncated_lines;
        report.problems.push_back({name, line_no, "last record cut off (the process died while writing it?); ignored"});
      } else {
        ++report.garbage_lines;
        report.problems.push_back({name, line_no, rec.is_discarded() ? "not a JSON record; ignored" : "not a JSON object; ignored"});
      }
      continue;
    }
    std::string type = field_text(rec, "type");
    if (type.empty()) {
      ++report.garbage_lines;
      report.problems.push_back({name, line_no, "record without \"type\"; ignored"});
      continue;
    }
    const int64_t pid = field_int(rec, "pid");
    auto [it, fresh] = index.try_emplace(pid, report.processes.size());
    if (fresh) {
      ProcessReport p;
      p.file = name;
      p.pid = pid;
      p.start = field_double(rec, "time");
      report.processes.push_back(std::move(p));
    }
    ProcessReport& p = report.processes[it->second];
    ++p.records;
    if (type == "process") {
      p.ppid = field_int(rec, "ppid");
      p.exe = field_text(rec, "exe");
      p.cmdline = field_text(rec, "cmdline");
      p.smwatch_version = field_text(rec, "smwatch");
      p.targets.clear();
      if (rec.contains("targets") && rec["targets"].is_array())
        for (const auto& t : rec["targets"])
          if (t.is_string()) p.targets.push_back(t.get<std::string>());
      if (double t = field_double(rec, "time"); t > 0) p.start = t;
    } else if (type == "gpu") {
      p.gpus.push_back(std::move(rec));
    } else if (type == "module") {
      p.modules.push_back(std::move(rec));
    } else if (type == "failure") {
      p.failures.push_back(std::move(rec));
    } else if (type == "missing") {
      p.missing.push_back(std::move(rec));
    } else if (type == "runtime_kernel") {
      p.runtime_kernels.push_back(std::move(rec));
    } else if (type == "exit") {
      p.exit = std::move(rec);
    }
    // Other types come from newer shims: counted as records, otherwise skipped.
  }
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
    std::string text{std::istreambuf_iterator<char>(in), {}};
    add_report_text(report, text, file);
  }
  std::stable_sort(report.processes.begin(), report.processes.end(), [](const ProcessReport& a, const ProcessReport& b) {
    return a.start != b.start ? a.start < b.start : a.pid < b.pid;
  });
  judge_what_if(report);
  return report;
}

}  // namespace smwatch::cli
