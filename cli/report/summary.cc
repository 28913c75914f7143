#include "summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "smwatch/arch.h"
#include "smwatch/package_fix.h"
#include "smwatch/demangle.h"

namespace smwatch::cli {

namespace {

std::string driver_text(int driver) {  // 13000 = CUDA 13.0
  return driver > 0 ? fmt::format("{}.{}", driver / 1000, (driver % 1000) / 10) : "";
}

void add_pid(std::vector<int64_t>& pids, int64_t pid) {
  if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
}

}  // namespace

Summary summarize(const MergedReport& report) {
  Summary s;
  std::set<std::string> gpus, libs;
  // Where each group is, by what makes records the same: distinct failures
  // and misses of many processes are grouped in n log n, not n^2. The keys
  // view the records of `report`, which outlives them.
  using Key = std::tuple<const std::string&, const std::string&, const std::string&, const std::string&>;
  std::map<Key, size_t> failure_index, missing_index, handled_index, unjudged_index;
  for (const auto& p : report.processes) {
    if (!p.exit) ++s.crashed;
    s.partial += p.partial.size();
    s.runtime_from_library += p.runtime_from_library;
    s.runtime_generated += p.runtime_generated;
    s.runtime_unjudged += p.runtime_unjudged;
    for (const auto& g : p.gpus) {
      std::string d = driver_text(g.driver);
      std::string text =
          fmt::format("{} ({}, CC {}){}", g.name, g.arch, g.cc, d.empty() ? "" : ", driver supports CUDA " + d);
      if (gpus.insert(text).second) s.gpus.push_back(text);
    }
    for (const auto& group : p.failures) {
      const record::Failure& f = group.first;
      auto [at, fresh] = failure_index.try_emplace(std::tie(f.error_name, f.kernel, f.mangled, f.source), s.failures.size());
      if (fresh) s.failures.push_back({f, {}, 0});
      FailureSummary& g = s.failures[at->second];
      g.count += group.count;
      add_pid(g.pids, p.pid);
      if (!f.source.empty() && libs.insert(f.source).second) s.libraries_at_fault.push_back(f.source);
    }
    for (const auto& group : p.handled) {
      const record::Failure& f = group.first;
      auto [at, fresh] = handled_index.try_emplace(std::tie(f.error_name, f.kernel, f.mangled, f.source), s.handled.size());
      if (fresh) s.handled.push_back({f, {}, 0});
      s.handled[at->second].count += group.count;
      s.handled_count += group.count;
      add_pid(s.handled[at->second].pids, p.pid);
    }
    auto add_missing = [&](const record::Missing& m, auto& by_target, auto& index) {
      auto& list = by_target[m.target];
      auto [at, fresh] = index.try_emplace(std::tie(m.target, m.kernel, m.mangled, m.source), list.size());
      if (fresh) list.push_back({m, {}});
      add_pid(list[at->second].pids, p.pid);
    };
    for (const auto& m : p.missing) add_missing(m, s.missing, missing_index);
    for (const auto& m : p.unjudged) add_missing(m, s.unjudged, unjudged_index);
  }
  return s;
}

std::string headline(const MergedReport& r, const Summary& s) {
  const size_t modules = r.module_count(), failures = r.failure_count();
  std::string text = fmt::format("{} process{}, {} module{} loaded, {} failure{}", r.processes.size(),
                                 r.processes.size() == 1 ? "" : "es", modules, modules == 1 ? "" : "s", failures,
                                 failures == 1 ? "" : "s");
  for (const auto& [target, groups] : s.missing)
    text += fmt::format(", what-if {}: {} kernel{} without code", target, groups.size(), groups.size() == 1 ? "" : "s");
  if (s.partial > 0)
    text += fmt::format(", {} kernel{} PARTIAL on a what-if target (their fatbin lacks code for it, other fatbins of "
                        "the same library have it: they fail if called there, which a library that picks kernels per GPU, as "
                        "cuBLAS and cuDNN do, avoids)",
                        s.partial, s.partial == 1 ? "" : "s");
  const size_t runtime = s.runtime_from_library + s.runtime_generated + s.runtime_unjudged;
  if (runtime > 0)
    text += fmt::format(", {} kernel{} chosen at run time ({} by a library judged as a whole, {} generated in the "
                        "process for this GPU{})",
                        runtime, runtime == 1 ? "" : "s", s.runtime_from_library, s.runtime_generated,
                        s.runtime_unjudged ? fmt::format(", {} by a library not readable here", s.runtime_unjudged) : "");
  if (s.handled_count > 0)
    text += fmt::format(", {} look-up{} of kernels built only for other GPUs handled by {} library (not failures)",
                        s.handled_count, s.handled_count == 1 ? "" : "s", s.handled_count == 1 ? "its" : "their");
  size_t unjudged = 0;
  for (const auto& [target, groups] : s.unjudged) unjudged += groups.size();
  if (unjudged > 0)
    text += fmt::format(", {} what-if kernel{} not judged (library not readable here)", unjudged,
                        unjudged == 1 ? "" : "s");
  if (s.crashed) text += fmt::format(", {} without an exit record (crashed or killed)", s.crashed);
  return text;
}

std::string kernel_name(const std::string& kernel, const std::string& mangled) {
  std::string k = kernel.empty() ? smwatch::demangle(mangled) : kernel;
  return k.empty() ? "(unknown kernel)" : k;
}

std::string fix_of(const record::Failure& f) {
  if (!f.fix.empty()) return f.fix;
  if (auto t = parse_target(f.gpu_arch)) return fix_hint(t->cc);
  return "install a build of this library that includes your GPU's architecture";
}

std::string what_if_fix(const std::string& target) {
  if (auto t = parse_target(target)) return fix_hint(t->cc);
  return "install builds that include " + target;
}

std::string pid_list(const std::vector<int64_t>& pids) {
  std::string out;
  for (size_t i = 0; i < pids.size() && i < 8; ++i) out += (i ? " " : "") + std::to_string(pids[i]);
  if (pids.size() > 8) out += fmt::format(" (+{})", pids.size() - 8);
  return out;
}

std::string verdicts_text(const ModuleLoads& m) {
  std::string out;
  for (const auto& [arch, v] : m.verdicts) out += (out.empty() ? "" : ", ") + arch + " " + v;
  return out;
}

}  // namespace smwatch::cli
