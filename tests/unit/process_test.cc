// capture_output: the one way smwatch runs a helper and reads what it prints.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "smwatch/process.h"
#include "smwatch/python_env.h"

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

// Each runs in a forked child that SIGALRM ends: a capture that never returns
// (the old reader: past its limit forever, or until the last holder of the
// pipe closed it) fails the test instead of hanging it.
template <typename Body>
void within_seconds(unsigned seconds, Body body) {
  EXPECT_EXIT(
      {
        alarm(seconds);
        body();
        std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(CaptureOutput, EndlessOutputStopsAtTheLimit) {
  within_seconds(30, [&] {
    auto out = capture_output({"yes"}, size_t{1} << 20);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().message, "'yes' printed more than 1 MiB");
  });
}

TEST(CaptureOutput, ABackgroundChildHoldingTheOutputIsNotWaitedFor) {
  within_seconds(30, [&] {
    auto out = capture_output({"sh", "-c", "sleep 600 & echo $!"});
    ASSERT_TRUE(out) << out.error().message;
    kill(std::atoi(out->c_str()), SIGKILL);
  });
}

// The program is killed at the deadline, and so is what it started.
TEST(CaptureOutput, ATimeoutKillsTheProgramAndItsGroup) {
  const std::string pid_file = ::testing::TempDir() + "capture-timeout-" + std::to_string(getpid());
  within_seconds(30, [&] {
    const auto start = std::chrono::steady_clock::now();
    auto out = capture_output({"sh", "-c", "sleep 600 & echo $! > '" + pid_file + "'; wait"}, size_t{1} << 20,
                              std::chrono::seconds(1));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().message, "'sh' did not finish within 1 s");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    pid_t background = 0;
    std::ifstream(pid_file) >> background;
    ASSERT_GT(background, 0);
    // Gone, or a zombie waiting for whoever adopted it.
    bool alive = true;
    for (int i = 0; i < 100 && alive; ++i, usleep(50000)) {
      std::ifstream stat("/proc/" + std::to_string(background) + "/stat");
      std::string pid, comm, state;
      alive = static_cast<bool>(stat >> pid >> comm >> state) && state != "Z";
    }
    EXPECT_FALSE(alive) << "the background sleep " << background << " still runs";
    kill(background, SIGKILL);
  });
}

// The interpreter may be any program: its answer is checked field by field
// (the old code called .get<std::string>() on whatever came: type_error,
// abort).
TEST(PythonProbe, AnswersOfTheWrongShapeAreErrorsNamingTheField) {
  struct Case {
    const char* printed;
    const char* says;
  } cases[] = {
      {R"({"executable": 5, "version": "3.12.3", "site": [], "dists": []})",
       R"('py' answered the probe with "executable": a number (a string was expected))"},
      {R"({"executable": "/p", "version": null, "site": [], "dists": []})",
       R"('py' answered the probe with "version": null (a string was expected))"},
      {R"({"executable": "/p", "version": "3", "site": {"a": 1}, "dists": []})",
       R"('py' answered the probe with "site": an object (a list was expected))"},
      {R"({"executable": "/p", "version": "3", "site": [], "dists": 7})",
       R"('py' answered the probe with "dists": a number (a list was expected))"},
      {R"({"executable": "/p", "site": [], "dists": []})", R"('py' answered the probe without "version")"},
      {R"([1, 2])", "'py' answered the probe with an array, not a JSON object"},
      {"Python 3.12.3\n", "'py' answered the probe with something that is not JSON"},
  };
  for (const auto& c : cases) {
    auto probe = parse_python_probe(c.printed, "py");
    ASSERT_FALSE(probe) << c.printed;
    EXPECT_EQ(probe.error().message, c.says);
  }
}

TEST(PythonProbe, AnUnknownExecutableAndMalformedEntriesAreTolerated) {
  auto probe = parse_python_probe(
      R"({"executable": null, "version": "3.12.3", "site": ["/s", 3, null, ""],
          "dists": [["torch", "2.6.0", ["numpy"]], ["bad", 1, []], 5, ["x", "1", [2, "y"]]]})",
      "py");
  ASSERT_TRUE(probe) << probe.error().message;
  EXPECT_EQ(probe->executable, "");
  EXPECT_EQ(probe->site, std::vector<std::string>{"/s"});
  ASSERT_EQ(probe->dists.size(), 2u);
  EXPECT_EQ(probe->dists[0].name, "torch");
  EXPECT_EQ(probe->dists[0].requires_, std::vector<std::string>{"numpy"});
  EXPECT_EQ(probe->dists[1].requires_, std::vector<std::string>{"y"});
}

// The real thing: the probe's script runs on the python3 of this machine.
TEST(PythonProbe, ARealInterpreterAnswers) {
  if (!capture_output({"python3", "-c", "pass"})) GTEST_SKIP() << "no python3 on PATH";
  auto probe = probe_python("python3");
  ASSERT_TRUE(probe) << probe.error().message;
  EXPECT_FALSE(probe->executable.empty());
  EXPECT_EQ(probe->version.substr(0, 2), "3.");
  EXPECT_FALSE(probe->site.empty());
}

}  // namespace
}  // namespace smwatch
