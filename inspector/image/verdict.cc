#include "smwatch/verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>

namespace smwatch {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "OK";
    case Verdict::kJit: return "JIT";
    case Verdict::kPartial: return "PARTIAL";
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

namespace {

// What one image offers this GPU: nothing when the driver refuses it.
Usability image_usability(const FatbinImage& image, uint16_t target_cc) {
  return image.driver_refuses ? Usability::kNone : usability(image.kind, image.arch, target_cc);
}

// PTX that would serve this GPU but that the driver refuses: a failure there,
// even when it is 'a'/'f' code (then it is for this GPU).
bool refused_for(const FatbinImage& image, uint16_t target_cc) {
  return image.driver_refuses && usability(image.kind, image.arch, target_cc) != Usability::kNone;
}

// The images the driver chooses from for this GPU: all that run as SASS, else
// all that it can compile. (It loads one of them; any of them counts here,
// so that a kernel is never called missing on a guess about which.)
Usability best_usability(const FatbinContainer& container, uint16_t target_cc) {
  Usability best = Usability::kNone;
  for (const auto& image : container.images) {
    Usability u = image_usability(image, target_cc);
    if (static_cast<int>(u) > static_cast<int>(best)) best = u;
  }
  return best;
}

ContainerFit fit_of(Usability u) { return u == Usability::kSass ? ContainerFit::kSass : ContainerFit::kJit; }

int fit_rank(ContainerFit f) {
  switch (f) {
    case ContainerFit::kNotForThisGpu: return 0;
    case ContainerFit::kSass: return 1;
    case ContainerFit::kJit: return 2;
    default: return 3;
  }
}

bool has_kernels(const FatbinContainer& c) {
  return !c.images.empty() && c.kernels != FatbinContainer::Kernels::kNone;
}

}  // namespace

ContainerFit judge_container(const FatbinContainer& container, uint16_t target_cc) {
  const Usability best = best_usability(container, target_cc);
  if (best != Usability::kNone) return fit_of(best);
  for (const auto& image : container.images)
    if (refused_for(image, target_cc)) return ContainerFit::kNone;
  return is_specialized(container) ? ContainerFit::kNotForThisGpu : ContainerFit::kNone;
}

bool kernels_known(const FatbinContainer& container) {
  for (const auto& image : container.images)
    if (!image.kernels_read) return false;
  return !container.images.empty();
}

std::vector<ContainerKernel> container_kernels(const FatbinContainer& container) {
  std::vector<ContainerKernel> kernels;
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < container.images.size(); ++i) {
    for (const auto& name : container.images[i].kernels) {
      auto [it, added] = index.try_emplace(name, kernels.size());
      if (added) kernels.push_back({name, {}});
      auto& images = kernels[it->second].images;
      if (images.empty() || images.back() != i) images.push_back(static_cast<uint16_t>(i));
    }
  }
  return kernels;
}

ContainerFit judge_kernel(const FatbinContainer& container, const ContainerKernel& kernel, uint16_t target_cc) {
  const Usability best = best_usability(container, target_cc);
  if (best == Usability::kNone) {
    // Nothing in the container serves this GPU: the kernel fails, unless all
    // of its code is 'a'/'f' code for other GPUs.
    bool specialized = !kernel.images.empty();
    for (uint16_t i : kernel.images)
      if (i < container.images.size())
        specialized &= container.images[i].arch.variant != ArchVariant::kGeneric &&
                       !refused_for(container.images[i], target_cc);
    return specialized ? ContainerFit::kNotForThisGpu : ContainerFit::kNone;
  }
  for (uint16_t i : kernel.images)
    if (i < container.images.size()) {
      const FatbinImage& image = container.images[i];
      if (image_usability(image, target_cc) == best) return fit_of(best);
    }
  return ContainerFit::kNotForThisGpu;  // the image for this GPU does not define it
}

ContainerFit judge_kernel_name(std::span<const FatbinContainer> containers, std::string_view mangled,
                               uint16_t target_cc) {
  bool found = false, any_known = false;
  ContainerFit fit = ContainerFit::kNotForThisGpu;
  for (const auto& container : containers) {
    if (!kernels_known(container)) continue;
    any_known = true;
    ContainerKernel kernel{mangled, {}};
    for (size_t i = 0; i < container.images.size(); ++i) {
      const auto& names = container.images[i].kernels;
      if (std::find(names.begin(), names.end(), mangled) != names.end())
        kernel.images.push_back(static_cast<uint16_t>(i));
    }
    if (kernel.images.empty()) continue;
    found = true;
    fit = combine_fits(fit, judge_kernel(container, kernel, target_cc));
  }
  if (found || any_known) return fit;
  // No names known: the containers' own fits.
  for (const auto& container : containers)
    if (has_kernels(container)) fit = combine_fits(fit, judge_container(container, target_cc));
  return fit;
}

ContainerFit combine_fits(ContainerFit a, ContainerFit b) { return fit_rank(a) >= fit_rank(b) ? a : b; }

Verdict verdict_of(ContainerFit fit) {
  switch (fit) {
    case ContainerFit::kJit: return Verdict::kJit;
    case ContainerFit::kNone: return Verdict::kFail;
    default: return Verdict::kOk;
  }
}

