#include "advice.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>
#include <sstream>

#include "knowledge.h"
#include "signature.h"
#include "smwatch/arch.h"
#include "smwatch/package_fix.h"
#include "smwatch/scan.h"
#include "values.h"

namespace smwatch::cli {

namespace {

using Values = std::map<std::string, std::string>;

std::string first_nonempty(const Values& v, const char* a) {
  auto it = v.find(a);
  return it == v.end() ? std::string() : it->second;
}

// "12.6" < "12.8"; "570.86.10" compares as 570, 86, 10.
bool version_less(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) {
    unsigned v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    s.remove_prefix(static_cast<size_t>(r.ptr - s.data()));
    if (!s.empty() && s.front() == '.') s.remove_prefix(1);
    else s = {};
    return v;
  };
  for (int i = 0; i < 4; ++i) {
    if (a.empty() && b.empty()) return false;
    unsigned x = next(a), y = next(b);
    if (x != y) return x < y;
  }
  return false;
}

int int_of(const std::string& s, int base = 10) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, base);
  return v;
}

std::string gpu_desc(int cc) {
  const GpuGeneration* gen = cc ? find_generation(static_cast<uint16_t>(cc)) : nullptr;
  return "sm_" + std::to_string(cc) + (gen ? std::string(" (") + gen->gpus + ")" : std::string());
}

// The row whose [cc_min, cc_max] holds cc.
const ReleaseRow* row_for_cc(const std::vector<ReleaseRow>& rows, int cc) {
  for (const auto& row : rows)
    if (row.cc_min <= cc && cc <= row.cc_max) return &row;
  return nullptr;
}

// The PyTorch builds that still include `cc` (line, torch versions, oldest and newest architecture).
std::string torch_lines_for(int cc) {
  std::string out;
  for (const auto& row : builtin_package_fixes().torch_builds) {
    if (!torch_build_includes(row, static_cast<uint16_t>(cc))) continue;
    out += (out.empty() ? "" : "; ") + row.line + " builds of torch " + row.torch + " (sm_" + std::to_string(row.cc_min) +
           "-sm_" + std::to_string(row.cc_max) + ")";
  }
  return out;
}

// The concrete replacement for code that has nothing for this GPU.
std::string package_fix(const LogFacts& facts, const Knowledge& kn, int cc, const std::string& pkg) {
  const GpuGeneration* gen = cc ? find_generation(static_cast<uint16_t>(cc)) : nullptr;
  const std::string& drv = facts.driver_cuda.value;
  if (gen && !drv.empty() && version_less(drv, gen->first_cuda))
    return "the driver supports CUDA " + drv + " only, older than CUDA " + gen->first_cuda + ", the first for sm_" +
           std::to_string(cc) + ": update the NVIDIA driver to one for CUDA " + gen->first_cuda + " or newer first; then " +
           fix_hint(static_cast<uint16_t>(cc), pkg.empty() ? "torch" : pkg);
  // An application's bundled build: its own releases are the fix, not a rebuild.
  if (const PackageRow* row = pkg.empty() ? nullptr : kn.find(pkg); row && !row->app.empty())
    return "install a release of " + row->app + " built for " + (cc ? "sm_" + std::to_string(cc) : std::string("your GPU")) +
           " (update " + row->app + "; if its newer releases dropped this GPU, the last one that includes it): it bundles its own CUDA build";
  if (!cc) {
    if (pkg.empty()) return {};
    if (!kn.installable(pkg))  // a source build or a bundled copy
      return "rebuild " + pkg + " with your GPU's architecture in its CUDA architectures (CMAKE_CUDA_ARCHITECTURES / -arch; CUDA 12.8+ for Blackwell), or install a release built for it";
    return "install a build of " + pkg + " made for your GPU's architecture and the installed torch/CUDA line (`smwatch doctor` prints which)";
  }
  const std::string& torch_cuda = facts.torch_cuda.value;
  if ((pkg.empty() || pkg == "torch") && gen && !torch_cuda.empty() && version_less(torch_cuda, gen->first_cuda)) {
    auto tv = facts.versions.find("torch");
    return "torch " + (tv == facts.versions.end() ? std::string() : tv->second.value + " ") + "is built with CUDA " +
           torch_cuda + ", older than CUDA " + gen->first_cuda + " (the first for sm_" + std::to_string(cc) + "): " +
           fix_hint(static_cast<uint16_t>(cc), "torch");
  }
  if (pkg.empty()) return fix_hint(static_cast<uint16_t>(cc));
  if (!kn.installable(pkg))  // "the bundled flash-attention (...)", "llama.cpp (ggml-cuda)"
    return "rebuild " + pkg + " with sm_" + std::to_string(cc) + " in its CUDA architectures (CUDA " +
           (gen ? gen->first_cuda : "12.8") + " or newer), or install a release that includes it";
  return fix_hint(static_cast<uint16_t>(cc), pkg);
}

