// `smwatch run`: finding libsmwatch.so, preparing the environment, running the
// command with signals forwarded, and passing its exit status through.
#pragma once

#include <string>
#include <vector>

namespace smwatch::cli {

// The directory of the running executable (symlinks resolved).
std::string self_exe_dir();

struct ShimSearch {
  std::string path;                // the library found, "" when none
  std::vector<std::string> tried;  // every place looked at, in order
  std::string error;               // why none was taken
};
// $SMWATCH_LIB when set (it must exist), else next to the executable:
// <dir>/../lib/libsmwatch.so (cmake --install, pip install into a venv),
// <dir>/libsmwatch.so, <dir>/../shim/libsmwatch.so (the build tree).
ShimSearch find_shim(const std::string& exe_dir);

// LD_PRELOAD with `lib` first and the existing entries kept (an entry equal
// to `lib` is not repeated). The dynamic loader splits LD_PRELOAD at spaces
// and colons, so a path holding either cannot be preloaded: error.
bool prepend_preload(const std::string& lib, const char* existing, std::string& out, std::string& error);

// A fresh directory for reports under $TMPDIR (or /tmp), kept afterwards.
std::string make_report_dir(std::string& error);

// Runs `command` (looked up in PATH) with the given environment variables set
// on top of ours, forwarding SIGINT, SIGTERM and SIGHUP sent to smwatch; returns
// its exit status, 128 + N when signal N ended it, 127 when it could not be
// found, 126 when it could not be executed (as the shell does).
int run_child(const std::vector<std::string>& command, const std::vector<std::pair<std::string, std::string>>& env,
              std::string& error);

}  // namespace smwatch::cli
