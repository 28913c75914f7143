#include "smwatch/arch.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "smwatch/strings.h"

namespace smwatch {
namespace {

// Sources: NVIDIA CUDA GPUs compute capability list and the CUDA toolkit
// release notes (first toolkit per architecture); sm_87/88/107/110/121 as
// accepted by cuobjdump 13.5's --gpu-architecture. Which PyTorch builds
// include which GPU is package knowledge: inspector/report/package_facts.json.
// CUDA 11.8 already targets sm_89 and sm_90 (not 12.0, as a widely shared
// table says). CUDA 13.0 no longer compiles for CC < 7.5 (its release notes;
// nvcc 13.0 here rejects -arch=sm_70), so those rows end at CUDA 12.
// Names are matched whole, the first row wins: the Turing Quadro RTX 3000 to
// 8000 come before the "RTX 30xx", "RTX 40xx" and "RTX 50xx" GeForce lines
// that their numbers would match (there is no GeForce RTX 3000/4000/5000);
// Jetson boards as the driver names their GPU ("Tegra X1", "Xavier", "Orin").

constexpr GpuGeneration kGenerations[] = {
    {50, "6.0", "GTX 750, GTX 750 Ti, Quadro K2200", "12"},
    {52, "6.5", "GTX 9xx, Titan X, M40, M60", "12"},
    {53, "7.0", "Jetson Nano, Jetson TX1, Tegra X1", "12"},
    {60, "8.0", "P100", "12"},
    {61, "8.0", "GTX 10xx, Titan Xp, P40, P4", "12"},
    {62, "8.0", "Jetson TX2, Tegra X2", "12"},
    {70, "9.0", "V100, Titan V", "12"},
    {72, "10.0", "Jetson Xavier, Jetson AGX Xavier, Jetson Xavier NX, AGX Xavier, Xavier NX, Xavier", "12"},
    {75, "10.0", "T4, RTX 20xx, GTX 16xx, Quadro RTX 3000, Quadro RTX 4000, Quadro RTX 5000, Quadro RTX 6000, Quadro RTX 8000"},
    {80, "11.0", "A100, A30, A800"},
    {86, "11.1", "RTX 30xx, A10, A40, A16, A2, RTX A6000, RTX A5000, RTX A4000"},
    {87, "11.4", "Jetson Orin, AGX Orin, Jetson AGX Orin, Jetson Orin NX, Jetson Orin Nano, Orin NX, Orin Nano, Orin"},
    {89, "11.8", "RTX 40xx, L4, L40, L40S, RTX 2000 Ada, RTX 4000 Ada, RTX 4500 Ada, RTX 5000 Ada, RTX 6000 Ada"},
    {90, "11.8", "H100, H200, H800, H20, GH200"},
    {100, "12.8", "B200, GB200"},
    {103, "12.9", "B300, GB300"},
    {110, "13.0", "Jetson Thor"},  // called sm_101 by CUDA 12.8 and 12.9
    {120, "12.8", "RTX 50xx, RTX PRO 6000 Blackwell, RTX PRO 5000 Blackwell"},
    {121, "12.9", "GB10, DGX Spark"},
};

// PTX ISA version -> the CUDA release that introduced it. Source: the PTX
// ISA manual's release history (Table "PTX Release History"), as NVIDIA's
// cuda-python encodes it (cuda/bindings/utils/_ptx_utils.py): 8.6 came with
// CUDA 12.7, a release never published (CUDA 12.6 writes 8.5, 12.8 writes
// 8.7); nvcc 13.0 here writes ".version 9.0".
struct PtxIsaRelease {
  uint16_t major, minor;
  int cuda;
};
constexpr PtxIsaRelease kPtxIsaReleases[] = {
    {7, 0, 11000}, {7, 1, 11010}, {7, 2, 11020}, {7, 3, 11030}, {7, 4, 11040}, {7, 5, 11050},
    {7, 6, 11060}, {7, 7, 11070}, {7, 8, 11080}, {8, 0, 12000}, {8, 1, 12010}, {8, 2, 12020},
    {8, 3, 12030}, {8, 4, 12040}, {8, 5, 12050}, {8, 6, 12070}, {8, 7, 12080}, {8, 8, 12090},
    {9, 0, 13000}, {9, 1, 13010},
};

// CUDA release -> the oldest Linux x86-64 driver that supports it. Source:
// the CUDA Toolkit release notes, table "CUDA Toolkit and Corresponding
// Driver Versions" (the GA release of each). Ascending in both columns.
struct DriverRelease {
  int cuda;
  const char* linux_driver;
};
constexpr DriverRelease kDriverReleases[] = {
    {11000, "450.51.05"}, {11010, "455.23"},    {11020, "460.27.03"}, {11030, "465.19.01"},
    {11040, "470.42.01"}, {11050, "495.29.05"}, {11060, "510.39.01"}, {11070, "515.43.04"},
    {11080, "520.61.05"}, {12000, "525.60.13"}, {12010, "530.30.02"}, {12020, "535.54.03"},
    {12030, "545.23.06"}, {12040, "550.54.14"}, {12050, "555.42.02"}, {12060, "560.28.03"},
    {12080, "570.26"},    {12090, "575.51.03"}, {13000, "580.65.06"},
};

// "580.65.06" -> {580, 65, 6}; nothing when it is not dotted numbers.
std::optional<std::vector<int>> numbers(std::string_view text) {
  std::vector<int> out;
  while (true) {
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end == text.data()) return std::nullopt;
    out.push_back(n);
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    if (text.empty()) return out;
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
  }
}

std::string normalize_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(c));
  }
  // Names as the driver reports them carry a vendor and brand prefix.
  for (std::string_view prefix : {"nvidia", "geforce", "tesla", "quadro"}) {
    if (out.starts_with(prefix) && out.size() > prefix.size()) out.erase(0, prefix.size());
  }
  return out;
}