// ---- Derived values: fixes made of the knowledge tables -----------------------

// TensorRT's "Target GPU SM 120 is not supported", "Unsupported SM: 0x809"
// (major and minor in hex digits), or the bare assertion (the log's GPU, if any).
void derive_tensorrt(Values& v, const LogFacts& facts, const Knowledge& kn) {
  int cc = 0;
  if (!first_nonempty(v, "sm_dec").empty()) cc = int_of(v["sm_dec"]);
  else if (!first_nonempty(v, "sm_hex").empty()) {
    const int hex = int_of(v["sm_hex"], 16);
    cc = (hex >> 8) * 10 + (hex & 0xff);
  }
  if (!cc) cc = facts.gpu_cc.value;
  v[value::trt_gpu] = cc ? gpu_desc(cc) : "";
  v[value::trt_known] = cc ? "The GPU is " + gpu_desc(cc) + "." : "";
  const ReleaseRow* row = cc ? row_for_cc(kn.tensorrt(), cc) : nullptr;
  if (row && !row->last.empty())
    v[value::trt_fix] = "Use an older TensorRT: " + row->last + " was the last release for " + gpu_desc(cc) + " (" + row->source +
                        "); or run on a newer GPU.";
  else if (row)
    v[value::trt_fix] = "Install a newer TensorRT: " + row->first + " or newer supports " + gpu_desc(cc) + " (" + row->source +
                        "); it needs the CUDA version its release notes name, and engines must be rebuilt with it.";
  else {
    // The releases that dropped GPUs, from the same table: "the last for sm_30-sm_53 was 8.5.3, ...".
    std::string dropped;
    for (const auto& r : kn.tensorrt())
      if (!r.last.empty())
        dropped += std::string(dropped.empty() ? "the last for " : ", for ") + "sm_" + std::to_string(r.cc_min) + "-sm_" +
                   std::to_string(r.cc_max) + (dropped.empty() ? " was " : " ") + r.last;
    v[value::trt_fix] =
        std::string(cc ? "Install a TensorRT release whose support matrix lists " + gpu_desc(cc)
                       : "Find the GPU's compute capability (nvidia-smi --query-gpu=compute_cap --format=csv) and install a TensorRT release whose support matrix lists it") +
        ": a newer TensorRT for a newer GPU, an older TensorRT for a GPU a release has dropped" +
        (dropped.empty() ? std::string() : " (" + dropped + ")") + "; engines must be rebuilt with it.";
  }
}

