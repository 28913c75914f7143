// The what-if judgement that needs a library's whole device code, done here
// (smwatch report, smwatch run's summary) so that the host pays nothing.
#pragma once

#include "model.h"

namespace smwatch::cli {

// For each process and each of its what-if targets:
// - kernels chosen or generated at run time (the shim's "runtime_kernel"
//   records): when the library that loaded the image has device code of its
//   own (cuBLASLt copying a cubin out of its fatbins), the kernel is missing on
//   a target only if that library has nothing for it (smscan's FAIL), and a
//   missing record with origin "chosen at run time by its library" is
//   added; when it has none (NVRTC through CuPy, Triton, XLA), the code was
//   generated for the GPU present and is never missing elsewhere;
// - kernels the shim found missing in a registered fatbin: when other
//   fatbins of the same file have code for the target (smscan's PARTIAL: the
//   library picks kernels per GPU, as cuSOLVER does), the record moves from
//   `missing` to `partial`, which is not counted as a failure.
// A library is judged from the records first (its `library` record: the
// shim's summary of the whole object; else its registered modules in the
// same process), so the answer is the same on any machine; only reports of
// older shims fall back to the file, when it is here. What cannot be judged
// goes to ProcessReport::unjudged ("library not readable here"), never to
// `missing`.
// Counts go to ProcessReport::runtime_from_library / runtime_generated / runtime_unjudged.
void judge_what_if(MergedReport& report);

// The origin of an unjudged what-if miss.
inline constexpr const char* kLibraryNotReadable = "library not readable here";

}  // namespace smwatch::cli
