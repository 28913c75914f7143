// The table smscan prints by default: one row per file, one verdict column
// per target, then the summary per target, packages, notes and problems.
#include "smwatch/report.h"

#include <fmt/format.h>

#include "render_common.h"
#include "smwatch/demangle.h"
#include "smwatch/text.h"

namespace smwatch {

using namespace render;

namespace {

const char* color_of(Verdict v) {
  switch (v) {
    case Verdict::kNotForGpu: return "\x1b[2m";
    case Verdict::kOk: return "\x1b[32m";
    case Verdict::kJit: return "\x1b[33m";
    case Verdict::kPartial: return "\x1b[35m";
    default: return "\x1b[31;1m";
  }
}

std::string target_title(const Target& t) {
  std::string gpus = gpus_of(t.cc);
  return fmt::format("{} (CC {}{}{})", t.sm_name(), t.cc_string(), gpus.empty() ? "" : ": ", gpus);
}

// The file's own name: "libtorch_cuda.so" for ".../torch/lib/libtorch_cuda.so"
// and for "torch.whl!torch/lib/libtorch_cuda.so".
std::string short_name(const FileScan& file) {
  const std::string& p = file.zip_member.empty() ? file.path : file.zip_member;
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

void print_table(std::ostream& out, const ScanReport& report, const TableStyle& style) {
  constexpr size_t kCodeWidth = 44;
  auto paint = [&](Verdict v, const std::string& text) {
    return style.color ? std::string(color_of(v)) + text + "\x1b[0m" : text;
  };
  const size_t with_code = files_with_device_code(report);

  // Header: one verdict column per target.
  std::string header;
  for (const auto& t : report.targets) header += fmt::format("{:<8}", t.sm_name());
  header += fmt::format("{:<{}}  {}", "DEVICE CODE", kCodeWidth, "FILE");
  if (with_code > 0) out << header << "\n";
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const FileScan& file = report.tree.files[i];
    if (!file.has_device_code()) continue;
    std::string line;
    for (const auto& v : report.verdicts[i]) line += paint(v.verdict, fmt::format("{:<8}", verdict_name(v.verdict)));
    std::string code = compact_archs(file.containers);
    if (code.size() > kCodeWidth) code = code.substr(0, kCodeWidth - 3) + "...";
    out << line << fmt::format("{:<{}}  {}", code, kCodeWidth, printable(file.path)) << "\n";
  }

  // --kernels: every kernel of every file, demangled, with its verdicts.
  constexpr size_t kNameWidth = 240;  // template names run to pages; --json has them whole
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const auto& kernels = report.kernels[i];
    if (kernels.empty()) continue;
    out << "\n" << fmt::format("Kernels of {} ({}):", printable(report.tree.files[i].path), kernels.size()) << "\n";
    std::string head;
    for (const auto& t : report.targets) head += fmt::format("{:<8}", t.sm_name());
    out << "  " << head << fmt::format("{:<{}}  {}", "ARCHITECTURES", kCodeWidth, "KERNEL") << "\n";
    for (const auto& k : kernels) {
      std::string cells;
      for (ContainerFit fit : k.fits) cells += paint(verdict_of(fit), fmt::format("{:<8}", fit_label(fit)));
      std::string archs = arch_list(k);
      if (archs.size() > kCodeWidth) archs = archs.substr(0, kCodeWidth - 3) + "...";
      std::string name = printable(demangle(k.mangled));
      if (name.size() > kNameWidth) name = name.substr(0, kNameWidth - 3) + "...";
      out << "  " << cells << fmt::format("{:<{}}  {}", archs, kCodeWidth, name) << "\n";
    }
  }