// ptxas: "Instruction 'wgmma.fence' not supported on .target 'sm_120'".
void derive_instruction(Values& v, const Knowledge& kn) {
  const std::string instr = first_nonempty(v, "instruction"), arch = first_nonempty(v, "arch");
  std::string only, source;
  for (const auto& row : kn.arch_specific_instructions())
    if (instr.starts_with(row.prefix)) {
      only = row.only;
      source = row.source;
      break;
    }
  const bool generic = !arch.empty() && arch.back() != 'a' && arch.back() != 'f';
  if (!only.empty() && (" " + only + " ").find(" " + arch + "a ") == std::string::npos &&
      (" " + only + " ").find(" " + arch + " ") == std::string::npos) {
    v[value::instr_cause] = "'" + instr + "' exists only on " + only + " (" + source + "): no target for " + arch +
                            " has it, so kernels written with it cannot be built for " + arch + ".";
    v[value::instr_fix] = "Do not build those kernels for " + arch + ": when " + arch + " is the GPU, leave the " + only +
                          " architectures out of TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES (the list says what to build; " +
                          "'9.0' with sm_90a kernels makes ptxas assemble them for the other targets too), or use a release that has " +
                          arch + " kernels.";
  } else {
    const std::string target = generic ? arch + "a" : arch;
    v[value::instr_cause] = "'" + instr + "' is an architecture-specific feature: ptxas accepts it only for the 'a' target (" +
                            target + "), whose code runs on that one GPU generation, not for the portable " + arch + ".";
    v[value::instr_fix] = "Build for " + target + ": -gencode arch=compute_" + target.substr(3) + ",code=" + target +
                          " (TORCH_CUDA_ARCH_LIST=\"" + std::to_string(int_of(target.substr(3)) / 10) + "." +
                          std::to_string(int_of(target.substr(3)) % 10) + "a\", CMAKE_CUDA_ARCHITECTURES=" + target.substr(3) +
                          "), as the project's own build does for that GPU; or a release built that way.";
  }
}

// Triton ran its ptxas (the bundled one, ptxas-blackwell for sm_100 and newer
// in Triton 3.6+, or TRITON_PTXAS_PATH's) and it failed for the GPU.
void derive_triton_ptxas(Values& v, const LogFacts& facts, const Knowledge& kn) {
  const std::string tool = first_nonempty(v, "tool"), path = first_nonempty(v, "ptxas_path"), sm = first_nonempty(v, "sm");
  const std::string first_cuda = first_nonempty(v, "first_cuda").empty() ? "a newer CUDA" : "CUDA " + v["first_cuda"];
  const int cc = int_of(first_nonempty(v, "cc").empty()
                            ? "0"
                            : std::to_string(int_of(v["cc"]) * 10 + int_of(v["cc"].substr(v["cc"].find('.') + 1))));
  std::string triton_first;
  if (const ReleaseRow* row = row_for_cc(kn.triton_ptxas(), cc))
    triton_first = "triton " + row->first + " or newer (" + row->source + ")";
  auto tv = facts.versions.find("triton");
  const std::string have = tv == facts.versions.end() ? std::string("this Triton") : "triton " + tv->second.value;
  const bool bundled = kn.bundled_tool("triton", path);
  if (tool == "ptxas-blackwell") {
    v[value::ptxas_cause] = static_cast<char>(std::toupper(static_cast<unsigned char>(have[0]))) + have.substr(1) + " compiles for sm_100 and newer with ptxas-blackwell (Triton 3.6+), the one it bundles or TRITON_PTXAS_BLACKWELL_PATH's; it failed for " +
                            sm + ". TRITON_PTXAS_PATH is not used for these GPUs.";
    v[value::ptxas_fix] = "export TRITON_PTXAS_BLACKWELL_PATH=<" + first_cuda + " or newer>/bin/ptxas (not TRITON_PTXAS_PATH), or upgrade triton" +
                          (triton_first.empty() ? std::string() : " (" + triton_first + ")") + ".";
  } else if (bundled) {
    v[value::ptxas_cause] = "The ptxas bundled with " + have + " (" + path + ") exited with status " + first_nonempty(v, "status") +
                            " for " + sm + ": a ptxas from a CUDA older than " + first_cuda + " does not know " + sm +
                            " (its own message, above the traceback, says so).";
    v[value::ptxas_fix] = "Upgrade triton to one whose bundled ptxas knows " + sm +
                          (triton_first.empty() ? std::string() : " (" + triton_first + ")") +
                          ", or point Triton at a newer ptxas: export TRITON_PTXAS_PATH=<" + first_cuda + " or newer>/bin/ptxas.";
  } else {
    v[value::ptxas_cause] = "Triton ran the ptxas at " + path + " (TRITON_PTXAS_PATH or the CUDA toolkit it found) and it exited with status " +
                            first_nonempty(v, "status") + " for " + sm + ": if that CUDA is older than " + first_cuda +
                            " it does not know " + sm + "; otherwise ptxas's own message (above the traceback) says why.";
    v[value::ptxas_fix] = "Point TRITON_PTXAS_PATH at a ptxas from " + first_cuda + " or newer, or unset it to use the one Triton bundles" +
                          (triton_first.empty() ? std::string() : " (" + triton_first + " for " + sm + ")") + ".";
  }
}

