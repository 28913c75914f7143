#include "doctor.h"

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "explain/knowledge.h"
#include "explain/signatures.h"
#include "run.h"
#include "smwatch/arch.h"
#include "smwatch/package_fix.h"
#include "smwatch/native.h"
#include "smwatch/python_env.h"
#include "smwatch/report.h"
#include "smwatch/scan.h"
#include "smwatch/text.h"


namespace smwatch::cli {

using nlohmann::json;

namespace {

// "12.8" -> 12080, the form cuDriverGetVersion uses.
int cuda_version_number(const char* text) {
  int major = 0, minor = 0;
  std::string_view s = text;
  size_t dot = s.find('.');
  std::from_chars(s.data(), s.data() + (dot == std::string_view::npos ? s.size() : dot), major);
  if (dot != std::string_view::npos) std::from_chars(s.data() + dot + 1, s.data() + s.size(), minor);
  return major * 1000 + minor * 10;
}

std::string cuda_text(int version) { return fmt::format("{}.{}", version / 1000, (version % 1000) / 10); }

// A string field of the interpreter's answer ("" when absent or not a string:
// the answer is the interpreter's, not ours).
std::string text_of(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

int run_doctor(std::ostream& real_out, const DoctorOptions& options, const std::string& exe_dir) {
  // With --json only the document goes out; the text is written aside.
  std::ostringstream text_sink;
  std::ostream& out = options.json ? static_cast<std::ostream&>(text_sink) : real_out;
  json doc = {{"schema", "smwatch.doctor/1"}};
  bool bad = false;

  // 1. Driver and GPUs.
  NativeInfo native = query_native_gpus();
  std::vector<Target> targets;
  json gpus = json::array();
  if (!native.driver_found) {
    out << "Driver:  none: " << printable(native.error) << "\n";
  } else {
    out << fmt::format("Driver:  supports CUDA {} and older (cuDriverGetVersion = {})\n", cuda_text(native.driver_version),
                       native.driver_version);
  }
  for (const auto& gpu : native.gpus) {
    const GpuGeneration* gen = find_generation(gpu.cc);
    Target t{gpu.cc, gpu.name};
    std::string driver_verdict;
    bool driver_ok = true;
    if (gen) {
      const int needed = cuda_version_number(gen->first_cuda);
      driver_ok = native.driver_version >= needed;
      driver_verdict = driver_ok ? fmt::format("needs CUDA {}+: the driver is new enough", gen->first_cuda)
                                 : fmt::format("needs CUDA {}+: the driver is TOO OLD (supports {}): update it", gen->first_cuda,
                                               cuda_text(native.driver_version));
    }
    bad = bad || !driver_ok;
    out << fmt::format("GPU {}:   {}: {}, compute capability {}{}{}\n", gpu.ordinal, printable(gpu.name), t.sm_name(), t.cc_string(),
                       gen ? std::string(" (") + gen->gpus + ")" : "", driver_verdict.empty() ? "" : "; " + driver_verdict);
    gpus.push_back({{"ordinal", gpu.ordinal}, {"name", gpu.name}, {"arch", t.sm_name()}, {"cc", t.cc_string()}, {"driver_ok", driver_ok}});
    targets.push_back(t);
  }
  doc["driver"] = {{"found", native.driver_found}, {"version", native.driver_version}, {"error", native.error}};
  doc["gpus"] = gpus;
  const bool what_if_only = targets.empty();
  if (!options.targets.empty()) {  // what-ifs, after this machine's GPUs
    auto list = resolve_targets(options.targets, [&] { return native_targets(native); });
    if (!list) {
      real_out << "error: --target: " << list.error().message << "\n";
      return 2;
    }
    for (const auto& t : *list)
      if (std::none_of(targets.begin(), targets.end(), [&](const Target& have) { return have.cc == t.cc; })) targets.push_back(t);
  }
  if (targets.empty()) {
    const Target fallback = default_target();
    targets.push_back(fallback);
    out << "GPUs:    no GPU / no driver on this machine: judging for " << fallback.sm_name() << " ("
        << find_generation(fallback.cc)->gpus << ") as a what-if; choose others with --target\n";
  }

  // 2. The Python environment.
  std::vector<std::string> paths = options.extra_paths;
  std::string py_error;
  json python = nullptr;
  // No --python: the environment smwatch is installed in, else python3 on PATH.
  const PythonChoice choice = choose_python(options.python);
  if (auto probe = probe_python(choice.python)) {  // its answer checked field by field
    // Distributions shown as CUDA-related: the packages table's (names
    // matched loosely: this is for display; the verdict comes from scanning the files).
    const Knowledge& knowledge = SignatureSet::builtin().knowledge();
    json packages = json::object();
    for (const auto& d : probe->dists)
      if (knowledge.cuda_related(d.name)) packages[d.name] = d.version;
    python = {{"executable", probe->executable.empty() ? choice.python : probe->executable},
              {"version", probe->version}, {"site", probe->site}, {"packages", packages}};
  } else {
    py_error = probe.error().message;
  }
  out << "\n";
  if (python.is_null()) {
    out << "Python:  " << printable(py_error) << " (" << printable(choice.origin) << "): no Python packages scanned (choose one with --python)\n";
  } else {
    out << fmt::format("Python:  {} ({}): {}\n", printable(text_of(python, "executable")), printable(text_of(python, "version")),
                       printable(choice.origin));
    python["chosen_as"] = choice.origin;
    std::error_code ec;
    for (const auto& d : python["site"]) {
      if (!d.is_string()) continue;
      bool exists = std::filesystem::is_directory(d.get<std::string>(), ec);
      out << "  site-packages: " << printable(d.get<std::string>()) << (exists ? "" : " (absent)") << "\n";
      if (exists) paths.push_back(d.get<std::string>());
    }
    std::string pk;
    for (const auto& [name, version] : python["packages"].items())
      pk += (pk.empty() ? "" : ", ") + name + " " + (version.is_string() ? version.get<std::string>() : "");
    // Names and versions are whatever the environment's METADATA says: never raw to the terminal.
    out << "  CUDA-related packages: " << (pk.empty() ? "none" : printable(pk)) << "\n";
  }
  doc["python"] = python;

  // 3. Scan and judge.
  int code = 0;
  if (paths.empty()) {
    out << "\nNothing to scan.\n";
    code = 2;
  } else {
    out << "\nDevice code found:\n";
    // This machine's driver judges PTX JIT; a what-if GPU runs on some other machine's.
    const Driver driver = what_if_only ? Driver{}
                                       : driver_from_cuda_version(native.driver_version,
                                                                  "this machine's, CUDA " + cuda_version_name(native.driver_version));
    ScanReport report = judge(scan_paths(paths, ScanOptions{}), targets, nullptr, driver);
    TableStyle style;
    style.color = false;
    print_table(out, report, style);
    code = report.exit_code();
    size_t with_code = 0;
    for (const auto& f : report.tree.files) with_code += f.has_device_code();
    out << "\nVerdict for this machine: ";
    if (with_code == 0) {
      out << "no CUDA device code in the scanned packages: nothing here can fail for lack of it.\n";
    } else if (code == kExitFail) {
      for (const auto& s : report.summaries) {
        if (s.verdict != Verdict::kFail) continue;
        out << fmt::format("\n  {} {}: {} librar{} will fail with \"no kernel image is available\"; fix: {}",
                           what_if_only ? "what-if" : "on this GPU,", s.target.sm_name(), s.fail, s.fail == 1 ? "y" : "ies",
                           s.driver_fix.empty() ? fix_hint(s.target.cc) : s.driver_fix);
      }
      out << "\n";
    } else {
      out << fmt::format("every CUDA library found has code for {}{}.\n", what_if_only ? "the what-if target" : "this machine's GPUs",
                         code == kExitError ? " (but some files could not be read: see Problems)" : "");
    }
    doc["scan"] = to_json(report);
  }
  if (bad) {
    out << "The driver is too old for a GPU of this machine: update the NVIDIA driver.\n";
    code = std::max(code, 1);
  }

  ShimSearch shim = find_shim(exe_dir);
  out << "\nlibsmwatch.so (for `smwatch run`): "
      << printable(shim.path.empty() ? "NOT FOUND (" + shim.error + "); looked at:" : shim.path);
  if (shim.path.empty())
    for (const auto& t : shim.tried) out << "\n  " << printable(t);
  out << "\n";
  doc["shim"] = shim.path;
  doc["exit_code"] = code;
  if (options.json) real_out << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return code;
}

}  // namespace smwatch::cli