bool name_matches(std::string_view pattern, std::string_view wanted) {
  if (pattern.size() != wanted.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == 'x' && i + 1 < pattern.size() && pattern[i + 1] == 'x') {
      if (!std::isdigit(static_cast<unsigned char>(wanted[i])) ||
          !std::isdigit(static_cast<unsigned char>(wanted[i + 1])))
        return false;
      ++i;
      continue;
    }
    if (pattern[i] != wanted[i]) return false;
  }
  return true;
}

const GpuGeneration* find_by_name(std::string_view text) {
  std::string wanted = normalize_name(text);
  if (wanted.empty()) return nullptr;
  for (const auto& gen : kGenerations) {
    std::string_view list = gen.gpus;
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view one = list.substr(0, comma);
      if (name_matches(normalize_name(one), wanted)) return &gen;
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  return nullptr;
}

}  // namespace

std::span<const GpuGeneration> gpu_table() { return kGenerations; }

const GpuGeneration* find_generation(uint16_t cc) {
  for (const auto& gen : kGenerations)
    if (gen.cc == cc) return &gen;
  return nullptr;
}

std::string Arch::suffix() const {
  switch (variant) {
    case ArchVariant::kArchSpecific: return "a";
    case ArchVariant::kFamilySpecific: return "f";
    default: return "";
  }
}
std::string Arch::sm_name() const { return "sm_" + std::to_string(number) + suffix(); }
std::string Arch::compute_name() const { return "compute_" + std::to_string(number) + suffix(); }

Result<Arch> parse_arch(std::string_view text) {
  std::string s = ascii_lower(text);
  std::string_view v = s;
  for (std::string_view prefix : {"sm_", "compute_", "sm", "compute"}) {
    if (v.starts_with(prefix)) {
      v.remove_prefix(prefix.size());
      break;
    }
  }
  Arch arch;
  if (!v.empty() && (v.back() == 'a' || v.back() == 'f')) {
    arch.variant = v.back() == 'a' ? ArchVariant::kArchSpecific : ArchVariant::kFamilySpecific;
    v.remove_suffix(1);
  }
  unsigned major = 0, minor = 0, number = 0;
  const char* end = v.data() + v.size();
  if (size_t dot = v.find('.'); dot != std::string_view::npos) {  // "12.0"
    auto r1 = std::from_chars(v.data(), v.data() + dot, major);
    auto r2 = std::from_chars(v.data() + dot + 1, end, minor);
    if (r1.ec != std::errc() || r1.ptr != v.data() + dot || r2.ec != std::errc() || r2.ptr != end ||
        dot + 2 != v.size() || major == 0 || major > 99)
      return make_error("not an architecture: '" + std::string(text) + "'");
    number = major * 10 + minor;
  } else {
    auto r = std::from_chars(v.data(), end, number);
    if (v.empty() || r.ec != std::errc() || r.ptr != end)
      return make_error("not an architecture: '" + std::string(text) + "'");
  }
  if (number < 10 || number > 999)
    return make_error("architecture out of range: '" + std::string(text) + "'");
  arch.number = static_cast<uint16_t>(number);
  return arch;
}

