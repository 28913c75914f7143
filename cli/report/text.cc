// The text summary: what `smwatch report` prints by default and `smwatch run`
// prints when the command ends.
#include <fmt/format.h>

#include "render_formats.h"
#include "smwatch/text.h"

namespace smwatch::cli {

void render_text(std::ostream& out, const MergedReport& r, const Summary& s) {
  // Every field comes from report files (outside text): printable() each.
  const auto P = [](const std::string& text) { return printable(text); };
  out << "smwatch: " << P(headline(r, s)) << "\n";
  for (const auto& g : s.gpus) out << "GPU: " << P(g) << "\n";
  if (!r.processes.empty()) out << "\nProcesses:\n";
  for (const auto& p : r.processes) {
    out << fmt::format("  pid {}{}: {}\n", p.pid, p.ppid ? fmt::format(" (parent {})", p.ppid) : "",
                       P(p.cmdline.empty() ? (p.exe.empty() ? "(no process record)" : p.exe) : p.cmdline));
    if (!p.exe.empty()) out << "    exe:     " << P(p.exe) << "\n";
    out << "    report:  " << P(p.file) << "\n";
    out << fmt::format("    modules: {} loaded{}\n", p.module_loads, p.modules.empty() ? "" : ":");
    for (const auto& m : p.modules) {
      out << fmt::format("      {}{}  {}", P(m.source), m.loads > 1 ? fmt::format(" x{}", m.loads) : "",
                         m.archs.empty() ? "-" : P(m.archs));
      if (!m.verdicts.empty()) out << "  [" << P(verdicts_text(m)) << "]";
      if (m.failed) out << fmt::format("  ({} failed to load)", m.failed);
      out << "\n";
    }
    if (p.failure_records) out << fmt::format("    failures: {} (see below)\n", p.failure_records);
    if (p.exit) {
      out << fmt::format("    ended:   {} launches, {} modules, {} failures\n", p.exit->launches, p.exit->modules,
                         p.exit->failures);
    } else {
      out << "    ended:   no exit record: the process crashed, was killed, or is still running\n";
    }
  }
  if (!s.failures.empty()) {
    out << fmt::format("\nFailures ({}):\n", r.failure_count());
    size_t n = 0;
    for (const auto& g : s.failures) {
      const record::Failure& f = g.first;
      out << fmt::format("  [{}] {} -> {} ({}){}; pid {}\n", ++n, P(f.call), P(f.error_name), f.error,
                         g.count > 1 ? fmt::format(", {} times", g.count) : "", pid_list(g.pids));
      out << "      kernel:  " << P(kernel_name(f.kernel, f.mangled)) << "\n";
      out << "      library: " << (f.source.empty() ? "(unknown)" : P(f.source)) << "\n";
      out << "      holds:   " << (f.archs.empty() ? "(no device code)" : P(f.archs)) << "\n";
      out << "      GPU:     " << P(f.gpu_arch) << "\n";
      out << "      fix:     " << P(fix_of(f)) << "\n";
    }
  }
  if (!s.handled.empty()) {
    out << fmt::format("\nHandled look-ups ({}): kernels built only for other GPUs, looked up by a library that has "
                       "code for this GPU and went on (not failures, no fix needed):\n",
                       s.handled_count);
    for (const auto& g : s.handled) {
      const record::Failure& f = g.first;
      out << fmt::format("  {} -> {} ({}){}; pid {}: {} in {} (holds {})\n", P(f.call), P(f.error_name), f.error,
                         g.count > 1 ? fmt::format(", {} times", g.count) : "", pid_list(g.pids),
                         P(kernel_name(f.kernel, f.mangled)), P(f.source), f.archs.empty() ? "-" : P(f.archs));
    }
  }
  for (const auto& [target, groups] : s.missing) {
    out << fmt::format("\nWhat-if {}: {} kernel{} would fail with \"no kernel image is available\":\n", P(target),
                       groups.size(), groups.size() == 1 ? "" : "s");
    for (size_t i = 0; i < groups.size(); ++i) {
      if (i == 20) {
        out << fmt::format("  ... and {} more (--json lists all)\n", groups.size() - 20);
        break;
      }
      const record::Missing& m = groups[i].first;
      out << fmt::format("  {} in {} (holds {})\n", P(kernel_name(m.kernel, m.mangled)), P(m.source),
                         m.archs.empty() ? "no device code" : P(m.archs));
    }
    out << "  fix: " << P(what_if_fix(target)) << "\n";
  }
  for (const auto& [target, groups] : s.unjudged) {
    out << fmt::format("\nWhat-if {}: {} kernel{} not judged: the report has no summary of the library's device code "
                       "(written by an older shim) and the library is not readable here:\n",
                       P(target), groups.size(), groups.size() == 1 ? "" : "s");
    for (size_t i = 0; i < groups.size() && i < 20; ++i)
      out << fmt::format("  {} in {}\n", P(kernel_name(groups[i].first.kernel, groups[i].first.mangled)),
                         P(groups[i].first.source));
    if (groups.size() > 20) out << fmt::format("  ... and {} more (--json lists all)\n", groups.size() - 20);
  }
  if (!s.libraries_at_fault.empty()) {
    out << "\nLibraries at fault:";
    for (const auto& l : s.libraries_at_fault) out << "\n  " << P(l);
    out << "\n";
  }
  if (!r.problems.empty()) {
    out << "\nProblems reading the reports:\n";
    for (const auto& p : r.problems)
      out << "  " << P(p.file) << (p.line ? ":" + std::to_string(p.line) : "") << ": " << P(p.reason) << "\n";
  }
  if (r.unreadable)
    out << fmt::format("\nNot everything could be read ({} unread: see the problems above): this summary may miss "
                       "failures.\n",
                       r.unreadable);
  else if (r.processes.empty())
    out << "\nNo report records: no process used CUDA (the shim starts a report when a process first does), or\n"
           "libsmwatch.so did not load (a statically linked or setuid program, or a launcher that clears LD_PRELOAD).\n";
  else if (r.failure_count() == 0 && r.missing_count() == 0)
    out << "\nNo failures: every module had code for the GPU" << (s.missing.empty() ? "" : " and the what-if targets")
        << ".\n";
}

}  // namespace smwatch::cli
