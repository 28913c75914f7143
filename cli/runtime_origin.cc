#include "runtime_origin.h"

#include <algorithm>
#include <map>
#include <memory>

#include "smwatch/arch.h"
#include "smwatch/scan.h"
#include "smwatch/verdict.h"

namespace smwatch::cli {
namespace {

// A library's device code, read once per report whatever number of kernels
// and processes name it.
struct Library {
  FileScan scan;
  bool defines(const std::string& mangled) const {
    for (const auto& c : scan.containers)
      for (const auto& image : c.images)
        if (std::find(image.kernels.begin(), image.kernels.end(), mangled) != image.kernels.end()) return true;
    return false;
  }
};

}  // namespace

void judge_runtime_kernels(MergedReport& report) {
  std::map<std::string, std::unique_ptr<Library>> libraries;
  auto library = [&](const std::string& path) -> const Library& {
    auto& slot = libraries[path];
    if (!slot) {
      slot = std::make_unique<Library>();
      ScanOptions options;
      options.kernels = true;  // which kernels it defines
      if (!path.empty() && path.front() == '/') slot->scan = scan_file(path, options);
    }
    return *slot;
  };
  for (auto& p : report.processes) {
    for (const auto& k : p.runtime_kernels) {
      const std::string mangled = field_text(k, "mangled");
      const Library& lib = library(field_text(k, "caller"));
      if (mangled.empty() || !lib.defines(mangled)) {
        ++p.runtime_generated;
        continue;
      }
      ++p.runtime_copied;
      for (const auto& name : p.targets) {
        auto target = parse_target(name);
        if (!target) continue;
        if (judge_code(lib.scan.containers, target->cc).verdict != Verdict::kFail) continue;
        nlohmann::json missing = k;
        missing["type"] = "missing";
        missing["target"] = target->sm_name();
        missing["source"] = lib.scan.path;
        missing["archs"] = compact_archs(lib.scan.containers);
        missing["origin"] = "copied from library";
        p.missing.push_back(std::move(missing));
      }
    }
  }
}

}  // namespace smwatch::cli