// xFormers: "built for: PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)".
void derive_xformers(Values& v) {
  const std::string built = first_nonempty(v, "built_torch"), have = first_nonempty(v, "have_torch");
  const std::string cuda = first_nonempty(v, "built_cuda");
  const std::string line = cuda.size() >= 3 ? "cu" + cuda.substr(0, cuda.size() - 2) + cuda.substr(cuda.size() - 1) : "";
  if (have.find("+cpu") != std::string::npos || (have.find('+') == std::string::npos && have == built.substr(0, built.find('+')))) {
    v[value::xformers_cause] = "torch " + have + " is a CPU-only build (no '+cuXXX'): xformers' CUDA kernels need a CUDA build of the same torch.";
    v[value::xformers_fix] = "torch " + have + " is the CPU build: install the CUDA build of torch that xformers was built for: pip install torch==" +
                             built.substr(0, built.find('+')) +
                             (line.empty() ? std::string() : " --index-url " + wheel_index("torch") + line) +
                             " (then reinstall xformers if pip replaced it).";
  } else {
    v[value::xformers_cause] = "xformers' C++/CUDA extensions are built against one torch release; with torch " + have +
                               " they do not load, and memory-efficient attention, SwiGLU and the other ops fall back or fail.";
    v[value::xformers_fix] = "Install the xformers release built for torch " + have +
                             " (pip install -U xformers --index-url " + wheel_index("torch") + "<the +cuXXX of your torch> picks it), or install torch " +
                             built + " that this xformers was built for; install the two together so that pip keeps them matched.";
  }
}