Result<Target> parse_target(std::string_view text) {
  if (auto arch = parse_arch(text)) return Target{arch->number, std::string(text)};
  if (const GpuGeneration* gen = find_by_name(text)) return Target{gen->cc, std::string(text)};
  return make_error("unknown GPU or architecture '" + std::string(text) +
                    "' (try sm_120, 12.0, 120, compute_80, or a name such as \"RTX 5090\", H100, B200, GB10)");
}

Target default_target() { return *parse_target("sm_120"); }

Result<std::vector<Target>> resolve_targets(const std::vector<std::string>& specs, const NativeTargets& native) {
  std::vector<Target> targets;
  auto add = [&](const Target& t) {
    if (std::none_of(targets.begin(), targets.end(), [&](const Target& have) { return have.cc == t.cc; }))
      targets.push_back(t);
  };
  if (specs.empty()) {
    if (native)
      if (auto here = native(); here && !here->empty()) {
        for (const auto& t : *here) add(t);
        return targets;
      }
    return std::vector<Target>{default_target()};
  }
  for (std::string_view text : specs) {
    while (true) {
      size_t comma = text.find(',');
      std::string_view item = text.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item == "native" && native) {
        auto here = native();
        if (!here) return make_error("native: " + here.error().message);
        if (here->empty()) return make_error("native: no GPU found");
        for (const auto& t : *here) add(t);
      } else if (!item.empty()) {
        auto target = parse_target(item);
        if (!target) return target.error();
        add(*target);
      }
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  }
  if (targets.empty()) return make_error("empty target list");
  return targets;
}

Result<std::vector<Target>> parse_target_list(std::string_view text) {
  return resolve_targets({std::string(text)});
}

Usability usability(CodeKind kind, Arch arch, uint16_t target_cc) {
  const int major = arch.major(), minor = arch.minor();
  const int t_major = target_cc / 10, t_minor = target_cc % 10;
  const bool same_family = major == t_major && t_minor >= minor;
  const bool exact = arch.number == target_cc;
  if (kind == CodeKind::kSass) {
    bool runs = arch.variant == ArchVariant::kArchSpecific ? exact : same_family;
    return runs ? Usability::kSass : Usability::kNone;
  }
  bool jits = false;
  switch (arch.variant) {
    case ArchVariant::kGeneric: jits = target_cc >= arch.number; break;
    case ArchVariant::kArchSpecific: jits = exact; break;
    case ArchVariant::kFamilySpecific: jits = same_family; break;
  }
  return jits ? Usability::kJit : Usability::kNone;
}

std::string toolkit_fix_hint(uint16_t target_cc, std::string_view also) {
  const std::string sm = "sm_" + std::to_string(target_cc);
  const GpuGeneration* gen = find_generation(target_cc);
  if (gen == nullptr)
    return "rebuild with a CUDA toolkit that targets " + sm + " (e.g. TORCH_CUDA_ARCH_LIST or -gencode for " + sm + ")";
  return "install a build made with CUDA " + std::string(gen->first_cuda) +
         (*gen->last_cuda ? std::string(" to ") + gen->last_cuda + ".x (CUDA 13 and newer cannot build for it)"
                          : std::string(" or newer")) +
         " that includes " + sm + std::string(also) + "; for packages built from source: add " + sm +
         " to TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES";
}

int cuda_version_number(std::string_view version) {
  const auto n = numbers(version);
  if (!n || n->empty() || n->size() > 3) return 0;
  return (*n)[0] * 1000 + (n->size() > 1 ? (*n)[1] * 10 : 0);
}

int cuda_for_ptx_isa_version(uint16_t major, uint16_t minor) {
  for (const auto& r : kPtxIsaReleases)
    if (r.major == major && r.minor == minor) return r.cuda;
  return 0;
}

std::string cuda_version_name(int cuda) {
  return std::to_string(cuda / 1000) + "." + std::to_string(cuda % 1000 / 10);
}

