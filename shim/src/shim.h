// Internal interfaces of libsmwatch.so, the LD_PRELOAD shim. Nothing here is
// exported: the version script (made from hooks.def) lets out only the hooked names.
//
// The parts:
//   libc_lookup.cc   glibc's real dlsym/dlvsym, found without calling dlsym
//   interpose.cc     dlsym/dlvsym trampolines, cuGetProcAddress, exported cu* hooks
//   hooks.def        the hooked driver functions, the one list of them
//   tracker.cc       what was loaded (judged with the inspector), kernels, launches
//   sink.cc          configuration, the JSONL report, log lines, fork and exit
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/record.h"

// Code on dlsym's pass-through path, which sanitizer runtimes enter while
// they initialise: no instrumentation there.
#define SMWATCH_EARLY __attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))

namespace smwatch::shim {

// ---- sink.cc -------------------------------------------------------------
enum class LogLevel : int { kQuiet = 0, kError = 1, kWarn = 2, kInfo = 3, kDebug = 4 };

struct Config {
  bool disabled = false;          // SMWATCH_DISABLE=1: pass everything through
  LogLevel log_level = LogLevel::kWarn;  // SMWATCH_LOG
  std::string report_dir;         // SMWATCH_REPORT
  std::vector<Target> targets;    // SMWATCH_TARGETS (what-if GPUs)
};
const Config& config();
void ensure_initialized();

// False once SMWATCH_DISABLE is set or an internal error turned the shim off.
bool active();
// Turns the shim off for the rest of the process after an internal error:
// from then on every hook only passes calls through.
void fail_open(const char* where, const char* what);

// Appends one record (smwatch/record.h) to this process's report as one line
// with a single write(2), whole or not at all: a record that does not fit
// (file size limit, full disk) is dropped and counted, and a partly written
// one is cut off again. Every record but the exit record keeps room for the
// exit record behind it, so a full disk still ends with one.
void write_record(const record::Record& record);
// Records dropped so far because they did not fit.
uint64_t records_dropped();
// One line on stderr, "smwatch: " + line, with every control character in
// `line` escaped (smwatch::printable): pass outside text in it as it is.
void log(LogLevel level, const std::string& line);
double now_seconds();

// ---- libc_lookup.cc ------------------------------------------------------
void* libc_symbol(const char* name);

// ---- interpose.cc --------------------------------------------------------
// The real driver entry point `name` (from the library that defines the
// hooked functions), for the shim's own queries (device attributes...).
void* real_driver_symbol(const char* name);
const char* error_name(CUresult result);

// ---- tracker.cc ----------------------------------------------------------
// The shared object or executable that holds `address`, "" when none.
std::string object_of(const void* address);
// Called by the hooks after the real call returned `result`.
void on_module_load(const char* call, void* handle, bool is_library, const void* image, const char* path,
                    const void* caller, CUresult result);
void on_module_unload(void* handle);
void on_kernel_lookup(const char* call, void* module_or_library, const char* name, void* kernel_or_function,
                      const void* caller, CUresult result);
// cuLibraryGetModule: the module handle stands for the same loaded code.
void on_library_module(void* library, void* module);
void on_kernel_get_function(void* kernel, void* function, CUresult result);
// The launch path: lock- and allocation-free for functions seen before.
void on_launch(const char* call, CUfunction function, CUresult result);
void write_exit_summary();
enum class ForkStage { kPrepare, kParent, kChild };
void tracker_fork(ForkStage stage);

// ---- image_reader.cc -------------------------------------------------------
// Its cache's lock, held across fork like the others (sink.cc).
void image_reader_fork(ForkStage stage);

}  // namespace smwatch::shim