// PyTorch's "Found GPU0 X which is of cuda capability 12.1 ... (8.0) - (12.0)": read the range.
void derive_capability_range(Values& v) {
  auto num = [](const std::string& s) {
    size_t dot = s.find('.');
    if (dot == std::string::npos) return 0;
    try {
      return std::stoi(s.substr(0, dot)) * 10 + std::stoi(s.substr(dot + 1));
    } catch (...) {
      return 0;
    }
  };
  // PyTorch's "not compatible" warning lists the build's architectures instead of a range.
  if (first_nonempty(v, "min_cc").empty() && !first_nonempty(v, "supported").empty()) {
    int lo_sm = 0, hi_sm = 0;
    const std::string list = v["supported"];
    for (size_t at = 0; (at = list.find("sm_", at)) != std::string::npos; at += 3) {
      int n = 0;
      std::from_chars(list.data() + at + 3, list.data() + list.size(), n);
      if (n <= 0) continue;
      lo_sm = lo_sm ? std::min(lo_sm, n) : n;
      hi_sm = std::max(hi_sm, n);
    }
    if (lo_sm) v["min_cc"] = std::to_string(lo_sm / 10) + "." + std::to_string(lo_sm % 10);
    if (hi_sm) v["max_cc"] = std::to_string(hi_sm / 10) + "." + std::to_string(hi_sm % 10);
    if (first_nonempty(v, "cc_text").empty() && !first_nonempty(v, "cc").empty()) v["cc_text"] = v["cc"];
  }
  // torch >= 2.9 lists what it was built for instead: "- 7.5 which supports hardware CC >=7.5,<8.0".
  bool listed_inside = false;
  if (first_nonempty(v, "min_cc").empty() && !first_nonempty(v, "cc_list").empty()) {
    const int dev = num(first_nonempty(v, "cc_text"));
    int lo_l = 0, hi_l = 0;
    std::istringstream rows(v["cc_list"]);
    for (std::string row; std::getline(rows, row);) {
      size_t ge = row.find(">="), lt = row.find(",<");
      if (ge == std::string::npos || lt == std::string::npos) continue;
      const int a = num(row.substr(ge + 2, lt - ge - 2));
      std::string b_text = row.substr(lt + 2);
      b_text = b_text.substr(0, b_text.find_first_not_of("0123456789."));
      const int b = num(b_text);
      if (!a || !b) continue;
      lo_l = lo_l ? std::min(lo_l, a) : a;
      hi_l = std::max(hi_l, b - 1);
      const bool excepted = row.find("except") != std::string::npos &&
                            row.find(std::to_string(dev / 10) + "." + std::to_string(dev % 10), row.find("except")) != std::string::npos;
      if (dev >= a && dev < b && !excepted) listed_inside = true;
    }
    if (lo_l) v["min_cc"] = std::to_string(lo_l / 10) + "." + std::to_string(lo_l % 10);
    if (hi_l && !listed_inside && dev > hi_l) v["max_cc"] = std::to_string(hi_l / 10) + "." + std::to_string(hi_l % 10);
  }
  int cc = num(first_nonempty(v, "cc_text")), lo = num(first_nonempty(v, "min_cc")), hi = num(first_nonempty(v, "max_cc"));
  std::string gpu = first_nonempty(v, "gpu"), sm = "sm_" + std::to_string(cc);
  if (!cc) return;
  const GpuGeneration* gen = find_generation(static_cast<uint16_t>(cc));
  const std::string torch_fix = fix_hint(static_cast<uint16_t>(cc), "torch");
  v[value::older_line_fix] = "";
  const bool too_old = !first_nonempty(v, "too_old").empty() || (!lo && !hi && cc < 50);
  if ((lo && cc < lo) || too_old) {
    v[value::range_verdict] = "below";
    v["severity"] = "error";
    v[value::range_title] = "PyTorch no longer supports the " + gpu + " (" + sm + ")" +
                            (lo ? ": its oldest GPU is " + first_nonempty(v, "min_cc") : std::string(": the GPU is too old for it"));
    v[value::range_cause] = "This PyTorch build's CUDA line starts at compute capability " +
                            (lo ? first_nonempty(v, "min_cc") : std::string("a newer one")) + ", above the GPU's " +
                            first_nonempty(v, "cc_text") + ": kernels will fail with \"no kernel image is available\".";
    // Which builds still include the GPU: the knowledge table, per torch version (cu128 did not always start at 7.0).
    const std::string lines = torch_lines_for(cc);
    std::string oldest_line;
    for (const auto& row : builtin_package_fixes().torch_builds)
      if (torch_build_includes(row, static_cast<uint16_t>(cc))) {
        oldest_line = row.line;
        break;
      }
    v[value::range_fix] =
        lines.empty()
            ? "No current PyTorch build includes " + sm + ": use an old PyTorch release from an older CUDA line built for it, or build from source with TORCH_CUDA_ARCH_LIST=\"" +
                  first_nonempty(v, "cc_text") + "\" and a CUDA toolkit that still targets it"
            : "Install a PyTorch build from an older CUDA line that still includes " + sm + ": " + lines +
                  ", e.g. pip install torch --index-url " + wheel_index("torch") + oldest_line +
                  ", or build from source with TORCH_CUDA_ARCH_LIST=\"" + first_nonempty(v, "cc_text") + "\"";
    v[value::older_line_fix] = v[value::range_fix];
  } else if (hi && cc / 10 > hi / 10) {
    v[value::range_verdict] = "above";
    v["severity"] = "error";
    v[value::range_title] = "PyTorch has no code for the " + gpu + " (" + sm + "): its newest GPU is " + first_nonempty(v, "max_cc");
    v[value::range_cause] = "Compute capability " + first_nonempty(v, "cc_text") + " is a newer major than this build's maximum " +
                            first_nonempty(v, "max_cc") + ": its SASS does not run there, and kernels will fail with \"no kernel image is available\".";
    v[value::range_fix] = torch_fix;
  } else if (hi && cc > hi) {
    v[value::range_verdict] = "false-alarm";
    v["severity"] = "warning";
    v[value::range_title] = "A false alarm: the " + gpu + " (" + sm + ") runs this PyTorch's sm_" + std::to_string(hi) + " code";
    v[value::range_cause] = "Compute capability " + first_nonempty(v, "cc_text") + " is a newer minor of the same major as the build's maximum " +
                            first_nonempty(v, "max_cc") + "; SASS for sm_" + std::to_string(hi) + " runs on it unchanged" +
                            (gen ? std::string(" (") + gen->gpus + ")" : std::string()) +
                            ". PyTorch's check compares the numbers only (the warning is gone in torch 2.11).";
    v[value::range_fix] = "Nothing to fix for this warning; it can be ignored (or upgrade torch to 2.11 or newer, which no longer prints it). Look at the other findings for the real failure, if any.";
  } else {
    v[value::range_verdict] = "inside";
    v["severity"] = "warning";
    v[value::range_title] = "PyTorch's capability check for the " + gpu + " (" + sm + ")";
    v[value::range_cause] = "The GPU's compute capability is inside the build's range.";
    v[value::range_fix] = "Nothing to fix for this warning.";
  }
}