std::string cuda_for_ptx_isa(uint16_t major, uint16_t minor) {
  const int cuda = cuda_for_ptx_isa_version(major, minor);
  return cuda ? cuda_version_name(cuda) : "";
}

Driver driver_from_cuda_version(int cuda_version, std::string label) {
  Driver d;
  if (cuda_version > 0) d.cuda = cuda_version;
  d.label = std::move(label);
  return d;
}

Result<Driver> parse_driver(std::string_view text) {
  const auto n = numbers(text);
  const std::string what = "--driver " + std::string(text) +
                           ": give a CUDA version (12.8, 13.0) or a driver version (570.86, 580.65.06)";
  if (!n || n->size() < 2 || n->size() > 3) return make_error(what);
  const int major = (*n)[0];
  if (major >= 9 && major <= 99 && n->size() == 2 && (*n)[1] < 10)  // a CUDA release
    return driver_from_cuda_version(major * 1000 + (*n)[1] * 10, std::string(text));
  if (major < 300) return make_error(what);
  // A driver version: the newest CUDA release whose oldest driver it reaches.
  Driver d;
  d.label = std::string(text);
  const DriverRelease* newest = nullptr;
  for (const auto& r : kDriverReleases)
    if (!(*numbers(r.linux_driver) > *n)) newest = &r;
  if (newest == nullptr) return make_error("--driver " + std::string(text) + ": older than any driver for CUDA 11.0");
  d.cuda = newest->cuda;
  // A newer driver branch than the table's newest: it supports that CUDA or later.
  d.at_least = newest == &kDriverReleases[std::size(kDriverReleases) - 1] && major > (*numbers(newest->linux_driver))[0];
  return d;
}

std::string linux_driver_for_cuda(int cuda) {
  for (const auto& r : kDriverReleases)
    if (r.cuda >= cuda) return r.linux_driver;
  return "";
}

DriverJit driver_jits(const Driver& driver, uint16_t isa_major, uint16_t isa_minor) {
  if (!driver.known()) return DriverJit::kUnknown;
  int needs = cuda_for_ptx_isa_version(isa_major, isa_minor);
  if (needs == 0) {
    const auto& newest = kPtxIsaReleases[std::size(kPtxIsaReleases) - 1];
    if (std::pair(isa_major, isa_minor) < std::pair(newest.major, newest.minor)) return DriverJit::kUnknown;
    needs = newest.cuda + 1;  // newer than every ISA the table knows
  }
  if (needs <= driver.cuda) return DriverJit::kYes;
  // A driver known only as "this CUDA or newer" may know it; so may one newer than the table.
  return driver.at_least ? DriverJit::kUnknown : DriverJit::kNo;
}

std::string driver_fix(uint16_t isa_major, uint16_t isa_minor) {
  const int needs = cuda_for_ptx_isa_version(isa_major, isa_minor);
  if (needs == 0)
    return "install an NVIDIA driver newer than CUDA " + cuda_version_name(kPtxIsaReleases[std::size(kPtxIsaReleases) - 1].cuda) +
           "'s that knows PTX ISA " + std::to_string(isa_major) + "." + std::to_string(isa_minor);
  const std::string linux = linux_driver_for_cuda(needs);
  return "install an NVIDIA driver for CUDA " + cuda_version_name(needs) + " or newer" +
         (linux.empty() ? std::string() : " (Linux: " + linux + " or newer)");
}

std::string image_fix_hint(uint16_t target_cc, std::string_view image, std::string_view package,
                           std::string_view version) {
  const std::string sm = "sm_" + std::to_string(target_cc);
  const std::string what = package.empty() ? std::string("this image's files have") :
                           "this image's " + std::string(package) + (version.empty() ? "" : " " + std::string(version)) + " has";
  const GpuGeneration* gen = find_generation(target_cc);
  std::string use = gen == nullptr ? "use an image whose libraries are built for " + sm
                    : *gen->last_cuda ? "use an image built with CUDA " + std::string(gen->first_cuda) + " to " + gen->last_cuda +
                                            ".x that includes " + sm + " (CUDA 13 and newer cannot build for it)"
                                      : "use an image built with CUDA " + std::string(gen->first_cuda) + " or newer";
  return std::string(image) + ": " + what + " no " + sm + ": " + use;
}

}  // namespace smwatch
