// The judgement of a scan: every file for every target, the per-target
// summaries, the grouping by package, and the exit status they give.
#include "smwatch/report.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace smwatch {

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

ScanReport judge(TreeScan tree, std::vector<Target> targets, const PackageIndex* packages) {
  ScanReport report;
  report.tree = std::move(tree);
  report.targets = std::move(targets);
  std::vector<uint16_t> ccs;
  for (const auto& t : report.targets) {
    report.summaries.push_back({t});
    ccs.push_back(t.cc);
  }
  for (const auto& file : report.tree.files) {
    if (!file.read_error.empty()) ++report.unreadable;
    if (!file.problems.empty()) ++report.damaged;
    std::vector<FileVerdict> row;
    for (size_t i = 0; i < report.targets.size(); ++i) {
      row.push_back(judge_code(file.containers, report.targets[i].cc));
      if (!file.has_device_code()) continue;
      TargetSummary& s = report.summaries[i];
      s.verdict = worst(s.verdict, row.back().verdict);
      s.kernels_fail += row.back().kernels_none;
      s.kernels_jit += row.back().kernels_jit;
      switch (row.back().verdict) {
        case Verdict::kOk: ++s.ok; break;
        case Verdict::kJit: ++s.jit; break;
        case Verdict::kPartial: ++s.partial; break;
        case Verdict::kFail: ++s.fail; break;
      }
    }
    report.verdicts.push_back(std::move(row));
    report.kernels.push_back(judge_kernels(file.containers, ccs));
  }

  // Group by distribution: a wheel's members by the wheel's name, installed
  // files by the RECORD that lists them.
  std::map<std::pair<std::string, std::string>, size_t> group_of;
  bool any_known = false;
  report.file_package.assign(report.tree.files.size(), -1);
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const FileScan& file = report.tree.files[i];
    if (!file.has_device_code()) continue;
    Distribution dist;
    if (!file.zip_path.empty()) {
      if (auto d = distribution_of_wheel(file.zip_path)) dist = *d;
    } else if (packages != nullptr) {
      if (const Distribution* d = packages->owner_of(file.path)) dist = *d;
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
    for (size_t t = 0; t < report.targets.size(); ++t) {
      g.verdicts[t] = worst(g.verdicts[t], report.verdicts[i][t].verdict);
      g.kernels_fail[t] += report.verdicts[i][t].kernels_none;
    }
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
