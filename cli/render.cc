#include "render.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <sstream>

#include "smwatch/arch.h"
#include "smwatch/demangle.h"
#include "smwatch/report.h"
#include "smwatch/text.h"

namespace smwatch::cli {

using nlohmann::json;

namespace {

// Failures (or what-if misses) of many processes, folded by what failed.
struct Group {
  json first;                // the first record, for its fields
  std::vector<int64_t> pids;
  size_t count = 0;
};

struct Summary {
  std::vector<std::string> gpus;              // "NVIDIA H100 (sm_90, CC 9.0), driver 13.0"
  std::vector<Group> failures;                // by error, kernel, library
  std::map<std::string, std::vector<Group>> missing;  // target -> by kernel, library
  std::vector<std::string> libraries_at_fault;
  size_t crashed = 0;
};

std::string kernel_name(const json& rec) {
  std::string k = field_text(rec, "kernel");
  if (k.empty()) k = smwatch::demangle(field_text(rec, "mangled"));
  return k.empty() ? "(unknown kernel)" : k;
}

std::string driver_text(const json& gpu) {
  if (!gpu.contains("driver") || !gpu["driver"].is_number_integer()) return "";
  int v = gpu["driver"].get<int>();  // 13000 = CUDA 13.0
  return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}

void add_group(std::vector<Group>& groups, const json& rec, int64_t pid, std::initializer_list<const char*> keys) {
  for (auto& g : groups) {
    bool same = true;
    for (const char* k : keys) same = same && field_text(g.first, k) == field_text(rec, k);
    if (!same) continue;
    ++g.count;
    if (std::find(g.pids.begin(), g.pids.end(), pid) == g.pids.end()) g.pids.push_back(pid);
    return;
  }
  groups.push_back({rec, {pid}, 1});
}

Summary summarize(const MergedReport& report) {
  Summary s;
  std::set<std::string> gpus, libs;
  for (const auto& p : report.processes) {
    if (!p.exit) ++s.crashed;
    for (const auto& g : p.gpus) {
      std::string d = driver_text(g);
      std::string text = fmt::format("{} ({}, CC {}){}", field_text(g, "name"), field_text(g, "arch"), field_text(g, "cc"),
                                     d.empty() ? "" : ", driver supports CUDA " + d);
      if (gpus.insert(text).second) s.gpus.push_back(text);
    }
    for (const auto& f : p.failures) {
      add_group(s.failures, f, p.pid, {"error_name", "kernel", "mangled", "source"});
      if (std::string src = field_text(f, "source"); !src.empty() && libs.insert(src).second)
        s.libraries_at_fault.push_back(src);
    }
    for (const auto& m : p.missing) add_group(s.missing[field_text(m, "target")], m, p.pid, {"kernel", "mangled", "source"});
  }
  return s;
}

std::string pid_list(const std::vector<int64_t>& pids) {
  std::string out;
  for (size_t i = 0; i < pids.size() && i < 8; ++i) out += (i ? " " : "") + std::to_string(pids[i]);
  if (pids.size() > 8) out += fmt::format(" (+{})", pids.size() - 8);
  return out;
}

// A fix for a failure record: the shim's own, else the GPU table's.
std::string fix_of(const json& rec, const char* arch_key) {
  std::string fix = field_text(rec, "fix");
  if (!fix.empty()) return fix;
  if (auto t = parse_target(field_text(rec, arch_key))) return fix_hint(t->cc);
  return "install a build of this library that includes your GPU's architecture";
}

std::string what_if_fix(const std::string& target) {
  if (auto t = parse_target(target)) return fix_hint(t->cc);
  return "install builds that include " + target;
}

struct ModuleLine {
  std::string source, archs, verdicts;
  size_t count = 0, failed = 0;
};

std::vector<ModuleLine> modules_by_source(const ProcessReport& p) {
  std::vector<ModuleLine> lines;
  for (const auto& m : p.modules) {
    std::string src = field_text(m, "source");
    if (src.empty()) src = "<memory>";
    auto it = std::find_if(lines.begin(), lines.end(), [&](const ModuleLine& l) { return l.source == src; });
    if (it == lines.end()) {
      std::string verdicts;
      if (m.contains("verdicts") && m["verdicts"].is_object())
        for (const auto& [arch, v] : m["verdicts"].items())
          verdicts += (verdicts.empty() ? "" : ", ") + arch + " " + (v.is_string() ? v.get<std::string>() : v.dump());
      lines.push_back({src, field_text(m, "archs"), verdicts, 0, 0});
      it = lines.end() - 1;
    }
    ++it->count;
    if (m.contains("result") && m["result"].is_number_integer() && m["result"].get<int>() != 0) ++it->failed;
  }
  return lines;
}

std::string headline(const MergedReport& r, const Summary& s) {
  std::string text = fmt::format("{} process{}, {} module{} loaded, {} failure{}", r.processes.size(),
                                 r.processes.size() == 1 ? "" : "es", r.module_count(), r.module_count() == 1 ? "" : "s",
                                 r.failure_count(), r.failure_count() == 1 ? "" : "s");
  for (const auto& [target, groups] : s.missing) text += fmt::format(", what-if {}: {} kernel{} without code", target, groups.size(), groups.size() == 1 ? "" : "s");
  size_t from_library = 0, generated = 0, partial = 0;
  for (const auto& p : r.processes) {
    from_library += p.runtime_from_library;
    generated += p.runtime_generated;
    partial += p.partial.size();
  }
  if (partial > 0)
    text += fmt::format(", {} kernel{} PARTIAL on a what-if target (their fatbin lacks code for it, other fatbins of "
                        "the same library have it: libraries that pick kernels per GPU never call them there)",
                        partial, partial == 1 ? "" : "s");
  if (from_library + generated > 0)
    text += fmt::format(", {} kernel{} chosen at run time ({} by a library judged as a whole, {} generated in the "
                        "process for this GPU)",
                        from_library + generated, from_library + generated == 1 ? "" : "s", from_library, generated);
  if (s.crashed) text += fmt::format(", {} without an exit record (crashed or killed)", s.crashed);
  return text;
}

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
    auto mods = modules_by_source(p);
    out << fmt::format("    modules: {} loaded{}\n", p.modules.size(), mods.empty() ? "" : ":");
    for (const auto& m : mods) {
      out << fmt::format("      {}{}  {}", P(m.source), m.count > 1 ? fmt::format(" x{}", m.count) : "", m.archs.empty() ? "-" : P(m.archs));
      if (!m.verdicts.empty()) out << "  [" << P(m.verdicts) << "]";
      if (m.failed) out << fmt::format("  ({} failed to load)", m.failed);
      out << "\n";
    }
    if (!p.failures.empty()) out << fmt::format("    failures: {} (see below)\n", p.failures.size());
    if (p.exit) {
      out << fmt::format("    ended:   {} launches, {} modules, {} failures\n", P(field_text(*p.exit, "launches")),
                         P(field_text(*p.exit, "modules")), P(field_text(*p.exit, "failures")));
    } else {
      out << "    ended:   no exit record: the process crashed, was killed, or is still running\n";
    }
  }
  if (!s.failures.empty()) {
    out << fmt::format("\nFailures ({}):\n", r.failure_count());
    size_t n = 0;
    for (const auto& g : s.failures) {
      const json& f = g.first;
      out << fmt::format("  [{}] {} -> {} ({}){}; pid {}\n", ++n, P(field_text(f, "call")), P(field_text(f, "error_name")),
                         P(field_text(f, "error")), g.count > 1 ? fmt::format(", {} times", g.count) : "", pid_list(g.pids));
      out << "      kernel:  " << P(kernel_name(f)) << "\n";
      out << "      library: " << (field_text(f, "source").empty() ? "(unknown)" : P(field_text(f, "source"))) << "\n";
      out << "      holds:   " << (field_text(f, "archs").empty() ? "(no device code)" : P(field_text(f, "archs"))) << "\n";
      out << "      GPU:     " << P(field_text(f, "gpu_arch")) << "\n";
      out << "      fix:     " << P(fix_of(f, "gpu_arch")) << "\n";
    }
  }
  for (const auto& [target, groups] : s.missing) {
    out << fmt::format("\nWhat-if {}: {} kernel{} would fail with \"no kernel image is available\":\n", P(target), groups.size(),
                       groups.size() == 1 ? "" : "s");
    for (size_t i = 0; i < groups.size(); ++i) {
      if (i == 20) {
        out << fmt::format("  ... and {} more (--json lists all)\n", groups.size() - 20);
        break;
      }
      const json& m = groups[i].first;
      out << fmt::format("  {} in {} (holds {})\n", P(kernel_name(m)), P(field_text(m, "source")),
                         field_text(m, "archs").empty() ? "no device code" : P(field_text(m, "archs")));
    }
    out << "  fix: " << P(what_if_fix(target)) << "\n";
  }
  if (!s.libraries_at_fault.empty()) {
    out << "\nLibraries at fault:";
    for (const auto& l : s.libraries_at_fault) out << "\n  " << P(l);
    out << "\n";
  }
  if (!r.problems.empty()) {
    out << "\nProblems reading the reports:\n";
    for (const auto& p : r.problems) out << "  " << P(p.file) << (p.line ? ":" + std::to_string(p.line) : "") << ": " << P(p.reason) << "\n";
  }
  if (r.processes.empty())
    out << "\nNo report records: no process used CUDA (the shim starts a report when a process first does), or\n"
           "libsmwatch.so did not load (a statically linked or setuid program, or a launcher that clears LD_PRELOAD).\n";
  else if (r.failure_count() == 0 && r.missing_count() == 0)
    out << "\nNo failures: every module had code for the GPU" << (s.missing.empty() ? "" : " and the what-if targets") << ".\n";
}

