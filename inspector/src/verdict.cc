#include "smwatch/verdict.h"

#include <fmt/format.h>

#include <map>

namespace smwatch {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "OK";
    case Verdict::kJit: return "JIT";
    default: return "FAIL";
  }
}

Verdict worst(Verdict a, Verdict b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

bool is_specialized(const FatbinContainer& container) {
  if (container.images.empty()) return false;
  for (const auto& image : container.images)
    if (image.arch.variant == ArchVariant::kGeneric) return false;
  return true;
}

ContainerFit judge_container(const FatbinContainer& container, uint16_t target_cc) {
  Usability best = Usability::kNone;
  for (const auto& image : container.images) {
    Usability u = usability(image.kind, image.arch, target_cc);
    if (static_cast<int>(u) > static_cast<int>(best)) best = u;
  }
  if (best == Usability::kSass) return ContainerFit::kSass;
  if (best == Usability::kJit) return ContainerFit::kJit;
  return is_specialized(container) ? ContainerFit::kNotForThisGpu : ContainerFit::kNone;
}

FileVerdict judge_file(const FileScan& file, uint16_t target_cc) {
  FileVerdict v;
  for (const auto& container : file.containers) {
    if (container.images.empty() || container.kernels == FatbinContainer::Kernels::kNone) continue;
    switch (judge_container(container, target_cc)) {
      case ContainerFit::kSass: ++v.containers_sass; break;
      case ContainerFit::kJit: ++v.containers_jit; break;
      case ContainerFit::kNone: ++v.containers_none; break;
      case ContainerFit::kNotForThisGpu: ++v.containers_not_for_gpu; break;
    }
  }
  const std::string sm = "sm_" + std::to_string(target_cc);
  const size_t usable = v.containers_sass + v.containers_jit;
  if (v.containers_none > 0) {
    v.verdict = Verdict::kFail;
    v.reason = fmt::format("{} of {} fatbins have neither {}-compatible SASS nor PTX", v.containers_none,
                           v.containers_none + usable + v.containers_not_for_gpu, sm);
  } else if (usable == 0 && v.containers_not_for_gpu > 0) {
    v.verdict = Verdict::kFail;
    v.reason = fmt::format("only architecture-specific code for other GPUs, nothing for {}", sm);
  } else if (v.containers_jit > 0) {
    v.verdict = Verdict::kJit;
    v.reason = fmt::format("{} fatbins have no {} SASS: the driver JIT-compiles their PTX (slow first launch, "
                           "and only if it knows the PTX ISA version)", v.containers_jit, sm);
  }
  return v;
}

std::string compact_archs(const FileScan& file) {
  // Count, per (kind, arch), the containers that hold it.
  std::map<std::pair<int, Arch>, size_t> counts;
  size_t containers = 0;
  for (const auto& container : file.containers) {
    if (container.images.empty() || container.kernels == FatbinContainer::Kernels::kNone) continue;
    ++containers;
    std::map<std::pair<int, Arch>, bool> here;
    for (const auto& image : container.images) here[{static_cast<int>(image.kind), image.arch}] = true;
    for (const auto& [key, _] : here) ++counts[key];
  }
  std::string out;
  for (int kind : {static_cast<int>(CodeKind::kSass), static_cast<int>(CodeKind::kPtx)}) {
    for (const auto& [key, n] : counts) {
      if (key.first != kind) continue;
      if (!out.empty()) out += ' ';
      out += kind == static_cast<int>(CodeKind::kSass) ? key.second.sm_name() : "ptx:" + key.second.compute_name();
      if (n != containers) out += fmt::format("({})", n);
    }
  }
  return out;
}

}  // namespace smwatch
