// The judgement of a scan: every file for every target, the per-target
// summaries, the grouping by package, and the exit status they give.
#include "smwatch/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "smwatch/arch.h"
#include "smwatch/package_fix.h"

namespace smwatch {

namespace {

std::string member_path(const FileScan& f) { return f.zip_member.empty() ? f.path : f.zip_member; }

std::string base_name(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

bool serves(Verdict v) { return v == Verdict::kOk || v == Verdict::kJit || v == Verdict::kPartial; }

// File i is not for target t: nothing of it runs there because the package
// does not use it there. Its counts and its kernel rows say the same.
void set_not_for_gpu(ScanReport& report, size_t i, size_t t, std::string reason, const std::string& fact) {
  FileVerdict& v = report.verdicts[i][t];
  v.verdict = Verdict::kNotForGpu;
  v.containers_not_for_gpu += v.containers_none + v.containers_sass + v.containers_jit;
  v.containers_none = v.containers_sass = v.containers_jit = 0;
  v.kernels_not_for_gpu = v.kernels;
  v.kernels_none = v.kernels_jit = 0;
  v.reason = std::move(reason);
  v.fact = fact;
  for (auto& row : report.kernels[i]) row.fits[t] = ContainerFit::kNotForThisGpu;
}

// A bare cubin, fatbin or PTX file is not loaded because it is there: a
// library picks the one built for the GPU it runs on and loads it by name
// (flashinfer-cubin 0.6.13 ships 15,970 cubins for sm_100, sm_100a and
// sm_103a, and picks them per GPU). So among one package's bare device-code
// files, one that has nothing for a target is for another GPU when another
// of them serves that target: N/A, not FAIL. When none of them serves it,
// the package has no code for that GPU: FAIL stays.
void judge_code_chosen_per_gpu(ScanReport& report, const std::vector<size_t>& files) {
  auto chosen_per_gpu = [&](size_t i) {
    const FileFormat f = report.tree.files[i].format;
    return f == FileFormat::kCubin || f == FileFormat::kFatbin || f == FileFormat::kPtx;
  };
  for (size_t t = 0; t < report.targets.size(); ++t) {
    size_t serving = 0;
    const FileScan* example = nullptr;
    for (size_t i : files) {
      if (!chosen_per_gpu(i)) continue;
      const Verdict v = report.verdicts[i][t].verdict;
      if ((v == Verdict::kOk || v == Verdict::kJit) && serving++ == 0) example = &report.tree.files[i];
    }
    if (serving == 0) continue;
    const std::string name = base_name(member_path(*example));
    for (size_t i : files) {
      if (!chosen_per_gpu(i) || report.verdicts[i][t].verdict != Verdict::kFail) continue;
      set_not_for_gpu(report, i, t,
                      "built for other GPUs; " + std::to_string(serving) + " device-code file" +
                          (serving == 1 ? "" : "s") + " of its package serve" + (serving == 1 ? "s " : " ") +
                          report.targets[t].sm_name() + " (e.g. " + name +
                          "): a library that loads them by GPU uses those there",
                      "");
    }
  }
}

std::string normalized_name(std::string name) {
  for (char& c : name) {
    if (c == '_' || c == '.') c = '-';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return name;
}

// What the '*' of a chosen_by_torch_cuda glob stands for in this file:
// "128" for libbitsandbytes_cuda128.so.
std::string torch_cuda_of_file(const PackageFact& fact, const std::string& path) {
  const std::string name = base_name(path);
  for (const auto& glob : fact.files) {
    const std::string pattern = base_name(glob);
    const size_t star = pattern.find('*');
    if (star == std::string::npos) continue;
    const std::string prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
    if (name.size() >= prefix.size() + suffix.size() && name.starts_with(prefix) && name.ends_with(suffix))
      return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  }
  return "";
}

// Applies one fact to the files of one package; true when it decided a verdict.
bool apply_fact(ScanReport& report, const PackageFact& fact, const std::vector<size_t>& files) {
  bool used = false;
  const std::string note = " [package fact " + fact.id + "]";
  for (size_t t = 0; t < report.targets.size(); ++t) {
    const uint16_t cc = report.targets[t].cc;
    const std::string sm = report.targets[t].sm_name();
    auto any_match = [&](const std::vector<CcPattern>& list) {
      return std::any_of(list.begin(), list.end(), [&](const CcPattern& p) { return p.matches(cc); });
    };
    if (!fact.used_on.empty() || !fact.not_used_on.empty()) {
      const bool used_here = fact.used_on.empty() ? !any_match(fact.not_used_on) : any_match(fact.used_on);
      if (used_here) continue;
      for (size_t i : files) {
        // Short: a package may have thousands of such files (flashinfer-cubin:
        // 15,970); the fact's sentence is listed once (facts_used).
        set_not_for_gpu(report, i, t, "not used on " + sm + " by " + fact.package + note, fact.id);
        used = true;
      }
    } else if (fact.compiled_at_first_use) {
      for (size_t i : files) {
        if (report.verdicts[i][t].verdict != Verdict::kFail) continue;
        set_not_for_gpu(report, i, t, "nothing for " + sm + " here, and not needed: " + fact.says + note, fact.id);
        used = true;
      }
    } else if (fact.chosen_by_torch_cuda) {
      const std::string torch = cuda_digits(report.torch_cuda);
      if (!torch.empty()) {
        for (size_t i : files) {
          const std::string mine = torch_cuda_of_file(fact, member_path(report.tree.files[i]));
          if (mine.empty() || mine == torch) continue;
          set_not_for_gpu(report, i, t,
                          "not loaded: torch here is built with CUDA " + report.torch_cuda + ", so " + fact.package +
                              " loads the file for it, not this one (" + fact.says + ")" + note,
                          fact.id);
          used = true;
        }
        continue;
      }
      // torch's CUDA version unknown (a wheel alone): a file with nothing for
      // the GPU is not the one loaded there when a sibling for another CUDA
      // version serves it.
      std::vector<std::string> serving;
      for (size_t i : files)
        if (serves(report.verdicts[i][t].verdict)) serving.push_back(base_name(member_path(report.tree.files[i])));
      if (serving.empty()) continue;
      for (size_t i : files) {
        if (report.verdicts[i][t].verdict != Verdict::kFail) continue;
        set_not_for_gpu(report, i, t,
                        "not for " + sm + " with the torch it is loaded with: " + fact.says + ", and " +
                            std::to_string(serving.size()) + " of them serve " + sm + " (e.g. " + serving.front() +
                            "; smscan --python or --torch-cuda tells which one loads)" + note,
                        fact.id);
        used = true;
      }
    }
  }
  return used;
}

void apply_package_facts(ScanReport& report, const std::vector<PackageFact>& facts) {
  for (const PackageGroup& g : report.packages) {
    if (g.dist.name.empty()) continue;
    const std::string name = normalized_name(g.dist.name);
    for (const PackageFact& fact : facts) {
      if (normalized_name(fact.package) != name || !version_in_range(g.dist.version, fact.versions)) continue;
      std::vector<size_t> files;
      for (size_t i : g.files)
        if (fact_covers_file(fact, member_path(report.tree.files[i]))) files.push_back(i);
      if (files.empty() || !apply_fact(report, fact, files)) continue;
      if (std::none_of(report.facts_used.begin(), report.facts_used.end(),
                       [&](const PackageFact& f) { return f.id == fact.id; }))
        report.facts_used.push_back(fact);
    }
  }
}

// PTX newer than the driver: the driver refuses it (error 222).
void mark_ptx_the_driver_refuses(TreeScan& tree, const Driver& driver) {
  for (auto& file : tree.files)
    for (auto& container : file.containers)
      for (auto& image : container.images)
        image.driver_refuses = image.kind == CodeKind::kPtx &&
                               driver_jits(driver, image.version_major, image.version_minor) == DriverJit::kNo;
}

// A file that fails or is partial on a target where refused PTX would have
// served it says so, and which driver to install.
void explain_driver_refusals(ScanReport& report) {
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const FileScan& file = report.tree.files[i];
    for (size_t t = 0; t < report.targets.size(); ++t) {
      FileVerdict& v = report.verdicts[i][t];
      if (v.verdict != Verdict::kFail && v.verdict != Verdict::kPartial) continue;
      size_t refused = 0;
      const FatbinImage* newest = nullptr;
      for (const auto& container : file.containers) {
        bool here = false;
        for (const auto& image : container.images) {
          if (!image.driver_refuses || usability(image.kind, image.arch, report.targets[t].cc) == Usability::kNone)
            continue;
          here = true;
          if (newest == nullptr || std::pair(image.version_major, image.version_minor) >
                                       std::pair(newest->version_major, newest->version_minor))
            newest = &image;
        }
        refused += here;
      }
      if (newest == nullptr) continue;
      const std::string fix = driver_fix(newest->version_major, newest->version_minor);
      const std::string cuda = cuda_for_ptx_isa(newest->version_major, newest->version_minor);
      const std::string why = fmt::format(
          "{} fatbin{} only PTX for it, of ISA {} ({}), which this driver ({}) cannot compile: error 222, "
          "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
          refused, refused == 1 ? " has" : "s have", newest->ptx_isa(),
          cuda.empty() ? "newer than any CUDA release smwatch knows" : "CUDA " + cuda, report.driver.label);
      // Failing for the driver alone: that is the reason; else one more.
      if (v.verdict == Verdict::kFail && refused == v.containers_none) {
        v.reason = why + "; " + fix;
        ++report.summaries[t].fail_by_driver;
      } else {
        v.reason += "; " + why + "; " + fix;
      }
      std::string& summary_fix = report.summaries[t].driver_fix;
      if (summary_fix.empty() || v.verdict == Verdict::kFail) summary_fix = fix;
    }
  }
}

}  // namespace

std::string launch_error_text(const TargetSummary& s) {
  // The driver's own words (cuGetErrorString) for errors 209 and 222.
  constexpr const char* kNoImage = "\"no kernel image is available for execution on the device\"";
  constexpr const char* kPtxTooNew =
      "error 222 (\"the provided PTX was compiled with an unsupported toolchain\")";
  if (s.fail_by_driver == 0) return kNoImage;
  if (s.fail_by_driver >= s.fail) return kPtxTooNew;
  return std::string(kNoImage) + " or, where only PTX newer than the driver is there, " + kPtxTooNew;
}

bool ScanReport::kernels_read() const {
  for (const auto& k : kernels)
    if (!k.empty()) return true;
  return false;
}

int ScanReport::exit_code() const {
  if (unreadable > 0 || damaged > 0) return kExitError;  // the prediction is incomplete
  for (const auto& s : summaries)
    if (s.verdict == Verdict::kFail || (strict && s.verdict == Verdict::kPartial)) return kExitFail;
  return kExitOk;
}

ScanReport judge(TreeScan tree, std::vector<Target> targets, const PackageIndex* packages, const Driver& driver) {
  JudgeOptions options;
  options.packages = packages;
  options.driver = driver;
  return judge(std::move(tree), std::move(targets), options);
}

ScanReport judge(TreeScan tree, std::vector<Target> targets, const JudgeOptions& options) {
  const PackageIndex* packages = options.packages;
  const Driver& driver = options.driver;
  ScanReport report;
  report.torch_cuda = options.torch_cuda;
  if (report.torch_cuda.empty() && packages != nullptr) report.torch_cuda = packages->torch_cuda_version();
  report.tree = std::move(tree);
  report.targets = std::move(targets);
  report.driver = driver;
  if (driver.known()) mark_ptx_the_driver_refuses(report.tree, driver);
  std::vector<uint16_t> ccs;
  for (const auto& t : report.targets) {
    report.summaries.push_back({t});
    ccs.push_back(t.cc);
  }
  for (const auto& file : report.tree.files) {
    if (!file.read_error.empty()) ++report.unreadable;
    if (!file.problems.empty()) ++report.damaged;
    std::vector<FileVerdict> row;
    for (const auto& t : report.targets) row.push_back(judge_code(file.containers, t.cc));
    report.verdicts.push_back(std::move(row));
    report.kernels.push_back(judge_kernels(file.containers, ccs));
  }

  // Group by distribution: a wheel's members by the wheel's name, installed
  // files by the RECORD that lists them.
  std::map<std::pair<std::string, std::string>, size_t> group_of;
  bool any_known = false;
  report.file_package.assign(report.tree.files.size(), -1);
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    FileScan& file = report.tree.files[i];
    if (!file.has_device_code()) continue;
    Distribution dist;
    if (!file.zip_path.empty()) {
      if (auto d = distribution_of_wheel(file.zip_path, file.zip_dist_info)) dist = *d;
    } else if (packages != nullptr) {
      if (const Distribution* d = packages->owner_of(file.path)) {
        dist = *d;
      } else if (auto claimants = packages->claimants_of(file.path); !claimants.empty()) {
        std::string names;
        for (const auto& c : claimants) names += (names.empty() ? "" : ", ") + c.name + " " + c.version;
        file.notes.push_back("listed in the RECORD of more than one distribution (" + names +
                             "): attributed to none of them");
      }
    }
    any_known |= !dist.name.empty();
    auto [it, added] = group_of.try_emplace({dist.name, dist.version}, report.packages.size());
    if (added) {
      PackageGroup g;
      g.dist = dist;
      g.verdicts.assign(report.targets.size(), Verdict::kNotForGpu);  // the identity of worst()
      g.kernels_fail.assign(report.targets.size(), 0);
      report.packages.push_back(std::move(g));
    }
    PackageGroup& g = report.packages[it->second];
    g.files.push_back(i);
    report.file_package[i] = static_cast<int>(it->second);
  }
  apply_package_facts(report, options.facts != nullptr ? *options.facts : builtin_package_facts());
  for (const auto& g : report.packages)
    if (!g.dist.name.empty()) judge_code_chosen_per_gpu(report, g.files);
  if (driver.known()) explain_driver_refusals(report);

