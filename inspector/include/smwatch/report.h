// Turning a scan into what people and programs read: the table, the JSON
// document (docs/json-schema.md), and the cuobjdump-compatible listing.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/scan.h"
#include "smwatch/verdict.h"

namespace smwatch {

inline constexpr const char* kVersion = "0.1.0";
inline constexpr const char* kScanSchema = "smwatch.scan/1";

// Exit status of smscan (documented in README.md and `smscan --help`).
enum ExitCode : int { kExitOk = 0, kExitFail = 1, kExitError = 2 };

struct TargetSummary {
  Target target;
  Verdict verdict = Verdict::kOk;
  size_t ok = 0, jit = 0, fail = 0;
};

struct ScanReport {
  TreeScan tree;
  std::vector<Target> targets;
  std::vector<std::vector<FileVerdict>> verdicts;  // [file][target]
  std::vector<TargetSummary> summaries;            // [target]
  size_t unreadable = 0;                           // files with read_error
  size_t damaged = 0;                              // files with problems
  int exit_code() const;
};

ScanReport judge(TreeScan tree, std::vector<Target> targets);

struct TableStyle {
  bool color = false;
};
void print_table(std::ostream& out, const ScanReport& report, const TableStyle& style);
nlohmann::json to_json(const ScanReport& report);

// `cuobjdump --list-elf --list-ptx` for one file, line for line.
void print_cuobjdump_list(std::ostream& out, const FileScan& file);

}  // namespace smwatch
