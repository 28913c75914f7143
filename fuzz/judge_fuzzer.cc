// The judge (verdict.h) over containers built from the input: several
// containers whose images share kernel names from a small alphabet, every
// architecture, kind and variant. Checks, beside ASan/UBSan: the counts are
// the distinct names (the class of judge_file's old dangling keys: one name
// in two containers), a second judgement of the same containers agrees, and
// FAIL/PARTIAL follow their definitions container by container.
#include <set>
#include <string>
#include <vector>

#include "common.h"
#include "smwatch/verdict.h"

namespace {

using namespace smwatch;

constexpr const char* kNames[] = {"_Z1av", "_Z1bv", "k_c", "_Z5scaleIfEvPT_", "k_e", "_Z1fv", "g", "h"};
constexpr uint16_t kArchs[] = {50, 70, 75, 80, 86, 89, 90, 100, 103, 110, 120, 121};

std::vector<FatbinContainer> build(const uint8_t* data, size_t size) {
  std::vector<FatbinContainer> containers;
  const unsigned count = 1 + fuzz::take<uint8_t>(data, size) % 6;
  for (unsigned c = 0; c < count && size > 0; ++c) {
    FatbinContainer container;
    const unsigned images = fuzz::take<uint8_t>(data, size) % 5;
    const bool named = fuzz::take<uint8_t>(data, size) % 4 != 0;  // sometimes names unknown
    for (unsigned i = 0; i < images && size > 0; ++i) {
      FatbinImage image;
      const uint8_t shape = fuzz::take<uint8_t>(data, size);
      image.kind = shape % 3 == 0 ? CodeKind::kPtx : shape % 7 == 0 ? CodeKind::kLtoIr : CodeKind::kSass;
      image.arch.number = kArchs[(shape >> 2) % std::size(kArchs)];
      const uint8_t variant = fuzz::take<uint8_t>(data, size);
      image.arch.variant = variant % 5 == 0 ? ArchVariant::kArchSpecific
                           : variant % 7 == 0 ? ArchVariant::kFamilySpecific
                                              : ArchVariant::kGeneric;
      if (named && image.kind != CodeKind::kLtoIr) {
        const uint8_t mask = fuzz::take<uint8_t>(data, size);
        for (unsigned k = 0; k < std::size(kNames); ++k)
          if (mask & (1u << k)) image.kernels.push_back(kNames[k]);
        image.kernels_read = true;
      }
      container.images.push_back(std::move(image));
    }
    containers.push_back(std::move(container));
  }
  return containers;
}

bool same(const CodeVerdict& a, const CodeVerdict& b) {
  return a.verdict == b.verdict && a.kernels == b.kernels && a.kernels_none == b.kernels_none &&
         a.kernels_jit == b.kernels_jit && a.kernels_not_for_gpu == b.kernels_not_for_gpu &&
         a.containers_none == b.containers_none && a.containers_sass == b.containers_sass && a.reason == b.reason;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<FatbinContainer> containers = build(data, size);
  std::set<std::string> names;
  for (const auto& c : containers)
    if (kernels_known(c))
      for (const auto& image : c.images) names.insert(image.kernels.begin(), image.kernels.end());
  std::vector<uint16_t> targets(std::begin(kArchs), std::end(kArchs));
  const auto rows = judge_kernels(containers, targets);
  if (rows.size() != names.size()) std::abort();
  for (size_t t = 0; t < targets.size(); ++t) {
    const uint16_t cc = targets[t];
    const CodeVerdict v = judge_code(containers, cc);
    if (!same(v, judge_code(containers, cc))) std::abort();  // no state left behind
    if (v.by_kernel && v.kernels != names.size()) std::abort();
    size_t served = 0, none = 0, other = 0;
    for (const auto& c : containers) {
      if (c.images.empty()) continue;
      if (kernels_known(c) && container_kernels(c).empty()) continue;  // defines nothing to launch
      const ContainerFit fit = judge_container(c, cc);
      served += fit == ContainerFit::kSass || fit == ContainerFit::kJit;
      none += fit == ContainerFit::kNone;
      other += fit == ContainerFit::kNotForThisGpu;
    }
    // FAIL: nothing serves and something has no code for the GPU, or only
    // side containers serve (the main code does not); N/A: only code built
    // for other GPUs; PARTIAL: something serves and something does not.
    if (served == 0 && none > 0 && v.verdict != Verdict::kFail) std::abort();
    if ((v.verdict == Verdict::kNotForGpu) != (served == 0 && none == 0 && other > 0)) std::abort();
    if (v.verdict == Verdict::kFail && none == 0) std::abort();
    if (v.verdict == Verdict::kPartial && !(served > 0 && none > 0)) std::abort();
    if (served > 0 && none > 0 && v.verdict != Verdict::kPartial && v.verdict != Verdict::kFail) std::abort();
    // One kernel asked by name (the shim) is judged as in the --kernels rows (smscan).
    for (const auto& row : rows)
      if (judge_kernel_name(containers, row.mangled, cc) != row.fits[t]) std::abort();
  }
  return 0;
}
