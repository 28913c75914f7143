// The HTML report: one self-contained page, inline CSS, no scripts.
#include "smwatch/report.h"

#include <fmt/format.h>

#include "render_common.h"
#include "smwatch/demangle.h"
#include "smwatch/text.h"

namespace smwatch {

using namespace render;

namespace {

// The CSS class of a verdict's cell or badge (see the page's <style>).
const char* css_class(Verdict v) {
  return v == Verdict::kNotForGpu ? "na" : v == Verdict::kOk ? "ok" : v == Verdict::kJit ? "jit" : v == Verdict::kPartial ? "partial" : "fail";
}

}  // namespace

void print_html(std::ostream& out, const ScanReport& report) {
  // Kernel lists of big libraries run to tens of thousands of rows; the page
  // stays usable with this many per file (--json has every one).
  constexpr size_t kMaxKernelRows = 5000;
  auto cell = [](Verdict v, const std::string& text, const std::string& title) {
    return fmt::format("<td class=\"v {}\" title=\"{}\">{}</td>", css_class(v), escape_html(title), escape_html(text));
  };
  const size_t with_code = files_with_device_code(report);
  const Verdict overall = overall_verdict(report);

  out << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smscan report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.sub{color:#59636e;margin-bottom:16px}
table{border-collapse:collapse;margin:6px 0 12px}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}
td.v{font-weight:600;text-align:center;white-space:nowrap;width:64px}
.ok{background:#dafbe1;color:#116329}.jit{background:#fff8c5;color:#7d4e00}.partial{background:#fbefff;color:#6e40c9}.fail{background:#ffebe9;color:#a40e26}
.na{background:#f6f8fa;color:#818b98}
tr.pkg td{background:#eef1f4;font-weight:600}
td.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;word-break:break-all}
td.archs{font-family:ui-monospace,monospace;font-size:12px;color:#59636e}
details{margin:2px 0} summary{cursor:pointer;color:#0969da}
table.k td{font-size:12px;word-break:normal} table.k td.archs{min-width:140px}
table.k td.name{font-family:ui-monospace,monospace;overflow-wrap:anywhere;max-width:900px}
.fix{background:#f6f8fa;border-left:4px solid #0969da;padding:6px 10px;margin:6px 0}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700}
.problems li{font-family:ui-monospace,monospace;font-size:12.5px}
.why{font:12.5px/1.4 system-ui,sans-serif;color:#59636e;word-break:normal}
</style></head><body>
)";
  out << "<h1>smscan report <span class=\"badge "
      << css_class(overall) << "\">" << verdict_name(overall) << "</span></h1>\n";
  out << fmt::format("<div class=\"sub\">{} file{} with device code, {} without{}{} &middot; smscan {}</div>\n",
                     with_code, with_code == 1 ? "" : "s", report.tree.files_without_device_code,
                     report.unreadable ? fmt::format(", {} unreadable", report.unreadable) : "",
                     report.damaged ? fmt::format(", {} damaged", report.damaged) : "", kVersion);

  if (const auto lines = image_lines(report); !lines.empty()) {
    out << "<h2>Image</h2>\n<ul>\n";
    for (const auto& line : lines) out << "<li>" << escape_html(line) << "</li>\n";
    out << "</ul>\n";
  }
  out << "<h2>Targets</h2>\n<table><tr><th>Target</th><th>GPUs</th><th>Verdict</th><th>Files OK / JIT / PARTIAL / FAIL / N/A</th>"
      << (report.kernels_read() ? "<th>Kernels without code</th>" : "") << "</tr>\n";
  for (const auto& s : report.summaries) {
    out << "<tr><td>" << s.target.sm_name() << " (CC " << s.target.cc_string() << ")</td><td>"
        << escape_html(gpus_of(s.target.cc)) << "</td>"
        << cell(s.verdict, verdict_name(s.verdict), "") << fmt::format("<td>{} / {} / {} / {} / {}</td>", s.ok, s.jit, s.partial, s.fail, s.not_for_gpu);
    if (report.kernels_read()) out << "<td>" << s.kernels_fail << "</td>";
    out << "</tr>\n";
  }
  out << "</table>\n";
  for (const auto& s : report.summaries) {
    if (s.fail == 0) continue;
    bool per_package = false;
    const size_t t = static_cast<size_t>(&s - report.summaries.data());
    for (const auto& g : report.packages) {
      if (g.verdicts[t] != Verdict::kFail) continue;
      per_package = true;
      out << "<div class=\"fix\"><b>Fix for " << escape_html(package_title(g)) << " on " << s.target.sm_name()
          << ":</b> " << escape_html(package_fix(report, g, t)) << "</div>\n";
    }
    if (!per_package)
      out << "<div class=\"fix\"><b>Fix for " << s.target.sm_name() << ":</b> " << escape_html(target_fix(report, t))
          << "</div>\n";
  }

  // The matrix: one row per file (grouped by package when known), one
  // column per target; a file's kernels fold out below its name.
  out << "<h2>Files</h2>\n<table><tr>";
  for (const auto& t : report.targets) out << "<th>" << t.sm_name() << "</th>";
  out << "<th>Device code</th><th>File</th></tr>\n";
  auto file_row = [&](size_t i) {
    const FileScan& file = report.tree.files[i];
    out << "<tr>";
    for (size_t t = 0; t < report.targets.size(); ++t) {
      const FileVerdict& v = report.verdicts[i][t];
      out << cell(v.verdict, verdict_name(v.verdict), v.reason);
    }
    // Inside a package group a wheel member is named by its path in the wheel.
    const bool grouped = !report.packages.empty() && !file.zip_member.empty();
    out << "<td class=\"archs\">" << escape_html(compact_archs(file.containers)) << "</td><td class=\"path\" title=\""
        << escape_html(file.path) << "\">" << escape_html(grouped ? file.zip_member : file.path);
    for (size_t t = 0; t < report.targets.size(); ++t) {
      const FileVerdict& v = report.verdicts[i][t];
      if (v.verdict != Verdict::kOk)
        out << "<div class=\"why\">" << report.targets[t].sm_name() << ": " << escape_html(v.reason) << "</div>";
    }
    const auto& kernels = report.kernels[i];
    if (!kernels.empty()) {
      size_t failing = 0;
      for (const auto& k : kernels)
        for (ContainerFit f : k.fits) {
          if (f == ContainerFit::kNone) {
            ++failing;
            break;
          }
        }
      out << fmt::format("<details><summary>{} kernels, {} failing on some target</summary><table class=\"k\"><tr>",
                         kernels.size(), failing);
      for (const auto& t : report.targets) out << "<th>" << t.sm_name() << "</th>";
      out << "<th>Architectures</th><th>Kernel</th></tr>\n";
      size_t shown = 0;
      for (const auto& k : kernels) {
        if (++shown > kMaxKernelRows) break;
        out << "<tr>";
        for (ContainerFit f : k.fits) {
          if (f == ContainerFit::kNotForThisGpu)
            out << "<td class=\"v na\" title=\"not built for this GPU: code for other GPUs only, or absent from the images it would load\">n/a</td>";
          else
            out << cell(verdict_of(f), fit_label(f), "");
        }
        out << "<td class=\"archs\">" << escape_html(arch_list(k)) << "</td><td class=\"name\" title=\""
            << escape_html(k.mangled) << "\">" << escape_html(demangle(k.mangled)) << "</td></tr>\n";
      }
      out << "</table>";
      if (kernels.size() > kMaxKernelRows)
        out << fmt::format("<small>{} more kernels: see smscan --kernels --json</small>", kernels.size() - kMaxKernelRows);
      out << "</details>";
    }
    out << "</td></tr>\n";
  };
  if (!report.packages.empty()) {
    for (const auto& g : report.packages) {
      out << "<tr class=\"pkg\">";
      for (size_t t = 0; t < report.targets.size(); ++t) out << cell(g.verdicts[t], verdict_name(g.verdicts[t]), "");
      out << fmt::format("<td colspan=\"2\">{} &middot; {} file{}</td></tr>\n", escape_html(package_title(g)),
                         g.files.size(), g.files.size() == 1 ? "" : "s");
      for (size_t i : g.files) file_row(i);
    }
  } else {
    for (size_t i = 0; i < report.tree.files.size(); ++i)
      if (report.tree.files[i].has_device_code()) file_row(i);
  }
  out << "</table>\n";

  bool heading = false;
  for (const auto& file : report.tree.files) {
    std::vector<std::string> lines;
    if (!file.read_error.empty()) lines.push_back(file.read_error);
    for (const auto& p : file.problems) lines.push_back(p);
    for (const auto& n : file.notes) lines.push_back("note: " + n);
    if (lines.empty()) continue;
    if (!heading) out << "<h2>Problems and notes</h2>\n<ul class=\"problems\">\n";
    heading = true;
    for (const auto& l : lines) out << "<li>" << escape_html(file.path) << ": " << escape_html(l) << "</li>\n";
  }
  if (heading) out << "</ul>\n";
  out << "</body></html>\n";
}

}  // namespace smwatch
