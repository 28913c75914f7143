// The Markdown report: for an issue or a pull request.
#include <fmt/format.h>

#include "render_formats.h"
#include "smwatch/text.h"

namespace smwatch::cli {

namespace {

// A Markdown cell; "-" rather than an empty one. Every field from the
// reports goes through md_cell (prose) or code (a code span), once.
std::string md_cell(const std::string& s) {
  std::string out = escape_md(s);
  return out.empty() ? "-" : out;
}

std::string code(const std::string& s) { return s.empty() ? "-" : md_code(s); }

}  // namespace

void render_markdown(std::ostream& out, const MergedReport& r, const Summary& s) {
  out << "# smwatch report\n\n" << escape_md(headline(r, s)) << ".\n\n";
  for (const auto& g : s.gpus) out << "- GPU: " << escape_md(g) << "\n";
  if (!s.gpus.empty()) out << "\n";
  if (!s.failures.empty()) {
    out << "## Failures\n\n| # | call | error | kernel | library | holds | GPU | pids | fix |\n"
           "|---|---|---|---|---|---|---|---|---|\n";
    size_t n = 0;
    for (const auto& g : s.failures) {
      const record::Failure& f = g.first;
      out << fmt::format("| {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} |\n", ++n, md_cell(f.call),
                         md_cell(f.error_name), f.error, code(kernel_name(f.kernel, f.mangled)), code(f.source),
                         md_cell(f.archs), md_cell(f.gpu_arch), pid_list(g.pids), md_cell(fix_of(f)));
    }
    out << "\n";
  }
  if (!s.handled.empty()) {
    out << "## Handled look-ups\n\n" << s.handled_count
        << " look-up(s) of kernels built only for other GPUs, by a library that has code for this GPU and went on: "
           "not failures, no fix needed.\n\n| call | error | kernel | library | holds | pids |\n|---|---|---|---|---|---|\n";
    for (const auto& g : s.handled) {
      const record::Failure& f = g.first;
      out << fmt::format("| {} | {} ({}) | `{}` | `{}` | {} | {} |\n", md_cell(f.call), md_cell(f.error_name), f.error,
                         md_cell(kernel_name(f.kernel, f.mangled)), md_cell(f.source), md_cell(f.archs),
                         pid_list(g.pids));
    }
    out << "\n";
  }
  for (const auto& [target, groups] : s.unjudged) {
    out << "## What-if " << escape_md(target) << ": not judged\n\n" << groups.size()
        << " kernel(s): the report has no summary of the library's device code (written by an older shim) and the "
           "library is not readable here.\n\n| kernel | library |\n|---|---|\n";
    for (const auto& g : groups)
      out << fmt::format("| `{}` | `{}` |\n", md_cell(kernel_name(g.first.kernel, g.first.mangled)),
                         md_cell(g.first.source));
    out << "\n";
  }
  for (const auto& [target, groups] : s.missing) {
    out << "## What-if " << escape_md(target) << "\n\n"
        << groups.size() << (groups.size() == 1 ? " kernel" : " kernels")
        << " would fail with \"no kernel image is available\".\n\n"
        << "| kernel | library | holds |\n|---|---|---|\n";
    for (const auto& g : groups)
      out << fmt::format("| {} | {} | {} |\n", code(kernel_name(g.first.kernel, g.first.mangled)), code(g.first.source),
                         md_cell(g.first.archs));
    out << "\nFix: " << escape_md(what_if_fix(target)) << "\n\n";
  }
  out << "## Processes\n\n| pid | parent | command | modules | failures | ended |\n|---|---|---|---|---|---|\n";
  for (const auto& p : r.processes)
    out << fmt::format("| {} | {} | {} | {} | {} | {} |\n", p.pid, p.ppid, code(p.cmdline.empty() ? p.exe : p.cmdline),
                       p.module_loads, p.failure_records, p.exit ? "exit" : "**no exit record** (crashed or killed)");
  out << "\n";
  for (const auto& p : r.processes) {
    if (p.modules.empty()) continue;
    out << "### Modules of pid " << p.pid << "\n\n| library | loads | holds | verdicts |\n|---|---|---|---|\n";
    for (const auto& m : p.modules)
      out << fmt::format("| {} | {} | {} | {} |\n", code(m.source), m.loads, md_cell(m.archs),
                         md_cell(verdicts_text(m)));
    out << "\n";
  }
  if (!r.problems.empty()) {
    out << "## Problems reading the reports\n\n";
    for (const auto& p : r.problems)
      out << "- " << md_code(p.file + (p.line ? ":" + std::to_string(p.line) : "")) << ": " << escape_md(p.reason) << "\n";
  }
}

}  // namespace smwatch::cli
