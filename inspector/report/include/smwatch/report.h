// Turning a scan into what people and programs read. The judgement (the
// model below, judge.cc), then one file per output under inspector/report/:
// table.cc, json.cc (docs/json-schema.md), markdown.cc, html.cc and
// cuobjdump_list.cc.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/container_image.h"
#include "smwatch/package_facts.h"
#include "smwatch/packages.h"
#include "smwatch/scan.h"
#include "smwatch/text.h"
#include "smwatch/verdict.h"
#include "smwatch/version.h"

namespace smwatch {

// ---- The judgement (judge.cc) ---------------------------------------------

// Exit status of smscan (documented in README.md and `smscan --help`).
enum ExitCode : int { kExitOk = 0, kExitFail = 1, kExitError = 2 };

struct TargetSummary {
  Target target;
  Verdict verdict = Verdict::kOk;
  size_t not_for_gpu = 0, ok = 0, jit = 0, partial = 0, fail = 0;  // files
  size_t kernels_jit = 0, kernels_fail = 0;  // kernels, when they were read
  // When files fail because the driver refuses their PTX: the driver to install.
  std::string driver_fix;
  size_t fail_by_driver = 0;  // failing files whose only code for the GPU is PTX the driver refuses
};

// The error the failing files' launches get on this target, for headlines:
// "no kernel image is available", or error 222 where the driver is too old
// for their PTX (or both).
std::string launch_error_text(const TargetSummary& summary);

// The files of one Python distribution (installed, or a wheel), judged together.
struct PackageGroup {
  Distribution dist;                   // empty name: files of no known distribution
  std::vector<size_t> files;           // indices into tree.files, with device code
  std::vector<Verdict> verdicts;       // [target]: the worst of its files
  std::vector<size_t> kernels_fail;    // [target]
};

struct ScanReport {
  TreeScan tree;
  std::vector<Target> targets;
  std::vector<std::vector<FileVerdict>> verdicts;  // [file][target]
  std::vector<std::vector<KernelRow>> kernels;     // [file]: every kernel, when kernels were read
  std::vector<TargetSummary> summaries;            // [target]
  std::vector<PackageGroup> packages;              // empty when no file belongs to a distribution
  std::vector<int> file_package;                   // [file]: index into packages, or -1
  Driver driver;                                   // the driver judged for; unknown: PTX JIT assumed to work
  size_t unreadable = 0;                           // files with read_error
  size_t damaged = 0;                              // files with problems
  std::vector<PackageFact> facts_used;             // package facts that decided a verdict, in first use
  std::string torch_cuda;                          // torch's CUDA version the facts used ("" unknown)
  bool kernels_read() const;
  bool strict = false;                             // PARTIAL exits 1 too (smscan --strict)
  ImageSummary image;                              // set when a container image was scanned: fixes name it
  // 2 when files could not be read in full, 1 when a file fails (or, when
  // strict, is partial), else 0.
  int exit_code() const;
};

// Judges every file for every target. With `packages`, files installed by a
// distribution (RECORD) or read from a wheel are grouped by it, and the
// package facts (package_facts.h) for each distribution's version apply.
struct JudgeOptions {
  const PackageIndex* packages = nullptr;
  const std::vector<PackageFact>* facts = nullptr;  // nullptr: builtin_package_facts()
  std::string torch_cuda;  // torch's CUDA version ("12.8"); "" : the installed torch's, if any
  // With a known driver, PTX newer than it cannot be JIT-compiled: it serves
  // no GPU, and the files that fail for that say which driver to install.
  Driver driver;
};
ScanReport judge(TreeScan tree, std::vector<Target> targets, const JudgeOptions& options);
ScanReport judge(TreeScan tree, std::vector<Target> targets, const PackageIndex* packages = nullptr,
                 const Driver& driver = {});

// The fix line for a package that FAILs on target `t`: what is missing, from
// what its files hold. A build whose code already reaches GPUs as new as the
// target (its toolkit can build for it) is told to add the target to the arch
// list, not to use a newer toolkit.
std::string package_fix(const ScanReport& report, const PackageGroup& group, size_t t);
// The same for all the files of the scan: the fix line of a target's summary.
std::string target_fix(const ScanReport& report, size_t t);

// ---- Outputs of a judged scan, one file each -------------------------------

// table.cc
struct TableStyle {
  bool color = false;
};
void print_table(std::ostream& out, const ScanReport& report, const TableStyle& style);

// json.cc
inline constexpr const char* kScanSchema = "smwatch.scan/1";
nlohmann::json to_json(const ScanReport& report);
// to_json(report).dump(2) and a newline, written file by file (flat memory).
void print_json(std::ostream& out, const ScanReport& report);
// value.dump(2) as it reads `depth` levels deep in a dump(2) document: how
// documents too big to hold are written a piece at a time (print_json,
// smwatch report --json). Invalid UTF-8 is replaced.
void write_json_at_depth(std::ostream& out, const nlohmann::json& value, int depth);

// markdown.cc: a summary for a CI comment (GitHub-flavoured Markdown).
void print_markdown(std::ostream& out, const ScanReport& report);

// html.cc: one self-contained page: inline CSS, no scripts, nothing fetched.
void print_html(std::ostream& out, const ScanReport& report);

// cuobjdump_list.cc: `cuobjdump --list-elf --list-ptx` for one file, line for line.
void print_cuobjdump_list(std::ostream& out, const FileScan& file);

// ---- The end of a command (exit_status.cc) ---------------------------------

// For smscan and smwatch: output that did not reach standard output (a full
// disk, a closed descriptor) is an error, said on stderr as
// "PROGRAM: error: cannot write to standard output: REASON", exit 2; else
// `rc`. `first_errno`: the reason of an earlier failed flush, when known.
int exit_after_stdout(const char* program, int rc, int first_errno = 0);

}  // namespace smwatch