  // The summaries, from the final verdicts: N/A only when no file is for the GPU.
  bool any_code = false;
  for (const auto& f : report.tree.files) any_code |= f.has_device_code();
  if (any_code)
    for (auto& s : report.summaries) s.verdict = Verdict::kNotForGpu;
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    if (!report.tree.files[i].has_device_code()) continue;
    for (size_t t = 0; t < report.targets.size(); ++t) {
      const FileVerdict& v = report.verdicts[i][t];
      TargetSummary& s = report.summaries[t];
      s.verdict = worst(s.verdict, v.verdict);
      s.kernels_fail += v.kernels_none;
      s.kernels_jit += v.kernels_jit;
      switch (v.verdict) {
        case Verdict::kNotForGpu: ++s.not_for_gpu; break;
        case Verdict::kOk: ++s.ok; break;
        case Verdict::kJit: ++s.jit; break;
        case Verdict::kPartial: ++s.partial; break;
        case Verdict::kFail: ++s.fail; break;
      }
    }
  }
  for (auto& g : report.packages)
    for (size_t i : g.files)
      for (size_t t = 0; t < report.targets.size(); ++t) {
        g.verdicts[t] = worst(g.verdicts[t], report.verdicts[i][t].verdict);
        g.kernels_fail[t] += report.verdicts[i][t].kernels_none;
      }
  if (!any_known) {
    report.packages.clear();
    report.file_package.assign(report.tree.files.size(), -1);
  } else {
    // Known packages by name, the files of none last.
    std::vector<size_t> order(report.packages.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto& da = report.packages[a].dist;
      const auto& db = report.packages[b].dist;
      if (da.name.empty() != db.name.empty()) return db.name.empty();
      return std::tie(da.name, da.version) < std::tie(db.name, db.version);
    });
    std::vector<PackageGroup> sorted;
    std::vector<int> new_index(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      new_index[order[i]] = static_cast<int>(i);
      sorted.push_back(std::move(report.packages[order[i]]));
    }
    report.packages = std::move(sorted);
    for (int& p : report.file_package)
      if (p >= 0) p = new_index[static_cast<size_t>(p)];
  }
  return report;
}

}  // namespace smwatch

