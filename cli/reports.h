// Reading and merging the shim's JSON Lines reports (docs/report-format.md):
// one file per process, from one run or from many machines.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smwatch::cli {

// One process, as its report file tells it. Records are kept as JSON objects
// so that fields added by later shim versions are carried along, not lost.
struct ProcessReport {
  std::string file;  // the report file it came from
  int64_t pid = 0, ppid = 0;
  double start = 0;  // time of the first record
  std::string exe, cmdline, smwatch_version;
  std::vector<std::string> targets;  // what-if targets it was run with
  std::vector<nlohmann::json> gpus, modules, failures, missing;
  std::vector<nlohmann::json> runtime_kernels;  // chosen or generated at run time (runtime_origin.h)
  std::vector<nlohmann::json> partial;  // missing in one fatbin, served by others of its library
  size_t runtime_from_library = 0, runtime_generated = 0;
  std::optional<nlohmann::json> exit;  // absent: the process crashed or was killed
  size_t records = 0;
};

// A line that could not be used, with where it is.
struct ReportProblem {
  std::string file;
  size_t line = 0;  // 1-based; 0 = the file as a whole
  std::string reason;
};

struct MergedReport {
  std::vector<ProcessReport> processes;  // ordered by start time, then pid
  std::vector<ReportProblem> problems;
  size_t files = 0;           // report files read
  size_t garbage_lines = 0;   // lines that are not records
  size_t truncated_lines = 0; // a cut-off last line (the process died mid-write)
  size_t unreadable = 0;      // files or paths that could not be read at all

  size_t failure_count() const;
  size_t missing_count() const;
  size_t module_count() const;
  // 0 nothing failed; 1 failures, or kernels missing for a what-if target;
  // 2 no report could be read (docs/smwatch-command.md).
  int exit_code() const;
};

// Adds one report file's text; `name` names it in problems.
void add_report_text(MergedReport& report, std::string_view text, const std::string& name);
// Reads files and directories (recursively: every *.jsonl file; a file named
// on the command line is read whatever its name) and merges them.
MergedReport read_reports(const std::vector<std::string>& paths);

// Helpers for the renderers: a field as text, whatever its JSON type.
std::string field_text(const nlohmann::json& record, const char* key);

}  // namespace smwatch::cli
