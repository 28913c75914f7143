// What smwatch prints: write errors on standard output, and text from
// outside (paths, commands, kernel names) escaped before it reaches a
// terminal, a Markdown comment or a page.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "support.h"

namespace smwatch::cli {
namespace {

using test::scratch;
using test::slurp;
using test::spit;

struct Shell {
  int status;
  std::string err;
};
Shell sh(const std::string& command) {
  const std::string err = scratch("sh") + "/err";
  const int status = std::system((command + " 2>'" + err + "'").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(err)};
}

const char* kReport =
    R"j({"type":"process","pid":7,"time":1,"ppid":1,"exe":"/bin/app","cmdline":["app"],"smwatch":"0.1.0","targets":["sm_120"]}
{"type":"failure","pid":7,"time":2,"call":"cuLaunchKernel","error":209,"error_name":"CUDA_ERROR_NO_BINARY_FOR_GPU","kernel":"k","mangled":"k","source":"/lib/libk.so","archs":"sm_80","gpu_arch":"sm_90","fix":""}
{"type":"exit","pid":7,"time":3,"launches":1,"modules":1,"failures":1}
)j";

TEST(Output, EverySubcommandFailsWhenStandardOutputCannotBeWritten) {
  const std::string dir = scratch("full");
  spit(dir + "/r.jsonl", kReport);
  spit(dir + "/log.txt", "CUDA error: no kernel image is available for execution on the device\n");
  const std::string smwatch = std::string("'") + SMWATCH_PATH + "' ";
  for (const std::string args : {"report " + dir + "/r.jsonl", "report --json " + dir + "/r.jsonl",
                                 "report --markdown " + dir + "/r.jsonl", "explain " + dir + "/log.txt",
                                 "explain --json " + dir + "/log.txt", std::string("explain --list-signatures")}) {
    auto r = sh(smwatch + args + " >/dev/full");
    EXPECT_EQ(r.status, 2) << args << ": " << r.err;
    EXPECT_NE(r.err.find("smwatch: error: cannot write to standard output: No space left on device"),
              std::string::npos)
        << args << ": " << r.err;
  }
  EXPECT_EQ(sh(smwatch + "explain --list-signatures >/dev/null").status, 0);
}

}  // namespace
}  // namespace smwatch::cli
