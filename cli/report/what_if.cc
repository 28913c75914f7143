#include "what_if.h"

#include <filesystem>
#include <map>
#include <set>
#include <memory>

#include "smwatch/arch.h"
#include "smwatch/scan.h"
#include "smwatch/verdict.h"

namespace smwatch::cli {

namespace {

// Whether a library has code for a what-if target, as far as can be told.
enum class Serves { kYes, kNo, kUnknown };

// Each library file's device code, read once (fatbin headers only) however
// many kernels and processes name it: only for reports of shims from before
// `library` records, and only where the file is here.
class LibraryFiles {
 public:
  const FileScan* scan(const std::string& path) {
    auto& slot = files_[path];
    if (!slot) {
      slot = std::make_unique<FileScan>();
      std::error_code ec;
      if (!path.empty() && path.front() == '/' && std::filesystem::is_regular_file(path, ec)) {
        *slot = scan_file(path, {});
        readable_.insert(path);
      }
    }
    return readable_.count(path) ? slot.get() : nullptr;
  }

 private:
  std::map<std::string, std::unique_ptr<FileScan>> files_;
  std::set<std::string> readable_;
};

// What the records of one process tell about a library, first: its
// `library` record (the shim summarised the whole object); else its
// registered modules (one that serves the target shows the library does);
// else the file, when it is here; else nothing.
class LibraryFacts {
 public:
  LibraryFacts(const ProcessReport& p, LibraryFiles& files) : p_(p), files_(files) {}

  // Whether the library has device code of its own: nullopt when unknown.
  std::optional<bool> has_code(const std::string& path) {
    if (auto it = p_.libraries.find(path); it != p_.libraries.end()) return it->second.fatbins > 0;
    if (registered_modules(path)) return true;
    if (const FileScan* scan = files_.scan(path)) return scan->has_device_code();
    return std::nullopt;
  }

  Serves serves(const std::string& path, const std::string& target_name) {
    if (auto it = p_.libraries.find(path); it != p_.libraries.end()) {
      auto v = it->second.verdicts.find(target_name);
      if (it->second.fatbins == 0) return Serves::kNo;
      if (v != it->second.verdicts.end()) return v->second == "FAIL" ? Serves::kNo : Serves::kYes;
    }
    for (const auto& m : p_.modules) {
      if (m.source != path || m.origin != record::kOriginFile) continue;
      auto v = m.verdicts.find(target_name);
      if (v != m.verdicts.end() && (v->second == "OK" || v->second == "JIT" || v->second == "PARTIAL"))
        return Serves::kYes;
    }
    const FileScan* scan = files_.scan(path);
    auto target = parse_target(target_name);
    if (!scan || !target) return Serves::kUnknown;
    return scan->has_device_code() && judge_code(scan->containers, target->cc).verdict != Verdict::kFail
               ? Serves::kYes
               : Serves::kNo;
  }

  std::string archs(const std::string& path) {
    if (auto it = p_.libraries.find(path); it != p_.libraries.end()) return it->second.archs;
    if (const FileScan* scan = files_.scan(path)) return compact_archs(scan->containers);
    return "";
  }

 private:
  bool registered_modules(const std::string& path) const {
    for (const auto& m : p_.modules)
      if (m.source == path && m.origin == record::kOriginFile && !m.archs.empty()) return true;
    return false;
  }

  const ProcessReport& p_;
  LibraryFiles& files_;
};

}  // namespace

void judge_what_if(MergedReport& report) {
  LibraryFiles files;
  for (auto& p : report.processes) {
    LibraryFacts facts(p, files);
    // Missing in a registered fatbin, while the same library has code for the target.
    std::vector<record::Missing> missing;
    for (auto& m : p.missing) {
      switch (facts.serves(m.source, m.target)) {
        case Serves::kYes:
          m.origin = "library picks kernels per GPU";
          p.partial.push_back(std::move(m));
          break;
        case Serves::kNo: missing.push_back(std::move(m)); break;
        case Serves::kUnknown:
          m.origin = kLibraryNotReadable;
          p.unjudged.push_back(std::move(m));
          break;
      }
    }
    p.missing = std::move(missing);
    for (const auto& k : p.runtime_kernels) {
      std::optional<bool> has_code = facts.has_code(k.caller);
      if (has_code && !*has_code) {
        ++p.runtime_generated;
        continue;
      }
      if (has_code) ++p.runtime_from_library;
      else ++p.runtime_unjudged;
      for (const auto& target : p.targets) {
        Serves serves = has_code ? facts.serves(k.caller, target) : Serves::kUnknown;
        if (serves == Serves::kYes) continue;
        record::Missing m;
        static_cast<record::Common&>(m) = k;
        m.target = target;
        m.kernel = k.kernel;
        m.mangled = k.mangled;
        m.source = k.caller;
        m.archs = facts.archs(k.caller);
        if (serves == Serves::kNo) {
          m.origin = "chosen at run time by its library";
          p.missing.push_back(std::move(m));
        } else {
          m.origin = kLibraryNotReadable;
          p.unjudged.push_back(std::move(m));
        }
      }
    }
  }
}

}  // namespace smwatch::cli
