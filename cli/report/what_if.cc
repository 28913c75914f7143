#include "what_if.h"

#include <map>
#include <memory>

#include "smwatch/arch.h"
#include "smwatch/scan.h"
#include "smwatch/verdict.h"

namespace smwatch::cli {

void judge_what_if(MergedReport& report) {
  // Each library's device code, read once (fatbin headers only) however many
  // kernels and processes name it.
  std::map<std::string, std::unique_ptr<FileScan>> libraries;
  auto library = [&](const std::string& path) -> const FileScan& {
    auto& slot = libraries[path];
    if (!slot) {
      slot = std::make_unique<FileScan>();
      if (!path.empty() && path.front() == '/') *slot = scan_file(path, {});
    }
    return *slot;
  };
  auto fails_on = [](const FileScan& lib, const std::string& target_name) {
    auto target = parse_target(target_name);
    return target && judge_code(lib.containers, target->cc).verdict == Verdict::kFail;
  };
  for (auto& p : report.processes) {
    // Missing in a registered fatbin, while the same library has code for the target.
    std::vector<record::Missing> missing;
    for (auto& m : p.missing) {
      const FileScan& lib = library(m.source);
      if (lib.has_device_code() && !fails_on(lib, m.target)) {
        m.origin = "library picks kernels per GPU";
        p.partial.push_back(std::move(m));
      } else {
        missing.push_back(std::move(m));
      }
    }
    p.missing = std::move(missing);
    for (const auto& k : p.runtime_kernels) {
      const FileScan& lib = library(k.caller);
      if (!lib.has_device_code()) {
        ++p.runtime_generated;
        continue;
      }
      ++p.runtime_from_library;
      for (const auto& target : p.targets) {
        if (!fails_on(lib, target)) continue;
        record::Missing m;
        static_cast<record::Common&>(m) = k;
        m.target = target;
        m.kernel = k.kernel;
        m.mangled = k.mangled;
        m.source = lib.path;
        m.archs = compact_archs(lib.containers);
        m.origin = "chosen at run time by its library";
        p.missing.push_back(std::move(m));
      }
    }
  }
}

}  // namespace smwatch::cli
