// capture_output: the one way smwatch runs a helper and reads what it prints.
#include <gtest/gtest.h>

#include "smwatch/process.h"

namespace smwatch {
namespace {

TEST(CaptureOutput, ReturnsWhatTheProgramPrinted) {
  auto out = capture_output({"sh", "-c", "printf 'a\\nb'; echo oops >&2"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "a\nb");  // standard error is not captured
}

TEST(CaptureOutput, FailuresNameTheProgramAndTheReason) {
  struct Case {
    std::vector<std::string> command;
    const char* says;
  } cases[] = {
      {{"/nonexistent/python3", "-c", "1"}, "cannot run '/nonexistent/python3': No such file or directory"},
      {{"sh", "-c", "exit 3"}, "'sh' failed (exit status 3)"},
      {{"sh", "-c", "kill -9 $$"}, "'sh' was killed by signal 9"},
      {{"sh", "-c", "head -c 3000000 /dev/zero"}, "'sh' printed more than 1 MiB"},
      {{}, "no program to run"},
  };
  for (const auto& c : cases) {
    auto out = capture_output(c.command, size_t{1} << 20);
    ASSERT_FALSE(out) << c.says;
    EXPECT_EQ(out.error().message, c.says);
  }
}

}  // namespace
}  // namespace smwatch
