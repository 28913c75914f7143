// What every output format of `smwatch report` shows: the merged report
// folded across processes (failures by what failed, what-if misses by
// kernel), and the phrases the formats share.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model.h"

namespace smwatch::cli {

// The same failure in many processes.
struct FailureSummary {
  record::Failure first;
  std::vector<int64_t> pids;
  size_t count = 0;
};

// The same kernel without code for a what-if target, in many processes.
struct MissingSummary {
  record::Missing first;
  std::vector<int64_t> pids;
};

struct Summary {
  std::vector<std::string> gpus;  // "NVIDIA H100 (sm_90, CC 9.0), driver supports CUDA 13.0"
  std::vector<FailureSummary> failures;                    // by error, kernel, library
  std::vector<FailureSummary> handled;  // look-ups of kernels built for other GPUs, handled (never at fault)
  size_t handled_count = 0;
  std::map<std::string, std::vector<MissingSummary>> missing;  // target -> by kernel, library
  std::map<std::string, std::vector<MissingSummary>> unjudged;  // target -> ...: library not readable here
  std::vector<std::string> libraries_at_fault;
  size_t crashed = 0;  // processes without an exit record
  size_t partial = 0, runtime_from_library = 0, runtime_generated = 0, runtime_unjudged = 0;
};

Summary summarize(const MergedReport& report);

// The one-line verdict: processes, modules, failures, what-if misses...
std::string headline(const MergedReport& report, const Summary& summary);
// The kernel's readable name: the record's, else its mangled name demangled.
std::string kernel_name(const std::string& kernel, const std::string& mangled);
// The fix for a failure: the shim's, else the GPU table's.
std::string fix_of(const record::Failure& failure);
std::string what_if_fix(const std::string& target);
// "101 102 (+3)": the first pids of a group.
std::string pid_list(const std::vector<int64_t>& pids);
// "sm_90 OK, sm_120 FAIL": a module's verdicts.
std::string verdicts_text(const ModuleLoads& module);

}  // namespace smwatch::cli
