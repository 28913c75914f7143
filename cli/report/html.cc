// The HTML report: one self-contained, inert page (no scripts, no external
// resources), every outside text escaped.
#include "render_formats.h"
#include "smwatch/text.h"
#include "smwatch/version.h"

namespace smwatch::cli {

void render_html(std::ostream& out, const MergedReport& r, const Summary& s) {
  const auto e = [](const std::string& text) { return escape_html(text); };
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smwatch report</title>\n<style>\n"
         // Fits the window (checked at 1400 px in headless Chromium, tests/cli/html_width.sh):
         // long paths and kernel names wrap anywhere instead of widening their table.
         "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0;max-width:100%}td,th{border:1px solid #ccc;padding:.3em .6em;"
         "text-align:left;vertical-align:top}td code{overflow-wrap:anywhere}\n"
         "th{background:#f3f3f3}code{font-size:90%}.fail{color:#b00;font-weight:bold}.ok{color:#070}.warn{color:#a60}\n"
         "</style></head><body>\n";
  out << "<h1>smwatch report</h1>\n<p class=\"" << (r.failure_count() ? "fail" : "ok") << "\">" << e(headline(r, s))
      << "</p>\n";
  if (!s.gpus.empty()) {
    out << "<ul>";
    for (const auto& g : s.gpus) out << "<li>GPU: " << e(g) << "</li>";
    out << "</ul>\n";
  }
  if (!s.failures.empty()) {
    out << "<h2>Failures</h2>\n<table><tr><th>#</th><th>call</th><th>error</th><th>kernel</th><th>library</th>"
           "<th>holds</th><th>GPU</th><th>pids</th><th>fix</th></tr>\n";
    size_t n = 0;
    for (const auto& g : s.failures) {
      const record::Failure& f = g.first;
      out << "<tr><td>" << ++n << "</td><td>" << e(f.call) << "</td><td class=\"fail\">" << e(f.error_name) << " ("
          << f.error << ")</td><td><code>" << e(kernel_name(f.kernel, f.mangled)) << "</code></td><td><code>"
          << e(f.source) << "</code></td><td>" << e(f.archs) << "</td><td>" << e(f.gpu_arch) << "</td><td>"
          << pid_list(g.pids) << "</td><td>" << e(fix_of(f)) << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  if (!s.handled.empty()) {
    out << "<h2>Handled look-ups</h2>\n<p class=\"ok\">" << s.handled_count
        << (s.handled_count == 1 ? " look-up" : " look-ups")
        << " of kernels built only for other GPUs, by a library that has code for this GPU and went on: not "
           "failures, no fix needed.</p>\n<table><tr><th>call</th><th>error</th><th>kernel</th><th>library</th>"
           "<th>holds</th><th>pids</th></tr>\n";
    for (const auto& g : s.handled) {
      const record::Failure& f = g.first;
      out << "<tr><td>" << e(f.call) << "</td><td>" << e(f.error_name) << " (" << f.error << ")</td><td><code>"
          << e(kernel_name(f.kernel, f.mangled)) << "</code></td><td><code>" << e(f.source) << "</code></td><td>"
          << e(f.archs) << "</td><td>" << pid_list(g.pids) << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  for (const auto& [target, groups] : s.unjudged) {
    out << "<h2>What-if " << e(target) << ": not judged</h2>\n<p class=\"warn\">" << groups.size()
        << (groups.size() == 1 ? " kernel" : " kernels")
        << ": the report has no summary of the library's device code (written by an older shim) and the library "
           "is not readable here.</p>\n<table><tr><th>kernel</th><th>library</th></tr>\n";
    for (const auto& g : groups)
      out << "<tr><td><code>" << e(kernel_name(g.first.kernel, g.first.mangled)) << "</code></td><td><code>"
          << e(g.first.source) << "</code></td></tr>\n";
    out << "</table>\n";
  }
  for (const auto& [target, groups] : s.missing) {
    out << "<h2>What-if " << e(target) << "</h2>\n<p class=\"warn\">" << groups.size()
        << (groups.size() == 1 ? " kernel" : " kernels")
        << " would fail with &ldquo;no kernel image is available&rdquo;.</p>\n"
           "<table><tr><th>kernel</th><th>library</th><th>holds</th></tr>\n";
    for (const auto& g : groups)
      out << "<tr><td><code>" << e(kernel_name(g.first.kernel, g.first.mangled)) << "</code></td><td><code>"
          << e(g.first.source) << "</code></td><td>" << e(g.first.archs) << "</td></tr>\n";
    out << "</table>\n<p>Fix: " << e(what_if_fix(target)) << "</p>\n";
  }
  out << "<h2>Processes</h2>\n<table><tr><th>pid</th><th>parent</th><th>command</th><th>modules</th><th>failures</th>"
         "<th>ended</th></tr>\n";
  for (const auto& p : r.processes)
    out << "<tr><td>" << p.pid << "</td><td>" << p.ppid << "</td><td><code>" << e(p.cmdline.empty() ? p.exe : p.cmdline)
        << "</code></td><td>" << p.module_loads << "</td><td>" << p.failure_records << "</td><td>"
        << (p.exit ? "exit" : "<span class=\"fail\">no exit record (crashed or killed)</span>") << "</td></tr>\n";
  out << "</table>\n";
  for (const auto& p : r.processes) {
    if (p.modules.empty()) continue;
    out << "<h3>Modules of pid " << p.pid
        << "</h3>\n<table><tr><th>library</th><th>loads</th><th>holds</th><th>verdicts</th></tr>\n";
    for (const auto& m : p.modules)
      out << "<tr><td><code>" << e(m.source) << "</code></td><td>" << m.loads << "</td><td>" << e(m.archs)
          << "</td><td>" << e(verdicts_text(m)) << "</td></tr>\n";
    out << "</table>\n";
  }
  if (!r.problems.empty()) {
    out << "<h2>Problems reading the reports</h2>\n<ul>\n";
    for (const auto& p : r.problems)
      out << "<li><code>" << e(p.file) << (p.line ? ":" + std::to_string(p.line) : "") << "</code>: " << e(p.reason)
          << "</li>\n";
    out << "</ul>\n";
  }
  out << "<p><small>smwatch " << kVersion << "</small></p>\n</body></html>\n";
}

}  // namespace smwatch::cli