// A Markdown cell; "-" rather than an empty one.
std::string md_cell(const std::string& s) {
  std::string out = escape_md(s);
  return out.empty() ? "-" : out;
}

void render_markdown(std::ostream& out, const MergedReport& r, const Summary& s) {
  out << "# smwatch report\n\n" << escape_md(headline(r, s)) << ".\n\n";
  for (const auto& g : s.gpus) out << "- GPU: " << escape_md(g) << "\n";
  if (!s.gpus.empty()) out << "\n";
  if (!s.failures.empty()) {
    out << "## Failures\n\n| # | call | error | kernel | library | holds | GPU | pids | fix |\n|---|---|---|---|---|---|---|---|---|\n";
    size_t n = 0;
    for (const auto& g : s.failures) {
      const json& f = g.first;
      out << fmt::format("| {} | {} | {} ({}) | `{}` | `{}` | {} | {} | {} | {} |\n", ++n, md_cell(field_text(f, "call")),
                         md_cell(field_text(f, "error_name")), md_cell(field_text(f, "error")), md_cell(kernel_name(f)),
                         md_cell(field_text(f, "source")), md_cell(field_text(f, "archs")), md_cell(field_text(f, "gpu_arch")),
                         pid_list(g.pids), md_cell(fix_of(f, "gpu_arch")));
    }
    out << "\n";
  }
  for (const auto& [target, groups] : s.missing) {
    out << "## What-if " << escape_md(target) << "\n\n" << groups.size()
        << " kernels would fail with \"no kernel image is available\".\n\n| kernel | library | holds |\n|---|---|---|\n";
    for (const auto& g : groups)
      out << fmt::format("| `{}` | `{}` | {} |\n", md_cell(kernel_name(g.first)), md_cell(field_text(g.first, "source")),
                         md_cell(field_text(g.first, "archs")));
    out << "\nFix: " << escape_md(what_if_fix(target)) << "\n\n";
  }
  out << "## Processes\n\n| pid | parent | command | modules | failures | ended |\n|---|---|---|---|---|---|\n";
  for (const auto& p : r.processes)
    out << fmt::format("| {} | {} | `{}` | {} | {} | {} |\n", p.pid, p.ppid, md_cell(p.cmdline.empty() ? p.exe : p.cmdline),
                       p.modules.size(), p.failures.size(), p.exit ? "exit" : "**no exit record** (crashed or killed)");
  out << "\n";
  for (const auto& p : r.processes) {
    auto mods = modules_by_source(p);
    if (mods.empty()) continue;
    out << "### Modules of pid " << p.pid << "\n\n| library | loads | holds | verdicts |\n|---|---|---|---|\n";
    for (const auto& m : mods)
      out << fmt::format("| `{}` | {} | {} | {} |\n", md_cell(m.source), m.count, md_cell(m.archs), md_cell(m.verdicts));
    out << "\n";
  }
  if (!r.problems.empty()) {
    out << "## Problems reading the reports\n\n";
    for (const auto& p : r.problems)
      out << "- `" << escape_md(p.file) << (p.line ? ":" + std::to_string(p.line) : "") << "`: " << escape_md(p.reason) << "\n";
  }
}

