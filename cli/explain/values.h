// The values a signature's templates can name besides its own captures and
// json fields. Each is listed once, here: the code sets it through the
// constant of that name (value::log_gpu), and the parser checks every
// {placeholder} against these lists. (Two values are the code's own and
// no template's: so_path, the library a finding's lines named, and severity,
// which capability-range sets to override the signature's.)
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smwatch::cli {

// From a "target" capture (an arch or GPU name), read with the GPU table
// (inspector/image/arch.cc, the one source of these facts).
#define SMWATCH_EXPLAIN_TARGET_VALUES(X)                                                          \
  X(sm, "the architecture: sm_120")                                                               \
  X(cc, "its compute capability: 12.0")                                                           \
  X(gpus, "the GPUs of that generation")                                                          \
  X(gpu_desc, "sm_120 (compute capability 12.0: RTX 50xx, ...)")                                  \
  X(first_cuda, "the first CUDA that builds for it")                                              \
  X(pytorch_line, "the first PyTorch wheel line that includes it: cu128")                         \
  X(fix_hint, "the GPU table's fix for code without it")

// Every signature has these: from the log's facts, the lines around the
// match, and the Python environment (--python).
#define SMWATCH_EXPLAIN_FINDING_VALUES(X)                                                         \
  X(package, "the distribution whose message this is (the signature's \"package\" unless captured)") \
  X(failing_package, "the distribution the failing code belongs to (frames, paths, torch.ops, library names)") \
  X(failing_where, "what named it: site-packages/xformers/ops/fmha/cutlass.py")                   \
  X(failing_in, "\" in <failing_package>\", or nothing")                                          \
  X(importer, "the module whose import failed (the frame above the error)")                       \
  X(importer_package, "its distribution")                                                         \
  X(log_gpu, "the GPU the log names: NVIDIA GeForce RTX 5090 (sm_120)")                           \
  X(log_sm, "its architecture: sm_120")                                                           \
  X(log_cc_digits, "its compute capability as digits: 120")                                       \
  X(versions, "versions the log printed: torch 2.6.0+cu126, driver 550.54 (supports CUDA 12.4)") \
  X(package_fix, "the replacement for code without this GPU's architecture (or: the driver first)") \
  X(container_fix, "in a container: the image to use instead of pip")                             \
  X(container_torch_fix, "container_fix where the failing code is torch's or unnamed")            \
  X(serving_fix, "SGLang advice that fits the failing package")                                   \
  X(library_cuda, "the CUDA major a library's name says: libcublas.so.12 -> 12")                 \
  X(library_cuda_major, "the same, for the wheel name")                                           \
  X(runtime_wheel, "the nvidia-* wheel that ships a missing library, or what to look for")       \
  X(bnb_cuda_text, "bitsandbytes' CUDA tag as a version: 129 -> 12.9")                            \
  X(env_note, "what --python's environment has installed and requires")                           \
  X(env_pin, "the pin that resolves a version mismatch, from the installed requirements")         \
  X(so_code, "what a library the log names holds here (explain on this machine: smscan's reading)")

// The readings in C++ that a signature can ask for ("derive"), each with the
// values it adds.
#define SMWATCH_EXPLAIN_RANGE_VALUES(X)                                                           \
  X(range_title, "PyTorch's capability warning, read: the title")                                 \
  X(range_cause, "the cause")                                                                     \
  X(range_fix, "the fix")                                                                         \
  X(range_verdict, "below, above, false-alarm or inside")                                         \
  X(older_line_fix, "the fix when the GPU is older than the build's oldest architecture")
#define SMWATCH_EXPLAIN_TENSORRT_VALUES(X)                                                        \
  X(trt_gpu, "the GPU TensorRT named")                                                            \
  X(trt_known, "\"The GPU is ...\" when known")                                                   \
  X(trt_fix, "the TensorRT release to use, from the knowledge table")
#define SMWATCH_EXPLAIN_INSTRUCTION_VALUES(X)                                                     \
  X(instr_cause, "why ptxas refused the instruction for the target")                              \
  X(instr_fix, "the target to build for")
#define SMWATCH_EXPLAIN_PTXAS_VALUES(X)                                                           \
  X(ptxas_cause, "which ptxas Triton ran and why it failed")                                      \
  X(ptxas_fix, "the ptxas or Triton to use")
#define SMWATCH_EXPLAIN_XFORMERS_VALUES(X)                                                        \
  X(xformers_cause, "why xformers' extensions do not load with this torch")                       \
  X(xformers_fix, "the torch or xformers to install")

namespace value {
#define SMWATCH_EXPLAIN_VALUE_CONSTANT(name, what) inline constexpr const char* name = #name;
SMWATCH_EXPLAIN_TARGET_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
SMWATCH_EXPLAIN_FINDING_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
SMWATCH_EXPLAIN_RANGE_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
SMWATCH_EXPLAIN_TENSORRT_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
SMWATCH_EXPLAIN_INSTRUCTION_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
SMWATCH_EXPLAIN_PTXAS_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
SMWATCH_EXPLAIN_XFORMERS_VALUES(SMWATCH_EXPLAIN_VALUE_CONSTANT)
#undef SMWATCH_EXPLAIN_VALUE_CONSTANT
inline constexpr const char* demangled = "demangled";  // with "demangle": the C++ name, readable
}  // namespace value

#define SMWATCH_EXPLAIN_VALUE_NAME(name, what) #name,
inline constexpr const char* kTargetValues[] = {SMWATCH_EXPLAIN_TARGET_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
inline constexpr const char* kFindingValues[] = {SMWATCH_EXPLAIN_FINDING_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
inline constexpr const char* kRangeValues[] = {SMWATCH_EXPLAIN_RANGE_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
inline constexpr const char* kTensorrtValues[] = {SMWATCH_EXPLAIN_TENSORRT_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
inline constexpr const char* kInstructionValues[] = {SMWATCH_EXPLAIN_INSTRUCTION_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
inline constexpr const char* kPtxasValues[] = {SMWATCH_EXPLAIN_PTXAS_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
inline constexpr const char* kXformersValues[] = {SMWATCH_EXPLAIN_XFORMERS_VALUES(SMWATCH_EXPLAIN_VALUE_NAME)};
#undef SMWATCH_EXPLAIN_VALUE_NAME

// A signature's "derive": its name in signatures.json and the values it adds.
enum class Derive { kNone, kCapabilityRange, kTensorrtSm, kArchSpecificInstruction, kTritonPtxas, kXformersTorch };
struct DeriveInfo {
  Derive kind;
  std::string_view name;
  std::span<const char* const> values;
};
inline constexpr DeriveInfo kDerives[] = {
    {Derive::kCapabilityRange, "capability-range", kRangeValues},
    {Derive::kTensorrtSm, "tensorrt-sm", kTensorrtValues},
    {Derive::kArchSpecificInstruction, "arch-specific-instruction", kInstructionValues},
    {Derive::kTritonPtxas, "triton-ptxas", kPtxasValues},
    {Derive::kXformersTorch, "xformers-torch", kXformersValues},
};

// Templates: "{name}" is a value, "{first|second|'literal'}" the first
// non-empty of them. The names a template refers to, for checking.
std::vector<std::string> placeholders(const std::string& tmpl);
// Fills a template; a value that is missing or empty reads "(unknown)".
std::string expand(const std::string& tmpl, const std::map<std::string, std::string>& values);

}  // namespace smwatch::cli