// What a shared library the log names holds, read with the inspector (only
// for a regular file that exists here: the log may come from this machine).
std::string describe_library(const std::string& path, int cc) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return {};
  FileScan scan = scan_file(path, ScanOptions{.kernels = false, .probe_kernels = false, .budget = nullptr});
  if (!scan.read_error.empty()) return {};
  std::set<std::string> sass, ptx;
  bool runs = false, jit = false;
  for (const auto& c : scan.containers)
    for (const auto& img : c.images) {
      (img.kind == CodeKind::kSass ? sass : ptx).insert(img.kind == CodeKind::kSass ? img.arch.sm_name() : img.arch.compute_name());
      if (cc) {
        Usability u = usability(img.kind, img.arch, static_cast<uint16_t>(cc));
        runs = runs || u == Usability::kSass;
        jit = jit || u == Usability::kJit;
      }
    }
  if (sass.empty() && ptx.empty()) return path + " (here) holds no GPU code.";
  auto join = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : " ") + x;
    return out;
  };
  std::string out = path + " (here) holds " + (sass.empty() ? std::string("no SASS") : "SASS " + join(sass)) + ", " +
                    (ptx.empty() ? std::string("no PTX") : "PTX " + join(ptx));
  if (cc) {
    const std::string sm = "sm_" + std::to_string(cc);
    out += runs ? ": code that runs on " + sm : jit ? ": only PTX the driver must JIT for " + sm : ": nothing for " + sm;
  }
  return out + ".";
}

