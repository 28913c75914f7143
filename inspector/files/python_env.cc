#include "smwatch/python_env.h"

#include <limits.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "smwatch/process.h"

namespace smwatch {

namespace fs = std::filesystem;
using nlohmann::json;

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return fs::path(std::string(buf, static_cast<size_t>(n))).parent_path().string();
}

namespace {

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;  // follows symlinks (a venv's python is one)
}

// PATH's first python3, for the output only (posix_spawnp finds it itself).
std::string which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (true) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    fs::path candidate = fs::path(dir) / name;
    if (is_executable_file(candidate)) return candidate.string();
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

}  // namespace

PythonChoice choose_python(const std::string& named) {
  if (!named.empty()) return {named, "named with --python"};
  if (const char* env = std::getenv("SMWATCH_PYTHON"); env && *env)
    return {env, "$SMWATCH_PYTHON (python -m smwatch sets it to the interpreter that ran it)"};
  // The executable's own directory: not symlink-resolved for the interpreter
  // (a venv's bin/python3 -> /usr/bin/python3.11 must be run by its venv
  // path), but the directory of smwatch itself is where pip put it.
  if (std::string dir = executable_dir(); !dir.empty()) {
    for (const char* name : {"python3", "python"}) {
      fs::path candidate = fs::path(dir) / name;
      if (is_executable_file(candidate))
        return {candidate.string(), "the environment smwatch is installed in (" + fs::path(dir).parent_path().string() + ")"};
    }
  }
  std::string found = which("python3");
  return {"python3", found.empty() ? "python3 on PATH (none found)" : "python3 on PATH (" + found + ")"};
}

namespace {

constexpr const char* kProbe = R"(
import json, site, sys, sysconfig
dirs = []
cands = list(getattr(site, "getsitepackages", lambda: [])())
if site.ENABLE_USER_SITE:
    cands.append(site.getusersitepackages())
cands += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
for d in cands:
    if d and d not in dirs:
        dirs.append(d)
dists = []
try:
    from importlib import metadata
    for d in metadata.distributions():
        try:
            dists.append([d.metadata["Name"] or "", d.version or "", list(d.requires or [])])
        except Exception:
            pass
except Exception:
    pass
print(json.dumps({"executable": sys.executable, "version": sys.version.split()[0], "site": dirs, "dists": dists}))
)";

// "null", "a number", ... for an error message.
std::string json_kind(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  const std::string type = v.type_name();
  return (v.is_object() || v.is_array() ? "an " : "a ") + type;
}

}  // namespace

Result<PythonProbe> parse_python_probe(std::string_view printed, const std::string& python) {
  using nlohmann::json;
  const std::string who = "'" + python + "'";
  json doc = json::parse(printed, nullptr, false);
  if (doc.is_discarded()) return make_error(who + " answered the probe with something that is not JSON");
  if (!doc.is_object()) return make_error(who + " answered the probe with " + json_kind(doc) + ", not a JSON object");
  PythonProbe probe;
  // Each field: absent or of the wrong type is an error naming it, except an
  // unknown executable (Python itself may say None).
  auto field = [&](const char* name, json::value_t want, const char* what) -> Result<const json*> {
    auto it = doc.find(name);
    if (it == doc.end()) return make_error(who + " answered the probe without \"" + std::string(name) + "\"");
    if (it->type() != want)
      return make_error(who + " answered the probe with \"" + name + "\": " + json_kind(*it) + " (" + what +
                        " was expected)");
    return &*it;
  };
  if (auto it = doc.find("executable"); it != doc.end() && !it->is_null()) {
    if (!it->is_string())
      return make_error(who + " answered the probe with \"executable\": " + json_kind(*it) + " (a string was expected)");
    probe.executable = it->get<std::string>();
  }
  auto version = field("version", json::value_t::string, "a string");
  if (!version) return make_error(version.error().message);
  probe.version = (*version)->get<std::string>();
  auto site = field("site", json::value_t::array, "a list");
  if (!site) return make_error(site.error().message);
  for (const auto& d : **site)
    if (d.is_string() && !d.get_ref<const std::string&>().empty()) probe.site.push_back(d.get<std::string>());
  auto dists = field("dists", json::value_t::array, "a list");
  if (!dists) return make_error(dists.error().message);
  for (const auto& d : **dists) {
    if (!d.is_array() || d.size() != 3 || !d[0].is_string() || !d[1].is_string() || !d[2].is_array()) continue;
    PythonProbe::Dist dist{d[0].get<std::string>(), d[1].get<std::string>(), {}};
    for (const auto& r : d[2])
      if (r.is_string()) dist.requires_.push_back(r.get<std::string>());
    probe.dists.push_back(std::move(dist));
  }
  return probe;
}

Result<PythonProbe> probe_python(const std::string& python) {
  auto printed = capture_output({python, "-c", kProbe});
  if (!printed) return make_error(printed.error().message);
  return parse_python_probe(*printed, python);
}

// ---- The distributions of an environment (smwatch explain --python) ----

std::string dist_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (l == '_' || l == '.') ? '-' : l;
  }
  return out;
}

const PythonEnv::Dist* PythonEnv::find(std::string_view name) const {
  auto it = dists.find(dist_name(name));
  return it == dists.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, std::string>> PythonEnv::required_by(std::string_view name) const {
  const std::string want = dist_name(name);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, d] : dists) {
    for (const auto& req : d.requires_) {
      size_t end = 0;
      while (end < req.size() && (std::isalnum(static_cast<unsigned char>(req[end])) || req[end] == '-' ||
                                  req[end] == '_' || req[end] == '.'))
        ++end;
      if (dist_name(req.substr(0, end)) != want) continue;
      out.emplace_back(d.name, req.substr(0, req.find(';')));
    }
  }
  return out;
}

Result<PythonEnv> query_python_env(const std::string& python) {
  auto probe = probe_python(python);  // its answer checked field by field
  if (!probe) return make_error(probe.error().message);
  PythonEnv env;
  env.python = probe->executable.empty() ? python : probe->executable;
  for (auto& d : probe->dists) {
    PythonEnv::Dist dist{std::move(d.name), std::move(d.version), std::move(d.requires_)};
    std::string key = dist_name(dist.name);
    if (!key.empty() && !env.dists.count(key)) env.dists.emplace(key, std::move(dist));
  }
  return env;
}

}  // namespace smwatch