namespace smwatch {

namespace {
// a >= b for CUDA versions such as "12.8" and "9.0".
bool cuda_at_least(std::string_view a, std::string_view b) { return version_in_range(a, ">=" + std::string(b)); }
}  // namespace

namespace {

// What is missing for target t in `files`, from what they hold: when their
// code already reaches a GPU whose first toolkit can also build for t, the
// toolkit is not the problem; the arch lists of the failing files are.
// Empty when that is not so (the caller falls back on fix_hint).
std::string arch_list_fix(const ScanReport& report, const std::vector<size_t>& files, size_t t,
                          const std::string& what) {
  const uint16_t cc = report.targets[t].cc;
  const std::string sm = report.targets[t].sm_name();
  const GpuGeneration* target = find_generation(cc);
  if (target == nullptr || *target->last_cuda) return "";  // the toolkit line is the fix there
  // The code for the GPU that needs the newest toolkit.
  const GpuGeneration* built = nullptr;
  uint16_t newest = 0;
  for (size_t i : files)
    for (const auto& c : report.tree.files[i].containers)
      for (const auto& image : c.images) {
        if (image.arch.number == newest) continue;
        const GpuGeneration* gen = find_generation(image.arch.number);
        if (gen != nullptr && (built == nullptr || !cuda_at_least(built->first_cuda, gen->first_cuda))) {
          built = gen;
          newest = image.arch.number;
        }
      }
  if (built == nullptr || !cuda_at_least(built->first_cuda, target->first_cuda)) return "";
  std::vector<std::string> failing;
  for (size_t i : files)
    if (report.verdicts[i][t].verdict == Verdict::kFail) failing.push_back(base_name(member_path(report.tree.files[i])));
  if (failing.empty()) return "";
  std::string names;
  for (size_t k = 0; k < failing.size() && k < 3; ++k) names += (k ? ", " : "") + failing[k];
  if (failing.size() > 3) names += " and " + std::to_string(failing.size() - 3) + " more";
  return what + " already reaches sm_" + std::to_string(newest) + " (built with CUDA " + built->first_cuda +
         " or newer, which can build for " + sm + "), but " + names + " leave" + (failing.size() == 1 ? "s " : " ") +
         sm + " out of " + (failing.size() == 1 ? "its" : "their") + " architecture list: ";
}

}  // namespace

std::string package_fix(const ScanReport& report, const PackageGroup& g, size_t t) {
  const uint16_t cc = report.targets[t].cc;
  const std::string sm = report.targets[t].sm_name();
  if (g.dist.name.empty()) return target_fix(report, t);
  if (!report.image.empty()) {
    // PyPI's torch says its CUDA line in torch/version.py, not in its version.
    std::string version = g.dist.version;
    if (g.dist.name == "torch" && version.find("+cu") == std::string::npos && !report.image.torch_cuda.empty())
      version += " (CUDA " + report.image.torch_cuda + ")";
    return image_fix_hint(cc, report.image.name, g.dist.name, version);
  }
  const std::string missing = arch_list_fix(report, g.files, t, "this " + g.dist.name + " " + g.dist.version + " build");
  if (!missing.empty())
    return missing + "ask the project for a build that includes " + sm + ", or build it from source with " + sm +
           " in TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES";
  return fix_hint(cc, g.dist.name, g.dist.version);
}

std::string target_fix(const ScanReport& report, size_t t) {
  const uint16_t cc = report.targets[t].cc;
  const std::string sm = report.targets[t].sm_name();
  // PTX newer than the driver is what fails: the driver to install.
  if (t < report.summaries.size() && !report.summaries[t].driver_fix.empty()) return report.summaries[t].driver_fix;
  if (!report.image.empty()) return image_fix_hint(cc, report.image.name);
  std::vector<size_t> files;
  for (size_t i = 0; i < report.tree.files.size(); ++i)
    if (report.tree.files[i].has_device_code()) files.push_back(i);
  const std::string missing = arch_list_fix(report, files, t, "the code scanned");
  if (!missing.empty())
    return missing + "install builds of them that include " + sm + ", or rebuild them with " + sm +
           " in TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES (-gencode)";
  return fix_hint(cc);
}

}  // namespace smwatch