// The Python environment: what is installed, what the importer requires, the pin.
void environment_values(Values& v, const PythonEnv& env, const Knowledge& kn) {
  std::string pkg = first_nonempty(v, value::package);
  if (pkg.empty()) pkg = first_nonempty(v, value::failing_package);
  const std::string importer = first_nonempty(v, value::importer_package);
  std::string note, pin;
  if (!pkg.empty() && kn.installable(pkg)) {
    std::string dist = kn.dist_of_module(pkg);
    const PythonEnv::Dist* d = env.find(dist);
    note = "In " + env.python + ": " + (d ? d->name + " " + d->version + " is installed" : dist + " is not installed");
    if (!importer.empty() && dist_name(importer) != dist) {
      const PythonEnv::Dist* imp = env.find(importer);
      note += imp ? "; " + imp->name + " " + imp->version + " is installed" : "; " + importer + " is not installed";
    }
    std::string pinned_by;
    for (const auto& [who, req] : env.required_by(dist)) {
      note += "; " + who + " requires " + req;
      if (pin.empty() && req.find("==") != std::string::npos) {
        pin = req.substr(0, req.find(','));
        pinned_by = who;
      }
    }
    if (!importer.empty() && dist_name(importer) != dist)
      for (const auto& [who, req] : env.required_by(importer)) note += "; " + who + " requires " + req;
    if (!pin.empty()) {
      std::string spec;
      for (char c : pin)
        if (c != ' ') spec += c;
      pin = "pip install '" + spec + "' (the version " + pinned_by + " pins)";
    }
  }
  v[value::env_note] = note;
  v[value::env_pin] = pin;
}

}  // namespace

void add_target_values(const std::string& spec, Values& values) {
  auto target = smwatch::parse_target(spec);
  if (!target) {
    values[value::sm] = spec;
    values[value::gpu_desc] = spec;
    values[value::fix_hint] = "install a build of the failing package that includes code for your GPU's architecture";
    return;
  }
  const GpuGeneration* gen = find_generation(target->cc);
  values[value::sm] = target->sm_name();
  values[value::cc] = target->cc_string();
  values[value::gpus] = gen ? gen->gpus : "";
  values[value::first_cuda] = gen ? gen->first_cuda : "";
  values[value::pytorch_line] = gen ? oldest_torch_line(target->cc) : "";
  values[value::gpu_desc] = target->sm_name() + " (compute capability " + target->cc_string() +
                            (gen ? std::string(": ") + gen->gpus : std::string()) + ")";
  values[value::fix_hint] = fix_hint(target->cc);
}

