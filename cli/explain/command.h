// `smwatch explain FILE...`: the command (part of the smwatch program, not
// of the matcher library).
#pragma once

#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace smwatch::cli {

struct ExplainOptions {
  std::vector<std::string> files;  // "-": standard input
  bool json = false;               // one JSON document instead of text
  bool list = false;               // list the signatures and stop
  std::string signatures;          // --signatures FILE ("": $SMWATCH_SIGNATURES, installed, built-in)
  std::string python;              // --python PY ("": the environment smwatch is installed in; none: skip)
  std::string exe_dir;             // where smwatch runs from (to find the installed signatures)
};

// Returns 0 (something recognised), 1 (nothing) or 2 (an error, logged).
// `stdout_errno` keeps the reason the first write to standard output failed.
int run_explain(const ExplainOptions& options, spdlog::logger& log, int& stdout_errno);

}  // namespace smwatch::cli