CodeVerdict judge_code(std::span<const FatbinContainer> containers, uint16_t target_cc) {
  CodeVerdict v;
  // Per distinct kernel name, its fit folded over the containers defining it.
  // The keys view names held by `containers`, which outlive the map.
  std::unordered_map<std::string_view, ContainerFit> kernel_fits;
  for (const auto& container : containers) {
    if (!has_kernels(container)) continue;
    if (kernels_known(container)) {
      v.by_kernel = true;
      auto kernels = container_kernels(container);
      if (kernels.empty()) continue;  // defines nothing a launch could ask for
      for (const auto& k : kernels) {
        ContainerFit kf = judge_kernel(container, k, target_cc);
        auto [it, added] = kernel_fits.try_emplace(k.mangled, kf);
        if (!added) it->second = combine_fits(it->second, kf);
      }
    }
    switch (judge_container(container, target_cc)) {
      case ContainerFit::kSass: ++v.containers_sass; break;
      case ContainerFit::kJit: ++v.containers_jit; break;
      case ContainerFit::kNone: ++v.containers_none; break;
      case ContainerFit::kNotForThisGpu: ++v.containers_not_for_gpu; break;
    }
  }
  for (const auto& [name, fit] : kernel_fits) {
    ++v.kernels;
    v.kernels_jit += fit == ContainerFit::kJit;
    v.kernels_none += fit == ContainerFit::kNone;
    v.kernels_not_for_gpu += fit == ContainerFit::kNotForThisGpu;
  }
  const std::string sm = "sm_" + std::to_string(target_cc);
  const size_t served = v.containers_sass + v.containers_jit;
  const size_t fatbins = v.containers_none + served + v.containers_not_for_gpu;
  const std::string kernel_count =
      v.by_kernel ? fmt::format("{} of {} kernels", v.kernels_none, v.kernels) : std::string();
  if (served == 0 && fatbins > 0) {
    v.verdict = Verdict::kFail;
    if (v.containers_none > 0)
      v.reason = fmt::format("no fatbin has {} SASS or PTX ({} of {} fatbins{}{}): the first launch fails", sm,
                             v.containers_none, fatbins, v.by_kernel ? ", " : "", kernel_count);
    else
      v.reason = fmt::format("only architecture-specific code for other GPUs, nothing for {}", sm);
  } else if (v.containers_none > 0) {
    v.verdict = Verdict::kPartial;
    v.reason = fmt::format("{}{} of {} fatbins have no {} SASS or PTX (the others have code for it)",
                           v.by_kernel ? kernel_count + " in " : "", v.containers_none, fatbins, sm);
  } else if (v.by_kernel ? v.kernels_jit > 0 : v.containers_jit > 0) {
    v.verdict = Verdict::kJit;
    if (v.by_kernel)
      v.reason = fmt::format("{} of {} kernels have no {} SASS: the driver JIT-compiles their PTX (slow first "
                             "launch, and only if it knows the PTX ISA version)", v.kernels_jit, v.kernels, sm);
    else
      v.reason = fmt::format("{} fatbins have no {} SASS: the driver JIT-compiles their PTX (slow first launch, "
                             "and only if it knows the PTX ISA version)", v.containers_jit, sm);
  }
  return v;
}

std::vector<KernelRow> judge_kernels(std::span<const FatbinContainer> containers,
                                     const std::vector<uint16_t>& target_ccs) {
  std::map<std::string, KernelRow, std::less<>> rows;
  for (const auto& container : containers) {
    if (!kernels_known(container)) continue;
    for (const auto& k : container_kernels(container)) {
      auto it = rows.find(k.mangled);
      if (it == rows.end()) {
        it = rows.emplace(std::string(k.mangled), KernelRow{std::string(k.mangled), {}, {}, {}}).first;
        it->second.fits.assign(target_ccs.size(), ContainerFit::kNotForThisGpu);  // the identity of combine_fits
      }
      KernelRow& row = it->second;
      for (uint16_t i : k.images) {
        const FatbinImage& image = container.images[i];
        auto& list = image.kind == CodeKind::kSass ? row.sass : row.ptx;
        if (std::find(list.begin(), list.end(), image.arch) == list.end()) list.push_back(image.arch);
      }
      for (size_t t = 0; t < target_ccs.size(); ++t)
        row.fits[t] = combine_fits(row.fits[t], judge_kernel(container, k, target_ccs[t]));
    }
  }
  std::vector<KernelRow> out;
  out.reserve(rows.size());
  for (auto& [name, row] : rows) {
    std::sort(row.sass.begin(), row.sass.end());
    std::sort(row.ptx.begin(), row.ptx.end());
    out.push_back(std::move(row));
  }
  return out;
}

std::string compact_archs(std::span<const FatbinContainer> containers) {
  // Count, per (kind, arch), the containers that hold it.
  std::map<std::pair<int, Arch>, size_t> counts;
  size_t with_kernels = 0;
  for (const auto& container : containers) {
    if (!has_kernels(container)) continue;
    ++with_kernels;
    std::map<std::pair<int, Arch>, bool> here;
    for (const auto& image : container.images) here[{static_cast<int>(image.kind), image.arch}] = true;
    for (const auto& [key, _] : here) ++counts[key];
  }
  std::string out;
  for (CodeKind kind : {CodeKind::kSass, CodeKind::kPtx, CodeKind::kLtoIr}) {
    for (const auto& [key, n] : counts) {
      if (key.first != static_cast<int>(kind)) continue;
      if (!out.empty()) out += ' ';
      out += kind == CodeKind::kSass ? key.second.sm_name()
             : kind == CodeKind::kPtx ? "ptx:" + key.second.compute_name()
                                      : "lto:" + key.second.compute_name();
      if (n != with_kernels) out += fmt::format("({})", n);
    }
  }
  return out;
}

}  // namespace smwatch
