// The Markdown summary, for a CI comment (GitHub-flavoured). Every field from
// outside goes through escape_md (prose) or md_code (a code span), once.
#include "smwatch/report.h"

#include <fmt/format.h>

#include "render_common.h"
#include "smwatch/text.h"

namespace smwatch {

using namespace render;

namespace {

const char* verdict_icon(Verdict v) {
  switch (v) {
    case Verdict::kNotForGpu: return "➖ N/A";
    case Verdict::kOk: return "✅ OK";
    case Verdict::kJit: return "⚠️ JIT";
    case Verdict::kPartial: return "🔶 PARTIAL";
    default: return "❌ FAIL";
  }
}

}  // namespace

void print_markdown(std::ostream& out, const ScanReport& report) {
  // GitHub comments take 65536 characters: long lists are cut, --json has all.
  constexpr size_t kMaxRows = 100;
  const size_t with_code = files_with_device_code(report);
  const Verdict overall = overall_verdict(report);
  out << "### smscan: " << verdict_icon(overall) << "\n\n";
  out << fmt::format("{} file{} with device code, {} without", with_code, with_code == 1 ? "" : "s",
                     report.tree.files_without_device_code);
  if (report.unreadable) out << fmt::format(", **{} unreadable**", report.unreadable);
  if (report.damaged) out << fmt::format(", **{} damaged**", report.damaged);
  out << ".\n\n";
  for (const auto& line : image_lines(report)) out << "- " << escape_md(line) << "\n";
  out << (report.image.empty() ? "" : "\n") << "| Target | GPUs | Verdict | Files OK / JIT / PARTIAL / FAIL / N/A |" << (report.kernels_read() ? " Kernels without code |" : "")
      << "\n|---|---|---|---|" << (report.kernels_read() ? "---|" : "") << "\n";
  for (const auto& s : report.summaries) {
    out << fmt::format("| {} | {} | {} | {} / {} / {} / {} / {} |", md_code(s.target.sm_name()), escape_md(gpus_of(s.target.cc)),
                       verdict_icon(s.verdict), s.ok, s.jit, s.partial, s.fail, s.not_for_gpu);
    if (report.kernels_read()) out << fmt::format(" {} |", s.kernels_fail);
    out << "\n";
  }
  if (!report.packages.empty()) {
    out << "\n| Package |";
    for (const auto& t : report.targets) out << " " << md_code(t.sm_name()) << " |";
    out << "\n|---|";
    for (size_t t = 0; t < report.targets.size(); ++t) out << "---|";
    out << "\n";
    for (const auto& g : report.packages) {
      out << "| " << escape_md(package_title(g)) << " |";
      for (size_t t = 0; t < report.targets.size(); ++t) {
        out << " " << verdict_icon(g.verdicts[t]);
        if (g.kernels_fail[t] > 0) out << fmt::format(" ({} kernels)", g.kernels_fail[t]);
        out << " |";
      }
      out << "\n";
    }
  }
  for (size_t t = 0; t < report.targets.size(); ++t) {
    const TargetSummary& s = report.summaries[t];
    if (s.fail == 0) continue;
    out << "\n**Fails on " << md_code(s.target.sm_name()) << "** (" << escape_md(launch_error_text(s)) << "):\n\n";
    size_t shown = 0;
    for (size_t i = 0; i < report.tree.files.size(); ++i) {
      const FileVerdict& v = report.verdicts[i][t];
      if (!report.tree.files[i].has_device_code() || v.verdict != Verdict::kFail) continue;
      if (++shown > kMaxRows) continue;
      out << "- " << md_code(report.tree.files[i].path) << ": " << escape_md(v.reason) << "\n";
    }
    if (shown > kMaxRows) out << fmt::format("- ... and {} more\n", shown - kMaxRows);
    // One fix per failing package when files are grouped, else the general one.
    bool per_package = false;
    for (const auto& g : report.packages) {
      if (g.verdicts[t] != Verdict::kFail) continue;
      per_package = true;
      out << "\nFix for " << escape_md(package_title(g)) << ": " << escape_md(package_fix(report, g, t)) << "\n";
    }
    if (!per_package) out << "\nFix: " << escape_md(target_fix(report, t)) << "\n";
  }
  bool heading = false;
  for (const auto& file : report.tree.files) {
    if (file.read_error.empty() && file.problems.empty()) continue;
    if (!heading) out << "\n<details><summary>Problems</summary>\n\n";
    heading = true;
    if (!file.read_error.empty()) out << "- " << md_code(file.path) << ": " << escape_md(file.read_error) << "\n";
    for (const auto& p : file.problems) out << "- " << md_code(file.path) << ": " << escape_md(p) << "\n";
  }
  if (heading) out << "\n</details>\n";
  out << "\n<sub>smscan " << kVersion << "</sub>\n";
}

}  // namespace smwatch
