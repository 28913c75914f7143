// Running a helper program (the Python interpreter a scan asks about) and
// reading what it prints: the one place smwatch starts a process to read its
// output (smwatch run, which hands the terminal to the user's command, is
// cli/run.cc).
#pragma once

#include <string>
#include <vector>

#include "smwatch/result.h"

namespace smwatch {

// Runs `command` (argv; the program is looked up in PATH, no shell) with its
// standard output captured and its standard error left to ours. An error,
// naming the program, when it cannot start, is killed, exits non-zero, or
// prints more than `max_bytes` (the rest is still read, so it never blocks).
Result<std::string> capture_output(const std::vector<std::string>& command, size_t max_bytes = size_t{16} << 20);

}  // namespace smwatch