  if (const auto lines = image_lines(report); !lines.empty()) {
    out << "\n";
    for (const auto& line : lines) out << printable(line) << "\n";
  }
  out << "\n"
      << fmt::format("{} file{} with device code, {} without", with_code, with_code == 1 ? "" : "s",
                     report.tree.files_without_device_code);
  if (report.unreadable) out << fmt::format(", {} unreadable", report.unreadable);
  if (report.damaged) out << fmt::format(", {} damaged", report.damaged);
  out << "\n";
  // The first ten files with verdict `v` for target `t`, with their reasons.
  auto list_files = [&](size_t t, Verdict v) {
    size_t shown = 0;
    for (size_t i = 0; i < report.tree.files.size(); ++i) {
      const FileVerdict& fv = report.verdicts[i][t];
      if (!report.tree.files[i].has_device_code() || fv.verdict != v) continue;
      if (++shown > 10) continue;
      out << "       " << printable(report.tree.files[i].path) << ": " << printable(fv.reason) << "\n";
    }
    if (shown > 10) out << fmt::format("       ... and {} more (--json lists all)\n", shown - 10);
  };
  for (size_t t = 0; t < report.targets.size(); ++t) {
    const TargetSummary& s = report.summaries[t];
    out << paint(s.verdict, fmt::format("{:<8}", verdict_name(s.verdict))) << target_title(s.target) << ": ";
    if (with_code == 0) out << "nothing to run";
    else if (s.verdict == Verdict::kNotForGpu) out << fmt::format("none of the {} files is built or used for it", s.not_for_gpu);
    else if (s.verdict == Verdict::kOk && s.not_for_gpu == 0) out << fmt::format("all {} files have SASS that runs", s.ok);
    else out << fmt::format("{} OK, {} only through PTX JIT, {} partial, {} will fail", s.ok, s.jit, s.partial, s.fail);
    if (with_code > 0 && s.not_for_gpu > 0 && s.verdict != Verdict::kNotForGpu)
      out << fmt::format(", {} not for this GPU", s.not_for_gpu);
    if (report.kernels_read() && (s.kernels_fail > 0 || s.kernels_jit > 0))
      out << fmt::format(" ({} kernels without code for it, {} only through JIT)", s.kernels_fail, s.kernels_jit);
    // An OK over files that could not be read in full is not a promise.
    if (const size_t incomplete = report.unreadable + report.damaged; incomplete > 0)
      out << fmt::format(" - incomplete: {} file{} not read in full (see Problems)", incomplete,
                         incomplete == 1 ? "" : "s");
    out << "\n";
    if (s.fail > 0) {
      out << "     " << fmt::format("{} file{} will fail at the first launch with {}:", s.fail, s.fail == 1 ? "" : "s",
                                     launch_error_text(s)) << "\n";
      list_files(t, Verdict::kFail);
      out << "     fix: " << printable(target_fix(report, t)) << "\n";
    }
    if (s.partial > 0) {
      out << "     " << fmt::format("{} file{} PARTIAL: the main code has {}, other fatbins were built only for other "
                                     "GPUs. Their kernels fail if called on it; whether they are called is up to the "
                                     "library (cuBLAS, cuDNN... pick kernels per GPU). --kernels names them, --strict "
                                     "fails on them:",
                                     s.partial, s.partial == 1 ? " is" : "s are", s.target.sm_name()) << "\n";
      list_files(t, Verdict::kPartial);
    }
    if (s.fail == 0 && s.jit > 0) {
      out << "     note: PTX JIT works but compiles on first use and may run slower than SASS; "
          << "a build with " << s.target.sm_name() << " SASS avoids both\n";
    }
  }
  if (!report.packages.empty()) {
    out << "\nPackages:\n";
    for (const PackageGroup& g : report.packages) {
      std::vector<std::string> ok;
      std::vector<size_t> not_for_gpu;
      for (size_t t = 0; t < report.targets.size(); ++t) {
        const std::string sm = report.targets[t].sm_name();
        if (g.verdicts[t] == Verdict::kOk) {
          ok.push_back(sm);
          continue;
        }
        if (g.verdicts[t] == Verdict::kNotForGpu) {
          not_for_gpu.push_back(t);
          continue;
        }
        // "torch 2.5.1: FAIL on sm_120 - libtorch_cuda.so: 18978 of 18978 kernels without sm_120 SASS or PTX"
        size_t shown = 0;
        for (size_t i : g.files) {
          const FileVerdict& v = report.verdicts[i][t];
          if (v.verdict != g.verdicts[t]) continue;
          if (++shown > 5) continue;
          out << "  " << paint(g.verdicts[t], fmt::format("{}: {} on {}", printable(package_title(g)), verdict_name(g.verdicts[t]), sm))
              << " - " << printable(short_name(report.tree.files[i])) << ": " << printable(v.reason) << "\n";
        }
        if (shown > 5) out << fmt::format("    ... and {} more files\n", shown - 5);
        if (g.verdicts[t] == Verdict::kFail) out << "    fix: " << printable(package_fix(report, g, t)) << "\n";
      }
      // Not for these GPUs: one line, with the first file's reason (--json has each).
      if (!not_for_gpu.empty()) {
        std::string list;
        for (size_t t : not_for_gpu) list += (list.empty() ? "" : ", ") + report.targets[t].sm_name();
        const size_t first = g.files.front(), t0 = not_for_gpu.front();
        out << "  " << paint(Verdict::kNotForGpu, fmt::format("{}: N/A on {}", printable(package_title(g)), list))
            << fmt::format(" ({} file{}) - ", g.files.size(), g.files.size() == 1 ? "" : "s")
            << printable(short_name(report.tree.files[first])) << ": " << printable(report.verdicts[first][t0].reason)
            << "\n";
      }
      if (!ok.empty()) {
        std::string list;
        for (const auto& sm : ok) list += (list.empty() ? "" : ", ") + sm;
        out << "  " << paint(Verdict::kOk, fmt::format("{}: OK on {}", printable(package_title(g)), list))
            << fmt::format(" ({} file{} with device code)", g.files.size(), g.files.size() == 1 ? "" : "s") << "\n";
      }
    }
  }
  if (!report.facts_used.empty()) {
    out << "\nPackage facts used (smscan --explain-facts lists them with their sources):\n";
    for (const PackageFact& f : report.facts_used)
      out << "  " << printable(f.id) << ": " << printable(f.says) << "\n";
  }
  bool noted = false;
  for (const auto& file : report.tree.files) {
    if (file.notes.empty()) continue;
    if (!noted) out << "\nNotes:\n";
    noted = true;
    for (const auto& n : file.notes) out << "  " << printable(file.path) << ": " << printable(n) << "\n";
  }
  bool heading = false;
  for (const auto& file : report.tree.files) {
    if (file.read_error.empty() && file.problems.empty()) continue;
    if (!heading) out << "\nProblems:\n";
    heading = true;
    if (!file.read_error.empty()) out << "  " << printable(file.path) << ": " << printable(file.read_error) << "\n";
    for (const auto& p : file.problems) out << "  " << printable(file.path) << ": " << printable(p) << "\n";
  }
}

}  // namespace smwatch
