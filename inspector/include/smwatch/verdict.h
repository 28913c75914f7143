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

// Kernel by kernel (when the scan read kernel names, ScanOptions::kernels):
// the images of one container may define different kernels (sm_90a or
// sm_100a images often add their own), and the driver looks each kernel up
// separately. Kernel K of container C runs on a GPU if an image of C that
// defines K has SASS for it, JITs if only PTX defining K serves, and is
// "not for this GPU" when every image defining K is 'a'/'f' code for others.
struct ContainerKernel {
  std::string mangled;
  std::vector<uint16_t> images;  // indices into FatbinContainer::images, in order
};
// True when every image of the container had its kernel names read.
bool kernels_known(const FatbinContainer& container);
// The kernels of a container in first-seen order, each with its images.
std::vector<ContainerKernel> container_kernels(const FatbinContainer& container);
ContainerFit judge_kernel(const FatbinContainer& container, const ContainerKernel& kernel, uint16_t target_cc);
// Two fits of the same code folded into one: the worst that can reach the
// GPU wins, and "not for this GPU" only when both are.
ContainerFit combine_fits(ContainerFit a, ContainerFit b);

struct FileVerdict {
  Verdict verdict = Verdict::kOk;
  size_t containers_sass = 0, containers_jit = 0, containers_none = 0, containers_not_for_gpu = 0;
  // Kernel counts (distinct mangled names in the file), when kernels were read.
  bool by_kernel = false;
  size_t kernels = 0, kernels_jit = 0, kernels_none = 0, kernels_not_for_gpu = 0;
  std::string reason;  // one line, for JIT and FAIL
};
FileVerdict judge_file(const FileScan& file, uint16_t target_cc);

// One kernel of a file, merged over the containers that define it.
struct KernelRow {
  std::string mangled;
  std::vector<Arch> sass, ptx;     // sorted, distinct
  std::vector<ContainerFit> fits;  // per target, as given to judge_kernels
};
// Every kernel of a file (sorted by mangled name) with its fit per target;
// empty unless kernels were read.
std::vector<KernelRow> judge_kernels(const FileScan& file, const std::vector<uint16_t>& target_ccs);
Verdict verdict_of(ContainerFit fit);  // kNotForThisGpu counts as OK: nothing will ask for it

Verdict worst(Verdict a, Verdict b);

// The architectures present, compact: "sm_75 sm_80 sm_90a(4) ptx:compute_90".
// A count follows an architecture that not every container has.
std::string compact_archs(const FileScan& file);

}  // namespace smwatch
