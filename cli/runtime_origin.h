// What-if judgement of kernels chosen or generated at run time (the shim's
// "runtime_kernel" records), done here so that the host pays nothing: each
// is judged against the device code of the library that loaded it.
#pragma once

#include "reports.h"

namespace smwatch::cli {

// For each runtime kernel of each process and each of its what-if targets:
// - the loading library defines the kernel (it copied the image out of its
//   own fatbins, as cuBLASLt does): missing on a target only when the library
//   has nothing at all for it (smscan's FAIL); a "missing" record is added,
//   with "origin": "copied from library";
// - the library does not define it (NVRTC, Triton, XLA, cuDNN's fusion
//   engine): generated for the GPU in use, never missing elsewhere.
// Counts go to ProcessReport::runtime_copied / runtime_generated.
void judge_runtime_kernels(MergedReport& report);

}  // namespace smwatch::cli
