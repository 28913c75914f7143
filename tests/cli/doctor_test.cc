// `smwatch doctor` on hostile environments: what the interpreter says about
// its packages is not trusted (issue 24 item 15).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support.h"

namespace smwatch::cli {
namespace {

namespace fs = std::filesystem;

// Package names and versions come from the environment's METADATA: an escape
// sequence in them (a window title, clear screen, a fake line) must reach the
// terminal as visible text, never as control bytes.
TEST(Doctor, PackageNamesAndVersionsAreNotWrittenRaw) {
  const std::string dir = test::scratch("doctor-escapes");
  const std::string python = dir + "/python3";
  test::spit(python,
             "#!/bin/sh\n"
             "printf '%s\\n' '{\"executable\": \"/venv/bin/python\\u001b[2J\", \"version\": \"3.12\", \"site\": [], "
             "\"dists\": [[\"torch\\u001b]0;pwned\\u0007\", \"2.6.0\\u001b[2J\\r\\nGPU 0: fake line\", []], "
             "[\"xformers\", 7, []]]}'\n");
  fs::permissions(python, fs::perms::owner_all);
  auto r = test::run({"doctor", "--python", python, "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("torch\\x1b]0;pwned\\x07 2.6.0\\x1b[2J\\x0d\\x0aGPU 0: fake line"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Python:  /venv/bin/python\\x1b[2J (3.12)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace smwatch::cli
