// The shim's reports (smwatch/record.h), read and merged: one file per
// process, from one run or from many machines. Reading streams each file
// line by line and folds what repeats (module loads, failures, kernels), so
// memory grows with the distinct libraries and kernels, not with the records:
// a server that loads a module a million times is one line with a count.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "smwatch/record.h"

namespace smwatch::cli {

// The loads of one source (a library, a cubin, "<memory, loaded by X>") with
// one set of device code, in one process.
struct ModuleLoads {
  std::string source, archs, origin;
  std::map<std::string, std::string> verdicts;  // of its first load
  std::vector<std::string> problems;            // of its first load with any
  size_t loads = 0, failed = 0;
};

// Failure records of one process that say the same: call, error, kernel, library.
struct FailureGroup {
  record::Failure first;
  size_t count = 0;
};

// One process, as its report file tells it.
struct ProcessReport {
  std::string file;  // the report file it came from
  int64_t pid = 0, ppid = 0;
  double start = 0;  // time of the first record
  int format = 1;    // of its header (record::kFormatVersion)
  std::string exe, cmdline, smwatch_version;
  std::vector<std::string> targets;  // what-if targets it was run with
  std::vector<record::Gpu> gpus;
  std::vector<ModuleLoads> modules;  // by source and archs, in order of first load
  size_t module_loads = 0;
  std::vector<FailureGroup> failures;
  size_t failure_records = 0;
  // Failing look-ups of kernels built only for other GPUs, in libraries that
  // serve this GPU (record::Failure::built_for_other_gpus): handled by the
  // library when the process exited normally; finish_report() counts them as
  // failures when it did not.
  std::vector<FailureGroup> handled;
  size_t handled_records = 0;
  // The device code of each loaded object the shim summarised, by path.
  std::map<std::string, record::Library> libraries;
  std::vector<record::Missing> missing;               // distinct (target, kernel, library)
  std::vector<record::RuntimeKernel> runtime_kernels;  // distinct (kernel, loading library); what_if.h
  std::vector<record::Missing> partial;  // missing in one fatbin, served by others of its library
  // What-if misses that could not be judged: no record of the library's whole
  // device code (a shim from before `library` records) and its file is not
  // readable here. Never counted as failing.
  std::vector<record::Missing> unjudged;
  size_t runtime_from_library = 0, runtime_generated = 0, runtime_unjudged = 0;
  std::optional<record::Exit> exit;  // absent: the process crashed or was killed
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
  std::vector<ReportProblem> problems;   // at most kMaxProblemsPerFile per file, then a count
  size_t files = 0;           // report files read
  size_t garbage_lines = 0;   // lines that are not records
  size_t truncated_lines = 0; // a cut-off last line (the process died mid-write)
  size_t unreadable = 0;      // paths, files and directories not read, or not to the end (each in problems)
  size_t newer_records = 0;   // records of types a newer shim writes, skipped

  size_t failure_count() const;
  size_t missing_count() const;
  size_t module_count() const;
  // 2 something could not be read (unreadable > 0) or no record was found;
  // else 1 failures, or kernels missing for a what-if target; else 0
  // (docs/smwatch-command.md).
  int exit_code() const;
};

inline constexpr size_t kMaxProblemsPerFile = 20;
// The shim writes one process per file (a child reopens its own), so a file
// with records of more processes than this is not a shim's: the records of
// the others are skipped and the file counts as not read to the end. Memory
// then grows with the files, not with pids made up in one file.
inline constexpr size_t kMaxProcessesPerFile = 64;
// A longer line is not a record of this shim (its longest, the process
// header, holds at most 64 KiB of command line); it is skipped unread.
inline constexpr size_t kMaxRecordBytes = 1 << 20;

// Adds one report file; `name` names it in problems.
void add_report_stream(MergedReport& report, std::istream& in, const std::string& name);
void add_report_text(MergedReport& report, std::string_view text, const std::string& name);
// Puts the processes in order and judges the what-if targets (what_if.h):
// call once, after the last file.
void finish_report(MergedReport& report);
// Reads files and directories (recursively: every *.jsonl file; a file named
// on the command line is read whatever its name), then finish_report().
// Regular files only, opened without blocking and read no further than the
// size fstat gave; in a directory, a link is followed only to a file inside
// that directory. Whatever is not read is named in problems and counted in
// unreadable (docs/security.md).
MergedReport read_reports(const std::vector<std::string>& paths);

}  // namespace smwatch::cli