void render(const SignatureSet::Signature& sig, Finding& f, const LogFacts& facts, const Knowledge& kn,
            const PythonEnv* env, std::map<std::string, std::string>* so_code) {
  auto& v = f.values;
  // Derived from the whole log (recomputed at the end, when more is known).
  const int log_cc = facts.gpu_cc.value;
  int cc = log_cc;
  if (auto it = v.find(value::cc); it != v.end() && !it->second.empty()) {  // the finding's own GPU wins
    if (auto t = smwatch::parse_target(it->second)) cc = t->cc;
  }
  const std::string& gpu_name = facts.gpu_name.value;
  v[value::log_gpu] = gpu_name.empty() ? (log_cc ? "sm_" + std::to_string(log_cc) : std::string())
                                       : gpu_name + (log_cc ? " (sm_" + std::to_string(log_cc) + ")" : std::string());
  v[value::log_sm] = log_cc ? "sm_" + std::to_string(log_cc) : std::string();
  v[value::versions] = versions_text(facts);
  v[value::package_fix] = package_fix(facts, kn, cc, first_nonempty(v, value::failing_package));
  v[value::failing_in] = first_nonempty(v, value::failing_package).empty() ? std::string() : " in " + v[value::failing_package];
  // Serving advice: graph capture and flashinfer can be switched off; a kernel
  // of a package whose row says the switches do not avoid it cannot.
  const std::string failing = first_nonempty(v, value::failing_package);
  if (const PackageRow* row = failing.empty() ? nullptr : kn.find(failing); row && !row->serving_note.empty())
    v[value::serving_fix] = row->serving_note + " Install the " + failing + " build for your GPU and torch's CUDA line" +
                            (cc ? ": " + fix_hint(static_cast<uint16_t>(cc), failing)
                                : " (a " + oldest_torch_line(120) + "+ build for Blackwell GPUs)") + ".";
  else
    v[value::serving_fix] = "";
  v[value::log_cc_digits] = log_cc ? std::to_string(log_cc) : std::string();
  // In a container, torch and its CUDA line come with the image: the fix is another image.
  v[value::container_fix] = "";
  if (facts.container.known() && cc) {
    const GpuGeneration* gen = find_generation(static_cast<uint16_t>(cc));
    const std::string lines = torch_lines_for(cc);
    v[value::container_fix] =
        "This log is from a container (" + facts.container.value +
        "): its torch comes with the image, and pip-installing another into it fights the image's pins and is lost with the container. Use an image whose torch includes sm_" +
        std::to_string(cc) + (gen && !oldest_torch_line(gen->cc).empty() ? " (a " + oldest_torch_line(gen->cc) + " build or newer)" : std::string()) +
        ": a newer tag of the image, or one built on such a PyTorch image" + (lines.empty() ? std::string() : "; builds that include it: " + lines);
  }
  {
    const std::string pkg = first_nonempty(v, value::failing_package);
    v[value::container_torch_fix] = pkg.empty() || kn.role_is(pkg, PackageRow::Role::kDispatcher) ? v[value::container_fix] : "";
  }
  if (const std::string lib = first_nonempty(v, "library"); !lib.empty()) {
    // "libcublas.so.12" or "cublas64_12.dll": the CUDA major it was built for.
    size_t at = lib.find(".so.");
    std::string major = at != std::string::npos ? lib.substr(at + 4, lib.find('.', at + 4) - at - 4)
                        : lib.find("64_") != std::string::npos ? lib.substr(lib.find("64_") + 3, 2)
                                                               : "";
    if (!major.empty() && std::all_of(major.begin(), major.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      v[value::library_cuda] = major;
      v[value::library_cuda_major] = major;
    }
    // The nvidia-* wheel that ships a CUDA library (its CUDA major from torch's build, when the log says).
    const std::string& torch_cuda = facts.torch_cuda.value;
    const std::string cu = torch_cuda.empty() ? std::string("XX") : torch_cuda.substr(0, torch_cuda.find('.'));
    // The library's own major ("libcublas.so.11": 11), before a captured one.
    const std::string soname_major = v[value::library_cuda_major].empty() ? first_nonempty(v, "major") : v[value::library_cuda_major];
    const std::string wheel = kn.runtime_install(lib, cu, soname_major);
    v[value::runtime_wheel] = wheel.empty() ? "the nvidia-* wheel or CUDA toolkit that ships " + lib : wheel;
  }
  if (const std::string tag = first_nonempty(v, "bnb_cuda"); tag.size() >= 3)
    v[value::bnb_cuda_text] = tag.substr(0, tag.size() - 1) + "." + tag.substr(tag.size() - 1);
  switch (sig.derive) {
    case Derive::kNone: break;
    case Derive::kCapabilityRange: derive_capability_range(v); break;
    case Derive::kTensorrtSm: derive_tensorrt(v, facts, kn); break;
    case Derive::kArchSpecificInstruction: derive_instruction(v, kn); break;
    case Derive::kTritonPtxas: derive_triton_ptxas(v, facts, kn); break;
    case Derive::kXformersTorch: derive_xformers(v); break;
  }
  v[value::env_note] = "";
  v[value::env_pin] = "";
  if (env) environment_values(v, *env, kn);
  v[value::so_code] = "";
  if (so_code && !first_nonempty(v, "so_path").empty()) {
    const std::string& path = v["so_path"];
    const std::string key = path + '\x1f' + std::to_string(log_cc);  // the verdict depends on the GPU known so far
    auto it = so_code->find(key);
    if (it == so_code->end() && so_code->size() < 16) it = so_code->emplace(key, describe_library(path, log_cc)).first;
    if (it != so_code->end()) v[value::so_code] = it->second;
  }
  f.severity = first_nonempty(v, "severity").empty() ? sig.severity : v["severity"];
  f.title = expand(sig.title, v);
  f.cause = expand(sig.cause, v);
  if (!v[value::so_code].empty() && f.severity == "error") f.cause += " " + v[value::so_code];
  f.fix = expand(sig.fix, v);
}

}  // namespace smwatch::cli
