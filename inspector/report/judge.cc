// The judgement of a scan: every file for every target, the per-target
// summaries, the grouping by package, and the exit status they give.
#include "smwatch/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace smwatch {

namespace {

// A bare cubin, fatbin or PTX file is not loaded because it is there: a
// library picks the one built for the GPU it runs on and loads it by name
// (flashinfer-cubin 0.6.13 ships 15,970 cubins for sm_100, sm_100a and
// sm_103a, and picks them per GPU). So among one package's bare device-code
// files, one that has nothing for a target is for another GPU when another
// of them serves that target: PARTIAL, its kernels not for this GPU, not
// FAIL. When none of them serves it, the package has no code for that GPU:
// FAIL stays.
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
    const std::string& path = example->zip_member.empty() ? example->path : example->zip_member;
    const std::string name = path.substr(path.find_last_of('/') + 1);
    for (size_t i : files) {
      FileVerdict& v = report.verdicts[i][t];
      if (!chosen_per_gpu(i) || v.verdict != Verdict::kFail) continue;
      v.verdict = Verdict::kPartial;
      v.containers_not_for_gpu += v.containers_none;
      v.containers_none = 0;
      v.kernels_not_for_gpu += v.kernels_none;
      v.kernels_none = 0;
      v.reason = "built for other GPUs; " + std::to_string(serving) + " device-code file" + (serving == 1 ? "" : "s") +
                 " of its package serve" + (serving == 1 ? "s " : " ") + report.targets[t].sm_name() + " (e.g. " +
                 name + "): a library that loads them by GPU uses those there";
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
      if (v.verdict == Verdict::kFail && refused == v.containers_none) v.reason = why + "; " + fix;
      else v.reason += "; " + why + "; " + fix;
      std::string& summary_fix = report.summaries[t].driver_fix;
      if (summary_fix.empty() || v.verdict == Verdict::kFail) summary_fix = fix;
    }
  }
}

}  // namespace

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
  ScanReport report;
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
      g.verdicts.assign(report.targets.size(), Verdict::kOk);
      g.kernels_fail.assign(report.targets.size(), 0);
      report.packages.push_back(std::move(g));
    }
    PackageGroup& g = report.packages[it->second];
    g.files.push_back(i);
    report.file_package[i] = static_cast<int>(it->second);
  }
  for (const auto& g : report.packages)
    if (!g.dist.name.empty()) judge_code_chosen_per_gpu(report, g.files);
  if (driver.known()) explain_driver_refusals(report);

  // The summaries, from the final verdicts.
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    if (!report.tree.files[i].has_device_code()) continue;
    for (size_t t = 0; t < report.targets.size(); ++t) {
      const FileVerdict& v = report.verdicts[i][t];
      TargetSummary& s = report.summaries[t];
      s.verdict = worst(s.verdict, v.verdict);
      s.kernels_fail += v.kernels_none;
      s.kernels_jit += v.kernels_jit;
      switch (v.verdict) {
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
