#include "smwatch/verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>

namespace smwatch {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kNotForGpu: return "N/A";
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

// The generic SASS architectures of a container (sorted, distinct): the arch
// list it was built for, as CMAKE_CUDA_ARCHITECTURES or TORCH_CUDA_ARCH_LIST
// spell it ('a'/'f' code is chosen per GPU on purpose and is left out).
std::vector<uint16_t> generic_sass(const FatbinContainer& c) {
  std::vector<uint16_t> archs;
  for (const auto& image : c.images)
    if (image.kind == CodeKind::kSass && image.arch.variant == ArchVariant::kGeneric) archs.push_back(image.arch.number);
  std::sort(archs.begin(), archs.end());
  archs.erase(std::unique(archs.begin(), archs.end()), archs.end());
  return archs;
}

// Whether the file's main code serves the GPU. The main code is what was
// built for the file's full generic arch list (the union over its
// containers): the containers built for exactly that list, else, when none
// is (cuBLASLt, cuSPARSE: per-family extras widen the union), those built for
// the most architectures. A file whose arch list covers the GPU's family
// (generic SASS that runs on it somewhere) is taken to serve it: libraries
// keep per-family containers on purpose (cuBLASLt's sm_80-only ampere_*).
// Otherwise only a main container with code for it counts: one PTX-carrying
// container among hundreds built without the GPU does not make it served
// (vllm's _C_stable_libtorch on sm_110: 3,107 of 4,993 kernels fail).
struct MainCode {
  size_t containers = 0;          // main containers
  std::vector<uint16_t> archs;    // the full generic arch list
  bool covers_family = false;     // some generic SASS of the file runs on the GPU
  bool serves = false;            // some main container serves the GPU
};
MainCode main_code(std::span<const FatbinContainer> containers, uint16_t target_cc) {
  MainCode m;
  std::vector<std::vector<uint16_t>> lists;
  lists.reserve(containers.size());
  for (const auto& c : containers) {
    lists.push_back(has_kernels(c) ? generic_sass(c) : std::vector<uint16_t>{});
    for (uint16_t a : lists.back()) m.archs.push_back(a);
  }
  std::sort(m.archs.begin(), m.archs.end());
  m.archs.erase(std::unique(m.archs.begin(), m.archs.end()), m.archs.end());
  for (uint16_t a : m.archs)
    m.covers_family |= usability(CodeKind::kSass, Arch{a, ArchVariant::kGeneric}, target_cc) == Usability::kSass;
  size_t widest = 0;
  bool exact = false;
  for (const auto& l : lists) {
    exact |= !l.empty() && l == m.archs;
    widest = std::max(widest, l.size());
  }
  for (size_t i = 0; i < containers.size(); ++i) {
    const auto& l = lists[i];
    const bool main = !l.empty() && (exact ? l == m.archs : l.size() == widest);
    if (!main) continue;
    ++m.containers;
    m.serves |= best_usability(containers[i], target_cc) != Usability::kNone;
  }
  return m;
}

std::string arch_range(const std::vector<uint16_t>& archs) {
  if (archs.empty()) return "";
  if (archs.size() == 1) return "sm_" + std::to_string(archs.front());
  return fmt::format("sm_{} .. sm_{}", archs.front(), archs.back());
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
    case ContainerFit::kSass: return Verdict::kOk;
    case ContainerFit::kJit: return Verdict::kJit;
    case ContainerFit::kNone: return Verdict::kFail;
    default: return Verdict::kNotForGpu;
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
  if (served == 0 && v.containers_none > 0) {
    v.verdict = Verdict::kFail;
    v.reason = fmt::format("no fatbin has {} SASS or PTX ({} of {} fatbins{}{}): the first launch fails", sm,
                           v.containers_none, fatbins, v.by_kernel ? ", " : "", kernel_count);
  } else if (served == 0 && fatbins > 0) {
    // Only 'a'/'f' code, for other GPUs: built for them on purpose, so not a
    // build that forgot this one; the package decides whether to load it.
    v.verdict = Verdict::kNotForGpu;
    v.reason = fmt::format("built only for other GPUs (architecture-specific code: {}), nothing for {}: not for "
                           "this GPU; the package decides whether to load it", compact_archs(containers), sm);
  } else if (v.containers_none > 0) {
    const MainCode main = main_code(containers, target_cc);
    if (!main.archs.empty() && !main.covers_family && !main.serves) {
      // Masked: only side containers (PTX) serve the GPU.
      v.verdict = Verdict::kFail;
      v.reason = fmt::format("its main code ({} fatbin{} built for {}) has nothing for {}; only {} other fatbin{} "
                             "can serve it ({} of {} fatbins without code{}{}): most launches fail",
                             main.containers, main.containers == 1 ? "" : "s", arch_range(main.archs), sm, served,
                             served == 1 ? "" : "s", v.containers_none, fatbins, v.by_kernel ? ", " : "",
                             kernel_count);
    } else {
      v.verdict = Verdict::kPartial;
      const std::string main_text =
          main.serves ? fmt::format("{} fatbin{} built for its full arch list ({}) serve{} it", main.containers,
                                    main.containers == 1 ? "" : "s", arch_range(main.archs),
                                    main.containers == 1 ? "s" : "")
                      : fmt::format("its arch list ({}) covers {}", arch_range(main.archs), sm);
      // Most of the file without code is a gap a library must avoid, not a
      // detail (torch 2.15's libtorch_cuda_linalg on sm_75: 685 of 706 kernels).
      const bool most = v.by_kernel ? v.kernels_none * 2 > v.kernels : v.containers_none * 2 > fatbins;
      v.reason = fmt::format("{}{} of {} fatbins have no {} SASS or PTX: they fail if called on it; {}{}",
                             v.by_kernel ? kernel_count + " in " : "", v.containers_none, fatbins, sm, main_text,
                             most ? " (most of the file: a real gap unless the library avoids these kernels there)"
                                  : "");
    }
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
