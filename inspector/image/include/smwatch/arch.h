// GPU architectures: names, the table of GPUs, and the rules that say which
// device code runs on which GPU. The one place in smwatch that knows these facts.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/result.h"

namespace smwatch {

// 'a' (sm_90a) code runs on exactly one compute capability, 'f' (sm_100f,
// CUDA 12.9+) on the later minors of one major; generic code follows the
// ordinary rules.
enum class ArchVariant : uint8_t { kGeneric, kArchSpecific, kFamilySpecific };

// An architecture as device code names it: number = 10 * major + minor,
// so sm_86 is 86 and sm_120 is 120.
struct Arch {
  uint16_t number = 0;
  ArchVariant variant = ArchVariant::kGeneric;

  int major() const { return number / 10; }
  int minor() const { return number % 10; }
  std::string suffix() const;        // "", "a" or "f"
  std::string sm_name() const;       // "sm_90a"
  std::string compute_name() const;  // "compute_90a"
  auto operator<=>(const Arch&) const = default;
};

// A GPU to judge code for: its compute capability, as 10 * major + minor.
struct Target {
  uint16_t cc = 0;
  std::string label;  // what the user wrote, or the GPU's name
  int major() const { return cc / 10; }
  int minor() const { return cc % 10; }
  std::string sm_name() const { return "sm_" + std::to_string(cc); }
  std::string cc_string() const { return std::to_string(major()) + "." + std::to_string(minor()); }
};

// One row of the GPU table.
struct GpuGeneration {
  uint16_t cc;
  const char* first_cuda;      // first CUDA toolkit that compiles for it
  const char* gpus;            // comma-separated names; "xx" matches any two digits
  const char* last_cuda = "";  // last CUDA major that compiles for it ("" = every current one)
};
std::span<const GpuGeneration> gpu_table();
const GpuGeneration* find_generation(uint16_t cc);

// ---- Drivers and PTX ISA versions -------------------------------------------
// A driver JIT-compiles only PTX whose ISA version (".version 9.0") it knows,
// that of its own CUDA release or older; newer PTX fails to load with 222,
// CUDA_ERROR_UNSUPPORTED_PTX_VERSION. CUDA versions are written as
// cuDriverGetVersion gives them: 1000 * major + 10 * minor (12080 = 12.8).

// The CUDA release that introduced a PTX ISA version (8.7 -> 12080), or 0
// when it is not in the table.
int cuda_for_ptx_isa_version(uint16_t major, uint16_t minor);
// The same as text ("12.8"), or "" when unknown.
std::string cuda_for_ptx_isa(uint16_t major, uint16_t minor);
std::string cuda_version_name(int cuda);  // 12080 -> "12.8"

// The driver that will run the code, when known (smscan --driver, or the
// driver of this machine). `cuda` 0 = unknown: nothing is judged by it.
struct Driver {
  int cuda = 0;            // the newest CUDA release it supports
  bool at_least = false;   // a driver version newer than the table knows: it supports `cuda` or more
  std::string label;       // as given: "12.4", "570.86", "CUDA 13.0 (this machine)"
  bool known() const { return cuda > 0; }
};
// "12.8" or "13.0" (a CUDA version), "570.86" or "580.65.06" (a Linux driver
// version, from NVIDIA's table of the minimum driver of each CUDA release).
Result<Driver> parse_driver(std::string_view text);
// From cuDriverGetVersion's answer (13000); unknown for 0.
Driver driver_from_cuda_version(int cuda_version, std::string label);
// The oldest Linux x86-64 driver of a CUDA release or a later one ("580.65.06"
// for 13000; the 12.8 one for 12070, a release never published), or "".
std::string linux_driver_for_cuda(int cuda);

enum class DriverJit : uint8_t { kYes, kNo, kUnknown };
// Whether `driver` JIT-compiles PTX of this ISA version: kUnknown when the
// driver is unknown, or the ISA is newer than the table and the driver may
// know it.
DriverJit driver_jits(const Driver& driver, uint16_t isa_major, uint16_t isa_minor);
// What to install for PTX of this ISA version: "an NVIDIA driver for CUDA
// 13.0 or newer (Linux 580.65.06 or newer)".
std::string driver_fix(uint16_t isa_major, uint16_t isa_minor);

// "sm_90a", "compute_100f", "sm_120", "120", "12.0", "90a".
Result<Arch> parse_arch(std::string_view text);
// Everything parse_arch takes, or a GPU name: "RTX 5090", "H100", "B200", "GB10".
Result<Target> parse_target(std::string_view text);
// The target when none is given and this machine has no GPU: sm_120, the
// newest consumer GPU (smscan's default, doctor's what-if).
Target default_target();

// The GPUs of this machine as targets, or why there are none. The image layer
// cannot ask the driver: the files layer's native_targets() (native.h) can.
using NativeTargets = std::function<Result<std::vector<Target>>()>;

// The one reader of target lists (smscan -t, smwatch run -t, smwatch doctor
// -t, SMWATCH_TARGETS). Each spec is a comma-separated list of what
// parse_target takes, or "native" (every GPU `native` finds); spaces around
// items are ignored, empty items skipped, a compute capability named twice is
// kept once (the first naming). With no specs at all: the default - the GPUs
// `native` finds, else default_target(). Errors: an unknown target, "native"
// without `native` or when it finds no GPU, and specs that name nothing.
Result<std::vector<Target>> resolve_targets(const std::vector<std::string>& specs, const NativeTargets& native = {});
// resolve_targets of one spec, without "native" (the shim's SMWATCH_TARGETS).
Result<std::vector<Target>> parse_target_list(std::string_view text);

// The kinds of image a fatbin holds. LTO-IR (nvcc code=lto_XY, entry kind 8)
// is NVVM IR that the library links for the GPU in the process with
// nvJitLink, like PTX the driver JITs (cuFFT 12 keeps thousands of lto_75
// entries and runs on every GPU from sm_75 on).
enum class CodeKind : uint8_t { kSass, kPtx, kLtoIr };

// How a GPU can use one image.
enum class Usability : uint8_t {
  kNone,  // the image cannot serve this GPU
  kJit,   // PTX the driver can JIT-compile for it (slow first launch)
  kSass,  // machine code that runs as is
};

// The compatibility rules (facts doc section 3, checked by tests/unit/arch_test.cc):
// SASS sm_XY runs on X.Z for Z >= Y; sm_XYa only on X.Y; sm_XYf like sm_XY.
// PTX compute_XY JITs on any CC >= X.Y; compute_XYa only on X.Y;
// compute_XYf on X.Z for Z >= Y. LTO-IR follows the PTX rules.
Usability usability(CodeKind kind, Arch arch, uint16_t target_cc);

// A one-line fix for code that has nothing for this GPU, from the GPU table
// alone: the CUDA toolkits that build for it. `also` is inserted before the
// advice for source builds (smwatch/package_fix.h's fix_hint adds what the
// package facts know of PyTorch's builds there; the shim, which has no
// package facts, gives this alone).
std::string toolkit_fix_hint(uint16_t target_cc, std::string_view also = {});
// "12.8" -> 12080 (as cuDriverGetVersion counts), 0 when it is not a version.
int cuda_version_number(std::string_view version);
// The same for code inside a container image (`image` as the user named it):
// the fix is another image, not a pip install. `package` may be empty.
std::string image_fix_hint(uint16_t target_cc, std::string_view image, std::string_view package = {},
                           std::string_view version = {});

}  // namespace smwatch
