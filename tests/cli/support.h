// Helpers for the smwatch command's tests: run the built smwatch binary with
// arguments, extra environment and standard input; scratch directories.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace smwatch::cli::test {

struct Result {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs `program` (default: the smwatch under test) with `env` set on top of
// the current environment ("" as a value unsets the variable).
Result run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
           const std::string& input = "", const std::string& program = SMWATCH_PATH);

std::string scratch(const std::string& name);  // fresh, empty directory
std::string slurp(const std::string& path);
void spit(const std::string& path, const std::string& text);
std::string log_path(const std::string& name);  // tests/cli/logs/<name>

}  // namespace smwatch::cli::test
