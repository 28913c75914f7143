// The JSON report (schema smwatch.report/2, docs/smwatch-command.md), written a
// process at a time: the document is never held whole.
#include <nlohmann/json.hpp>

#include "render.h"
#include "render_formats.h"
#include "what_if.h"
#include "smwatch/report.h"
#include "smwatch/version.h"

namespace smwatch::cli {

using nlohmann::json;

namespace {

json process_json(const ProcessReport& p) {
  json gpus = json::array(), modules = json::array(), failures = json::array(), missing = json::array(),
       partial = json::array(), handled = json::array(), unjudged = json::array(), libraries = json::array();
  for (const auto& g : p.gpus) gpus.push_back(record::to_json(g));
  for (const auto& m : p.modules)
    modules.push_back({{"source", m.source},     {"loads", m.loads},   {"failed_loads", m.failed},
                       {"archs", m.archs},       {"origin", m.origin}, {"verdicts", m.verdicts},
                       {"problems", m.problems}});
  for (const auto& f : p.failures) {
    json j = record::to_json(f.first);
    j["count"] = f.count;
    failures.push_back(std::move(j));
  }
  for (const auto& f : p.handled) {
    json j = record::to_json(f.first);
    j["count"] = f.count;
    handled.push_back(std::move(j));
  }
  for (const auto& m : p.unjudged) unjudged.push_back(record::to_json(m));
  for (const auto& [path, l] : p.libraries) libraries.push_back(record::to_json(l));
  for (const auto& m : p.missing) missing.push_back(record::to_json(m));
  for (const auto& m : p.partial) partial.push_back(record::to_json(m));
  return {{"pid", p.pid},
          {"ppid", p.ppid},
          {"exe", p.exe},
          {"cmdline", p.cmdline},
          {"report", p.file},
          {"format", p.format},
          {"smwatch", p.smwatch_version},
          {"targets", p.targets},
          {"gpus", std::move(gpus)},
          {"modules", std::move(modules)},
          {"module_loads", p.module_loads},
          {"failures", std::move(failures)},
          {"failure_records", p.failure_records},
          {"handled_lookups", std::move(handled)},
          {"libraries", std::move(libraries)},
          {"missing", std::move(missing)},
          {"partial", std::move(partial)},
          {"unjudged", std::move(unjudged)},
          {"runtime_kernels",
           {{"from_library", p.runtime_from_library},
            {"generated", p.runtime_generated},
            {"unjudged", p.runtime_unjudged}}},
          {"crashed", !p.exit.has_value()},
          {"exit", p.exit ? record::to_json(*p.exit) : json(nullptr)}};
}

}  // namespace

void render_json(std::ostream& out, const MergedReport& r, const Summary& s) {
  out << "{\n  \"schema\": ";
  write_json_at_depth(out, kReportSchema, 1);
  out << ",\n  \"tool\": ";
  write_json_at_depth(out, {{"name", "smwatch"}, {"version", kVersion}}, 1);
  out << ",\n  \"processes\": [";
  for (size_t i = 0; i < r.processes.size(); ++i) {
    out << (i ? ",\n    " : "\n    ");
    write_json_at_depth(out, process_json(r.processes[i]), 2);
  }
  out << (r.processes.empty() ? "]" : "\n  ]");
  json failures = json::array();
  for (const auto& g : s.failures) {
    json f = record::to_json(g.first);
    f["pids"] = g.pids;
    f["count"] = g.count;
    f["fix"] = fix_of(g.first);
    failures.push_back(std::move(f));
  }
  out << ",\n  \"failures\": ";
  write_json_at_depth(out, failures, 1);
  json what_if = json::object();
  for (const auto& [target, groups] : s.missing) {
    json list = json::array();
    for (const auto& g : groups) {
      json m = record::to_json(g.first);
      m["pids"] = g.pids;
      list.push_back(std::move(m));
    }
    what_if[target] = {{"kernels", std::move(list)}, {"fix", what_if_fix(target)}};
  }
  json handled = json::array();
  for (const auto& g : s.handled) {
    json f = record::to_json(g.first);
    f["pids"] = g.pids;
    f["count"] = g.count;
    handled.push_back(std::move(f));
  }
  out << ",\n  \"handled_lookups\": ";
  write_json_at_depth(out, handled, 1);
  json unjudged = json::object();
  for (const auto& [target, groups] : s.unjudged) {
    json list = json::array();
    for (const auto& g : groups) {
      json m = record::to_json(g.first);
      m["pids"] = g.pids;
      list.push_back(std::move(m));
    }
    unjudged[target] = {{"kernels", std::move(list)}, {"reason", kLibraryNotReadable}};
  }
  out << ",\n  \"not_judged\": ";
  write_json_at_depth(out, unjudged, 1);
  out << ",\n  \"what_if\": ";
  write_json_at_depth(out, what_if, 1);
  json problems = json::array();
  for (const auto& p : r.problems) problems.push_back({{"file", p.file}, {"line", p.line}, {"reason", p.reason}});
  out << ",\n  \"problems\": ";
  write_json_at_depth(out, problems, 1);
  out << ",\n  \"summary\": ";
  write_json_at_depth(out,
      {{"processes", r.processes.size()},
       {"crashed", s.crashed},
       {"modules", r.module_count()},
       {"failures", r.failure_count()},
       {"handled_lookups", s.handled_count},
       {"gpus", s.gpus},
       {"libraries_at_fault", s.libraries_at_fault},
       {"report_files", r.files},
       {"garbage_lines", r.garbage_lines},
       {"truncated_lines", r.truncated_lines},
       {"unreadable", r.unreadable},
       {"newer_records", r.newer_records}},
      1);
  out << ",\n  \"exit_code\": " << r.exit_code() << "\n}\n";
}

}  // namespace smwatch::cli