void render_html(std::ostream& out, const MergedReport& r, const Summary& s) {
  auto e = html_escape;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smwatch report</title>\n<style>\n"
         "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
         "th{background:#f3f3f3}code{font-size:90%}.fail{color:#b00;font-weight:bold}.ok{color:#070}.warn{color:#a60}\n"
         "</style></head><body>\n";
  out << "<h1>smwatch report</h1>\n<p class=\"" << (r.failure_count() ? "fail" : "ok") << "\">" << e(headline(r, s)) << "</p>\n";
  if (!s.gpus.empty()) {
    out << "<ul>";
    for (const auto& g : s.gpus) out << "<li>GPU: " << e(g) << "</li>";
    out << "</ul>\n";
  }
  if (!s.failures.empty()) {
    out << "<h2>Failures</h2>\n<table><tr><th>#</th><th>call</th><th>error</th><th>kernel</th><th>library</th><th>holds</th>"
           "<th>GPU</th><th>pids</th><th>fix</th></tr>\n";
    size_t n = 0;
    for (const auto& g : s.failures) {
      const json& f = g.first;
      out << "<tr><td>" << ++n << "</td><td>" << e(field_text(f, "call")) << "</td><td class=\"fail\">"
          << e(field_text(f, "error_name")) << " (" << e(field_text(f, "error")) << ")</td><td><code>" << e(kernel_name(f))
          << "</code></td><td><code>" << e(field_text(f, "source")) << "</code></td><td>" << e(field_text(f, "archs"))
          << "</td><td>" << e(field_text(f, "gpu_arch")) << "</td><td>" << pid_list(g.pids) << "</td><td>"
          << e(fix_of(f, "gpu_arch")) << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  for (const auto& [target, groups] : s.missing) {
    out << "<h2>What-if " << e(target) << "</h2>\n<p class=\"warn\">" << groups.size()
        << " kernels would fail with &ldquo;no kernel image is available&rdquo;.</p>\n"
           "<table><tr><th>kernel</th><th>library</th><th>holds</th></tr>\n";
    for (const auto& g : groups)
      out << "<tr><td><code>" << e(kernel_name(g.first)) << "</code></td><td><code>" << e(field_text(g.first, "source"))
          << "</code></td><td>" << e(field_text(g.first, "archs")) << "</td></tr>\n";
    out << "</table>\n<p>Fix: " << e(what_if_fix(target)) << "</p>\n";
  }
  out << "<h2>Processes</h2>\n<table><tr><th>pid</th><th>parent</th><th>command</th><th>modules</th><th>failures</th><th>ended</th></tr>\n";
  for (const auto& p : r.processes)
    out << "<tr><td>" << p.pid << "</td><td>" << p.ppid << "</td><td><code>" << e(p.cmdline.empty() ? p.exe : p.cmdline)
        << "</code></td><td>" << p.modules.size() << "</td><td>" << p.failures.size() << "</td><td>"
        << (p.exit ? "exit" : "<span class=\"fail\">no exit record (crashed or killed)</span>") << "</td></tr>\n";
  out << "</table>\n";
  for (const auto& p : r.processes) {
    auto mods = modules_by_source(p);
    if (mods.empty()) continue;
    out << "<h3>Modules of pid " << p.pid << "</h3>\n<table><tr><th>library</th><th>loads</th><th>holds</th><th>verdicts</th></tr>\n";
    for (const auto& m : mods)
      out << "<tr><td><code>" << e(m.source) << "</code></td><td>" << m.count << "</td><td>" << e(m.archs) << "</td><td>"
          << e(m.verdicts) << "</td></tr>\n";
    out << "</table>\n";
  }
  if (!r.problems.empty()) {
    out << "<h2>Problems reading the reports</h2>\n<ul>\n";
    for (const auto& p : r.problems)
      out << "<li><code>" << e(p.file) << (p.line ? ":" + std::to_string(p.line) : "") << "</code>: " << e(p.reason) << "</li>\n";
    out << "</ul>\n";
  }
  out << "<p><small>smwatch " << kVersion << "</small></p>\n</body></html>\n";
}

}  // namespace

std::string html_escape(const std::string& text) { return smwatch::escape_html(text); }

json report_to_json(const MergedReport& r) {
  Summary s = summarize(r);
  json doc;
  doc["schema"] = kReportSchema;
  doc["tool"] = {{"name", "smwatch"}, {"version", kVersion}};
  json processes = json::array();
  for (const auto& p : r.processes) {
    json j = {{"pid", p.pid},       {"ppid", p.ppid},         {"exe", p.exe},           {"cmdline", p.cmdline},
              {"report", p.file},   {"targets", p.targets},   {"gpus", p.gpus},         {"modules", p.modules},
              {"failures", p.failures}, {"missing", p.missing}, {"partial", p.partial}, {"crashed", !p.exit.has_value()}};
    j["exit"] = p.exit ? *p.exit : json(nullptr);
    processes.push_back(std::move(j));
  }
  doc["processes"] = std::move(processes);
  json failures = json::array();
  for (const auto& g : s.failures) {
    json f = g.first;
    f["pids"] = g.pids;
    f["count"] = g.count;
    f["fix"] = fix_of(g.first, "gpu_arch");
    failures.push_back(std::move(f));
  }
  doc["failures"] = std::move(failures);
  json missing = json::object();
  for (const auto& [target, groups] : s.missing) {
    json list = json::array();
    for (const auto& g : groups) {
      json m = g.first;
      m["pids"] = g.pids;
      list.push_back(std::move(m));
    }
    missing[target] = {{"kernels", std::move(list)}, {"fix", what_if_fix(target)}};
  }
  doc["what_if"] = std::move(missing);
  json problems = json::array();
  for (const auto& p : r.problems) problems.push_back({{"file", p.file}, {"line", p.line}, {"reason", p.reason}});
  doc["problems"] = std::move(problems);
  doc["summary"] = {{"processes", r.processes.size()},  {"crashed", s.crashed},
                    {"modules", r.module_count()},      {"failures", r.failure_count()},
                    {"gpus", s.gpus},                   {"libraries_at_fault", s.libraries_at_fault},
                    {"report_files", r.files},          {"garbage_lines", r.garbage_lines},
                    {"truncated_lines", r.truncated_lines}, {"unreadable", r.unreadable}};
  doc["exit_code"] = r.exit_code();
  return doc;
}

void render_report(std::ostream& out, const MergedReport& report, Format format) {
  if (format == Format::kJson) {
    out << report_to_json(report).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return;
  }
  Summary s = summarize(report);
  switch (format) {
    case Format::kMarkdown: render_markdown(out, report, s); break;
    case Format::kHtml: render_html(out, report, s); break;
    default: render_text(out, report, s);
  }
}

json findings_to_json(const std::vector<Finding>& findings, const std::string& source) {
  json list = json::array();
  for (const auto& f : findings) {
    list.push_back({{"id", f.id},       {"severity", f.severity}, {"title", f.title},   {"cause", f.cause},
                    {"fix", f.fix},     {"line", f.line},         {"more_lines", f.more_lines},
                    {"count", f.count}, {"text", f.text},         {"values", f.values}});
  }
  return {{"schema", kExplainSchema}, {"tool", {{"name", "smwatch"}, {"version", kVersion}}}, {"source", source},
          {"findings", std::move(list)}};
}

}  // namespace smwatch::cli
