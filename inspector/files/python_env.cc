#include "smwatch/python_env.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace smwatch {

namespace fs = std::filesystem;

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

}  // namespace smwatch
