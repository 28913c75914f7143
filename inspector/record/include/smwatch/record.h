// The shim's report records: the one definition shared by their writer
// (libsmwatch.so) and their readers (smwatch report / run, tests). A report
// file is JSON Lines, one record per line; its first record, `process`, is
// the header and carries the format version. docs/report-format.md says what
// each field means; this header is what the code agrees on.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace smwatch::record {

// Raised when a field changes meaning or goes away; new optional fields do
// not raise it (readers ignore fields they do not know). A file without a
// "format" field was written by a shim from before the field: format 1.
inline constexpr int kFormatVersion = 1;

// Values of Module::origin.
inline constexpr const char* kOriginFile = "file";        // registered from a loaded object's .nv_fatbin
inline constexpr const char* kOriginRuntime = "runtime";  // chosen or generated at run time

// Fields every record has.
struct Common {
  int64_t pid = 0;
  double time = 0;  // seconds since the epoch
};

// The header: the first record of a file.
struct Process : Common {
  int format = kFormatVersion;
  int64_t ppid = 0;
  std::string exe, cmdline;  // cmdline: arguments joined by spaces (an array is accepted on reading)
  std::string smwatch;       // the shim's version
  std::vector<std::string> targets;  // what-if targets, "sm_120"
};

struct Gpu : Common {
  int ordinal = 0;
  std::string name, cc, arch;  // cc "9.0", arch "sm_90"
  int driver = 0;              // CUDA version the driver supports, 13000 = 13.0
};

struct Module : Common {
  std::string call, handle;
  bool library = false;  // a CUlibrary (cuLibraryLoad*), else a CUmodule
  std::string source, caller, archs, origin;
  std::map<std::string, std::string> verdicts;  // "sm_90" -> OK | JIT | PARTIAL | FAIL | UNKNOWN
  int result = 0;
  std::string result_name;
  std::vector<std::string> problems;
};

struct Failure : Common {
  std::string call;
  int error = 0;
  std::string error_name, kernel, mangled, source, archs, gpu_arch, caller, fix;
  // A look-up (cuLibraryGetKernel, cuModuleGetFunction) that failed with 209
  // for a kernel whose code is only for other GPUs ('a'/'f' code, or missing
  // from the image this GPU loads), in a library that has code for this GPU:
  // the library asked on purpose (NCCL's sm_100f-only fp8 kernels on an H100)
  // and can go on. `smwatch report` shows it as a handled look-up when the
  // process exited normally, as a failure when it did not. Written only when true.
  bool built_for_other_gpus = false;
};

struct Missing : Common {
  std::string target, kernel, mangled, source, archs;
  std::string origin;  // set by readers that judged it (smwatch report), never by the shim
};

struct RuntimeKernel : Common {
  std::string kernel, mangled, source, caller, archs;
};

// The device code of a whole loaded object (every container of its fatbin
// sections, headers only), once per object the shim meets as the source of a
// registered module or as the loader of a run-time one: what `smwatch report`
// judges what-if targets against, so that it needs no library file and gives
// the same answer on any machine.
struct Library : Common {
  std::string path;
  std::string archs;   // compact, as smscan
  uint64_t fatbins = 0;  // containers with code; 0: the object holds no device code
  std::map<std::string, std::string> verdicts;  // GPU and what-if targets: OK | JIT | PARTIAL | FAIL
  std::vector<std::string> problems;
};

struct Exit : Common {
  uint64_t launches = 0, modules = 0, kernels_used = 0, failures = 0, runtime_kernels = 0;
  uint64_t handled_lookups = 0;  // failing look-ups of kernels built for other GPUs (Failure::built_for_other_gpus)
  uint64_t repeated_failures = 0, unreported_failures = 0, dropped_records = 0;
  std::map<std::string, uint64_t> missing;  // what-if target -> kernels used without code there
};

using Record = std::variant<Process, Gpu, Module, Failure, Missing, RuntimeKernel, Library, Exit>;

// The record's "type" field: "process", "gpu", "module", ...
std::string_view type_name(const Record& record);

// The record as a JSON object, "type" included.
nlohmann::json to_json(const Record& record);
// One line of a report: to_json() as text, no newline. Text that is not
// UTF-8 (paths, kernel names) is written with U+FFFD in its place.
std::string encode(const Record& record);

enum class Strictness {
  kTolerant,  // fields this reader does not know are ignored (a newer shim)
  kStrict,    // they are an error: the tests hold the shim to this contract
};

enum class DecodeError {
  kNone,
  kNotJson,      // not JSON text (or cut off)
  kNotObject,    // JSON, but not an object
  kNoType,       // no string "type"
  kBadField,     // a field of the wrong type (or, strictly, one the record lacks)
  kUnknownType,  // a type this reader does not know: tolerant readers skip it
};

struct Decoded {
  std::optional<Record> record;  // absent: see code
  DecodeError code = DecodeError::kNone;
  std::string type;   // the "type" field when there was one
  std::string error;  // why there is no record, for people
};

// Reads one line. Fields a record lacks keep their defaults (older shims
// wrote fewer); null counts as absent. Never throws.
Decoded decode(std::string_view line, Strictness strictness = Strictness::kTolerant);

}  // namespace smwatch::record
