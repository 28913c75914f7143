// What to install instead, by package: the fixes that need knowledge of how
// packages are published (PyTorch's builds per CUDA line and their index,
// NVIDIA's wheels per CUDA major). The knowledge is data, the tables
// torch_builds, wheel_indexes and cuda_major_wheels of package_facts.json
// (docs/package-facts.md), each row with its source; smscan's judge and
// smwatch (explain, doctor, report) read it from here, the one copy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/result.h"

namespace smwatch {

// One PyTorch build line for a range of torch releases: its SASS spans
// sm_<cc_min> to sm_<cc_max>.
struct TorchBuild {
  std::string line;   // "cu128"
  std::string torch;  // the torch releases it holds for, as text ("2.8-2.10")
  int cc_min = 0, cc_max = 0;
  std::string source;
};
// Packages published once per CUDA line, each line on its own index
// (index + line: https://download.pytorch.org/whl/cu128).
struct WheelIndex {
  std::vector<std::string> packages;  // "torch", "torchvision"
  std::string index, says, source;
};
// Packages published once per CUDA major whose every release comes from one
// toolkit ("nvidia-": nvidia-cublas-cu12): a newer release is the fix.
struct CudaMajorWheels {
  std::string prefix, says, source;
};
struct PackageFixes {
  std::vector<TorchBuild> torch_builds;
  std::vector<WheelIndex> wheel_indexes;
  std::vector<CudaMajorWheels> cuda_major_wheels;
};

// Reads those tables of a package facts document; a row without a source,
// or with a field missing or wrong, is an error that names the table, the
// row and the field.
Result<PackageFixes> parse_package_fixes(std::string_view json_text);
// The tables built in (inspector/report/package_facts.json).
const PackageFixes& builtin_package_fixes();

// The index a package is published on per CUDA line ("torch":
// https://download.pytorch.org/whl/, to which the line is added), or "".
std::string wheel_index(std::string_view package, const PackageFixes& fixes = builtin_package_fixes());

// Whether a build runs on a GPU as SASS: some GPU of the table inside its
// range, one its line's CUDA can build for, has SASS that runs there (sm_120
// SASS runs on 12.1; a cu128 build has none for sm_110, first built by CUDA
// 13.0, though 110 lies inside 70..120).
bool torch_build_includes(const TorchBuild& build, uint16_t cc);
// The oldest PyTorch line whose builds, and those of every newer line,
// include the GPU ("cu128" for sm_120); "" when every line does (nothing to
// choose) or no line from some point on does.
std::string oldest_torch_line(uint16_t cc, const PackageFixes& fixes = builtin_package_fixes());

// A one-line fix for code that has nothing for this GPU: the toolkits that
// build for it, and the PyTorch line that includes it.
std::string fix_hint(uint16_t target_cc, const PackageFixes& fixes = builtin_package_fixes());
// The same for one Python distribution ("torch", "sgl-kernel") at the
// version it says of itself ("2.5.1+cu124", "12.8.4.1"): what to install
// instead, by name and release line.
std::string fix_hint(uint16_t target_cc, std::string_view package, std::string_view version = {},
                     const PackageFixes& fixes = builtin_package_fixes());

}  // namespace smwatch
