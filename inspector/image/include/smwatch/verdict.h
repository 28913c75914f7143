// The judge: what a GPU can run of some device code. The one place that
// decides, for smscan (a file's containers) and the shim (a module's).
// docs/verdicts.md says what each verdict promises, with real examples.
//
// The driver loads one image per container (module): SASS that runs on the
// GPU, else PTX (or LTO-IR) that is compiled for it, else nothing, and then
// every kernel of that container fails with "no kernel image is available".
// Libraries such as cuBLASLt, cuDNN, cuSOLVER and cuFFT keep containers built
// for one GPU family on purpose and load them only there; so a file whose
// main code serves a GPU is PARTIAL there when other containers cannot: their
// kernels fail if called on that GPU. A file fails when nothing serves the
// GPU, or when only side containers do (PTX in one fatbin) while the file's
// main code, built for its full list of architectures, has nothing for it.
// Code built for other GPUs on purpose ('a'/'f' code only) is not a failure:
// the file is "not for this GPU" (N/A) and the package decides whether to
// load it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/fatbin.h"

namespace smwatch {

// Ordered from best to worst; worst() of two is the larger. kNotForGpu, code
// built only for other GPUs, is the least: a package with one file for the GPU
// and one not for it is OK, and only a package with nothing for it is N/A.
enum class Verdict : uint8_t { kNotForGpu, kOk, kJit, kPartial, kFail };
const char* verdict_name(Verdict v);  // "N/A", "OK", "JIT", "PARTIAL", "FAIL"
Verdict worst(Verdict a, Verdict b);

// What one container, or one kernel of it, offers one GPU.
enum class ContainerFit : uint8_t {
  kSass,  // machine code that runs
  kJit,   // only PTX (or LTO-IR) that is compiled for this GPU first
  kNone,  // nothing: fails with "no kernel image is available"
  // Not built for this GPU, so nothing asks for it there: 'a'/'f' code for
  // other GPUs, or a kernel missing from the image this GPU would load (code
  // guarded by __CUDA_ARCH__, such as torch's int4 tinygemm on sm_75).
  kNotForThisGpu,
};
ContainerFit judge_container(const FatbinContainer& container, uint16_t target_cc);
bool is_specialized(const FatbinContainer& container);  // only 'a'/'f' images

// Kernel by kernel (when every image's kernel names were read): the images of
// one container may define different kernels, and a kernel is there for a GPU
// only in the images the driver would choose from for it.
struct ContainerKernel {
  std::string_view mangled;      // points into the container's images: valid while it lives
  std::vector<uint16_t> images;  // indices into FatbinContainer::images, in order
};
bool kernels_known(const FatbinContainer& container);
// The kernels of a container in first-seen order, each with its images.
std::vector<ContainerKernel> container_kernels(const FatbinContainer& container);
ContainerFit judge_kernel(const FatbinContainer& container, const ContainerKernel& kernel, uint16_t target_cc);
// One kernel name over a module's containers (what the shim asks at a lookup):
// the worst fit of the containers that define it; the containers' own fit
// when no container's names are known; kNotForThisGpu when none defines it.
ContainerFit judge_kernel_name(std::span<const FatbinContainer> containers, std::string_view mangled,
                               uint16_t target_cc);
// Two fits of the same kernel name folded into one: the worst that can reach
// the GPU wins, and "not for this GPU" only when both are.
ContainerFit combine_fits(ContainerFit a, ContainerFit b);
Verdict verdict_of(ContainerFit fit);  // kNotForThisGpu is N/A: nothing will ask for it

// The verdict on some device code (a file's containers, a module's) for one GPU.
struct CodeVerdict {
  Verdict verdict = Verdict::kOk;
  // Containers with kernels, by what they offer the GPU.
  size_t containers_sass = 0, containers_jit = 0, containers_none = 0, containers_not_for_gpu = 0;
  // Kernel counts (distinct mangled names), when every image's kernels were read.
  bool by_kernel = false;
  size_t kernels = 0, kernels_jit = 0, kernels_none = 0, kernels_not_for_gpu = 0;
  std::string reason;  // one line, for N/A, JIT, PARTIAL and FAIL
  // The id of the package fact that decided the verdict (set by the report
  // layer's judge, docs/package-facts.md); empty when the code alone did.
  std::string fact;
};
using FileVerdict = CodeVerdict;
CodeVerdict judge_code(std::span<const FatbinContainer> containers, uint16_t target_cc);

// One kernel, merged over the containers that define it.
struct KernelRow {
  std::string mangled;
  std::vector<Arch> sass, ptx;     // sorted, distinct
  std::vector<ContainerFit> fits;  // per target, as given to judge_kernels
};
// Every kernel (sorted by mangled name) with its fit per target; empty unless
// kernels were read.
std::vector<KernelRow> judge_kernels(std::span<const FatbinContainer> containers,
                                     const std::vector<uint16_t>& target_ccs);

// The architectures present, compact: "sm_75 sm_80 sm_90a(4) ptx:compute_90".
// A count follows an architecture that not every container has.
std::string compact_archs(std::span<const FatbinContainer> containers);

}  // namespace smwatch
