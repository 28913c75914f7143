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

// Controls from the reports and logs: ESC, U+009B (CSI), U+202E (RLO), BEL, newline.
void expect_no_controls(const std::string& text, const std::string& what) {
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << what << ":\n" << text;
}

TEST(Output, ControlsFromReportsAndLogsAreEscaped) {
  const std::string dir = scratch("controls");
  const std::string evil = R"(/lib/a\u001b[31m\u009b2J\u202egnp.\nfake\u0007.so)";
  std::string report = kReport;
  for (size_t at; (at = report.find("/lib/libk.so")) != std::string::npos;) report.replace(at, 12, evil);
  for (size_t at; (at = report.find("\"app\"")) != std::string::npos;) report.replace(at, 5, "\"" + evil + "\"");
  report += R"({"type":"module","pid":7,"time":2.5,"call":"cuModuleLoad","handle":"0x1","source":")" + evil +
            R"(","archs":"sm_80","verdicts":{"sm_90":"FAIL"},"result":0}
)";
  spit(dir + "/r.jsonl", report);
  const std::string smwatch = std::string("'") + SMWATCH_PATH + "' ";
  for (const char* format : {"", "--markdown", "--html"}) {
    const std::string out = dir + "/out";
    auto r = sh(smwatch + "report " + format + " '" + dir + "/r.jsonl' >'" + out + "'");
    EXPECT_EQ(r.status, 1) << format << r.err;
    const std::string text = slurp(out);
    expect_no_controls(text, std::string("report ") + format);
    expect_no_controls(r.err, std::string("report stderr ") + format);
    EXPECT_NE(text.find(R"(\x1b[31m\x9b2J\u{202e}gnp.)"), std::string::npos) << format << text;
  }
  spit(dir + "/log.txt", "\x1b[31mRuntimeError: CUDA error: no kernel image is available for execution on the device"
                         "\xc2\x9b2J\xe2\x80\xae\x07\x1b[0m\n");
  auto r = sh(smwatch + "explain '" + dir + "/log.txt' >'" + dir + "/out'");
  EXPECT_EQ(r.status, 0) << r.err;
  expect_no_controls(slurp(dir + "/out"), "explain");
  EXPECT_NE(slurp(dir + "/out").find("\\u{202e}\\x07"), std::string::npos) << slurp(dir + "/out");
}

}  // namespace
}  // namespace smwatch::cli
