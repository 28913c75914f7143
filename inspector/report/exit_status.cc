// The end of a command: whether what it printed reached standard output.
#include "smwatch/report.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace smwatch {

int exit_after_stdout(const char* program, int rc, int first_errno) {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return rc;
  // Again for the reason: an earlier failed write leaves its bytes buffered.
  const int err = errno != 0 ? errno : first_errno != 0 ? first_errno : (std::fflush(stdout), errno);
  std::fprintf(stderr, "%s: error: cannot write to standard output: %s\n", program,
               err != 0 ? std::strerror(err) : "write failed");
  return kExitError;
}

}  // namespace smwatch
