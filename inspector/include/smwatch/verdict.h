// Judging scanned device code against target GPUs.
//
// The CUDA runtime registers each fatbin container as one module and loads
// from it the best image for the GPU: SASS, else PTX to JIT-compile, else the
// module's kernels fail with "no kernel image is available". A container whose
// images are all architecture- or family-specific (sm_90a, sm_100f...) is code
// its library dispatches to only on those GPUs, so on other GPUs it is counted
// as "not for this GPU", not as a failure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/scan.h"

namespace smwatch {

enum class Verdict : uint8_t { kOk, kJit, kFail };
const char* verdict_name(Verdict v);  // "OK", "JIT", "FAIL"

// What one container offers one GPU.
enum class ContainerFit : uint8_t { kSass, kJit, kNone, kNotForThisGpu };
ContainerFit judge_container(const FatbinContainer& container, uint16_t target_cc);
bool is_specialized(const FatbinContainer& container);  // only 'a'/'f' images

struct FileVerdict {
  Verdict verdict = Verdict::kOk;
  size_t containers_sass = 0, containers_jit = 0, containers_none = 0, containers_not_for_gpu = 0;
  std::string reason;  // one line, for JIT and FAIL
};
FileVerdict judge_file(const FileScan& file, uint16_t target_cc);

Verdict worst(Verdict a, Verdict b);

// The architectures present, compact: "sm_75 sm_80 sm_90a(4) ptx:compute_90".
// A count follows an architecture that not every container has.
std::string compact_archs(const FileScan& file);

}  // namespace smwatch
