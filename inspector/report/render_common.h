// What the renderers (table.cc, json.cc, markdown.cc, html.cc) share: not
// part of the library's interface. Text from outside is escaped with
// smwatch/text.h, one escaper per destination, never here.
#pragma once

#include <string>

#include "smwatch/report.h"

namespace smwatch::render {

// The names of the GPUs of a compute capability, "" when it is unknown.
inline std::string gpus_of(uint16_t cc) {
  const GpuGeneration* gen = find_generation(cc);
  return gen ? gen->gpus : "";
}

// What a kernel's fit shows as: "n/a" is code only for other GPUs, which
// the library does not call on this one.
inline const char* fit_label(ContainerFit fit) {
  switch (fit) {
    case ContainerFit::kSass: return "OK";
    case ContainerFit::kJit: return "JIT";
    case ContainerFit::kNone: return "FAIL";
    default: return "n/a";  // the file verdict's N/A, kernel by kernel
  }
}

// A kernel's code: "sm_80 sm_90 ptx:compute_90".
inline std::string arch_list(const KernelRow& k) {
  std::string out;
  for (const auto& a : k.sass) out += (out.empty() ? "" : " ") + a.sm_name();
  for (const auto& a : k.ptx) out += (out.empty() ? "" : " ") + std::string("ptx:") + a.compute_name();
  return out;
}

inline std::string package_title(const PackageGroup& g) {
  return g.dist.name.empty() ? "(files of no known package)" : g.dist.name + " " + g.dist.version;
}


// What a container image carries, as lines of text (unescaped): its Pythons,
// torch and its CUDA line, the CUDA libraries. Empty when no image was scanned.
inline std::vector<std::string> image_lines(const ScanReport& report) {
  std::vector<std::string> lines;
  const ImageSummary& image = report.image;
  if (image.empty()) return lines;
  lines.push_back("image " + image.name + ": " + image.manifest + ", " + std::to_string(image.layers) + " layer" +
                  (image.layers == 1 ? "" : "s"));
  for (const auto& dir : image.site_dirs) lines.push_back("python packages: " + dir);
  if (!image.torch_version.empty())
    lines.push_back("torch " + image.torch_version +
                    (image.torch_cuda.empty() ? " (no CUDA line: a CPU build?)" : " (CUDA " + image.torch_cuda + ")"));
  for (const auto& lib : image.cuda_libraries)
    lines.push_back(lib.component + (lib.version.empty() ? "" : " " + lib.version) + ": " + lib.path +
                    (lib.package.empty() ? "" : " (" + lib.package + ")"));
  if (image.cuda_libraries.empty()) lines.push_back("no CUDA runtime or toolkit libraries");
  return lines;
}

inline size_t files_with_device_code(const ScanReport& report) {
  size_t n = 0;
  for (const auto& f : report.tree.files) n += f.has_device_code();
  return n;
}

// The worst verdict over all targets: the one a summary's title shows.
inline Verdict overall_verdict(const ScanReport& report) {
  Verdict overall = Verdict::kOk;
  for (const auto& s : report.summaries) overall = worst(overall, s.verdict);
  return overall;
}

}  // namespace smwatch::render
