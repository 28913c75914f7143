// Running a helper program (the Python interpreter a scan asks about) and
// reading what it prints: the one place smwatch starts a process to read its
// output (smwatch run, which hands the terminal to the user's command, is
// cli/run.cc).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "smwatch/result.h"

namespace smwatch {

// Runs `command` (argv; the program is looked up in PATH, no shell) in a
// process group of its own, with standard input /dev/null, its standard
// output captured and its standard error left to ours. An error, naming the
// program, when it cannot start, is killed, exits non-zero, prints more than
// `max_bytes` or runs longer than `timeout`: reading stops there and the
// group is killed and the child reaped. Once the child has exited, a
// descendant still holding its standard output is not waited for.
Result<std::string> capture_output(const std::vector<std::string>& command, size_t max_bytes = size_t{16} << 20,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace smwatch
