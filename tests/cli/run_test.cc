// `smwatch run` and `smwatch doctor`, with a fake preload library standing in
// for libsmwatch.so (tests/cli/fake_shim.c), and the pieces run is built of.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "run.h"
#include "support.h"

extern char** environ;

namespace smwatch::cli {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> fake_env(std::map<std::string, std::string> more = {}) {
  more["SMWATCH_LIB"] = FAKE_SHIM_PATH;
  return more;
}

size_t jsonl_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".jsonl";
  return n;
}

TEST(Preload, PrependsAndKeepsTheRest) {
  std::string out, error;
  ASSERT_TRUE(prepend_preload("/x/libsmwatch.so", nullptr, out, error));
  EXPECT_EQ(out, "/x/libsmwatch.so");
  ASSERT_TRUE(prepend_preload("/x/libsmwatch.so", "libjemalloc.so.2 /y/a.so:/x/libsmwatch.so", out, error));
  EXPECT_EQ(out, "/x/libsmwatch.so:libjemalloc.so.2:/y/a.so");
  EXPECT_FALSE(prepend_preload("/my libs/libsmwatch.so", "", out, error));
  EXPECT_NE(error.find("spaces and colons"), std::string::npos);
}

TEST(Run, ExitStatusPassesThrough) {
  EXPECT_EQ(test::run({"run", "--", "sh", "-c", "exit 7"}, fake_env()).status, 7);
  EXPECT_EQ(test::run({"run", "--", "true"}, fake_env()).status, 0);
  EXPECT_EQ(test::run({"run", "--", "sh", "-c", "kill -TERM $$"}, fake_env()).status, 128 + SIGTERM);
  auto missing = test::run({"run", "--", "/nonexistent/program"}, fake_env());
  EXPECT_EQ(missing.status, 127);
  EXPECT_NE(missing.err.find("cannot run '/nonexistent/program'"), std::string::npos) << missing.err;
  // Without "--" the command starts at the first word that is not an option.
  EXPECT_EQ(test::run({"run", "sh", "-c", "exit 3"}, fake_env()).status, 3);
}

TEST(Run, SetsTheEnvironmentAndSummarisesEveryProcess) {
  std::string dir = test::scratch("run-report");
  std::string env_out = dir + "/../child-env.txt";
  auto r = test::run({"run", "-t", "RTX 5090,B200", "--report", dir, "--", "sh", "-c", "/bin/true; /bin/true; exit 0"},
                     fake_env({{"SMWATCH_FAKE_FAILURE", "1"},
                               {"SMWATCH_FAKE_ENV_OUT", env_out},
                               {"LD_PRELOAD", "/lib/x86_64-linux-gnu/libm.so.6"}}));
  ASSERT_EQ(r.status, 0) << r.err;
  // The last process to start wrote the file; every one saw the same variables.
  std::string env = test::slurp(env_out);
  EXPECT_NE(env.find(std::string("LD_PRELOAD=") + FAKE_SHIM_PATH + ":/lib/x86_64-linux-gnu/libm.so.6\n"), std::string::npos) << env;
  EXPECT_NE(env.find("SMWATCH_REPORT=" + fs::absolute(dir).lexically_normal().string() + "\n"), std::string::npos) << env;
  EXPECT_NE(env.find("SMWATCH_TARGETS=sm_120,sm_100\n"), std::string::npos) << env;
  // sh and the two /bin/true (the last may replace sh by exec): at least 2 processes.
  EXPECT_GE(jsonl_files(dir), 2u);
  EXPECT_NE(r.err.find("reports go to " + dir), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kernel:  scale_by_two(float*, int)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("library: /fake/libfake_kernels.so"), std::string::npos);
  EXPECT_NE(r.err.find("What-if sm_120"), std::string::npos);
  EXPECT_NE(r.err.find("What-if sm_100"), std::string::npos);
  EXPECT_NE(r.err.find("reports kept in " + dir), std::string::npos);
  EXPECT_TRUE(r.out.empty()) << "stdout belongs to the command";
  // The default report directory is a fresh one, named and kept.
  auto d = test::run({"run", "--", "true"}, fake_env());
  auto pos = d.err.find("reports go to ");
  ASSERT_NE(pos, std::string::npos);
  std::string made = d.err.substr(pos + 14, d.err.find('\n', pos) - pos - 14);
  EXPECT_NE(made.find("smwatch-run-"), std::string::npos);
  EXPECT_EQ(jsonl_files(made), 1u);
  fs::remove_all(made);
}

TEST(Run, FindsTheLibraryNextToTheExecutable) {
  std::string prefix = test::scratch("prefix");
  fs::create_directories(prefix + "/bin");
  fs::create_directories(prefix + "/lib");
  fs::copy_file(SMWATCH_PATH, prefix + "/bin/smwatch");
  auto none = test::run({"run", "--", "true"}, {{"SMWATCH_LIB", ""}}, "", prefix + "/bin/smwatch");
  EXPECT_EQ(none.status, 125);
  EXPECT_NE(none.err.find("libsmwatch.so not found; looked at:"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find(prefix + "/lib/libsmwatch.so"), std::string::npos) << none.err;
  fs::copy_file(FAKE_SHIM_PATH, prefix + "/lib/libsmwatch.so");
  auto found = test::run({"run", "--", "true"}, {{"SMWATCH_LIB", ""}}, "", prefix + "/bin/smwatch");
  EXPECT_EQ(found.status, 0) << found.err;
  EXPECT_NE(found.err.find("preloading " + prefix + "/lib/libsmwatch.so"), std::string::npos) << found.err;
  auto bad_env = test::run({"run", "--", "true"}, {{"SMWATCH_LIB", "/nonexistent/libsmwatch.so"}});
  EXPECT_EQ(bad_env.status, 125);
  EXPECT_NE(bad_env.err.find("$SMWATCH_LIB is set to '/nonexistent/libsmwatch.so', which is not a file"), std::string::npos);
  auto bad_target = test::run({"run", "-t", "sm_1x", "--", "true"}, fake_env());
  EXPECT_EQ(bad_target.status, 125);
  EXPECT_NE(bad_target.err.find("--targets"), std::string::npos);
}

// A signal sent to smwatch reaches the command, and its status says so.
int run_and_signal(int sig) {
  std::string dir = test::scratch("signal-" + std::to_string(sig));
  std::vector<std::string> args = {SMWATCH_PATH, "run", "-q", "--report", dir, "--", "sleep", "30"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string lib = std::string("SMWATCH_LIB=") + FAKE_SHIM_PATH;
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(lib.data());
  envp.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);  // ctest may have started us with SIGINT ignored
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), envp.data()), 0);
  posix_spawnattr_destroy(&attr);
  // Wait until the child runs (its report file appears), then signal smwatch only.
  for (int i = 0; i < 100 && jsonl_files(dir) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(pid, sig);
  auto start = std::chrono::steady_clock::now();
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << "the command did not get the signal";
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Run, ForwardsSigtermAndSigint) {
  EXPECT_EQ(run_and_signal(SIGTERM), 128 + SIGTERM);
  EXPECT_EQ(run_and_signal(SIGINT), 128 + SIGINT);
}

TEST(Doctor, WorksWithoutAGpu) {
  auto r = test::run({"doctor", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"}, fake_env());
  EXPECT_EQ(r.status, 1) << r.out << r.err;  // sm80.so cannot run on the sm_120 what-if (or this machine's GPU)
  EXPECT_NE(r.out.find("Driver:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Python:"), std::string::npos);
  EXPECT_NE(r.out.find("sm80.so"), std::string::npos);
  EXPECT_NE(r.out.find("Verdict for this machine:"), std::string::npos);
  EXPECT_NE(r.out.find(std::string("libsmwatch.so (for `smwatch run`): ") + FAKE_SHIM_PATH), std::string::npos);
  if (r.out.find("Driver:  none") != std::string::npos)
    EXPECT_NE(r.out.find("no GPU / no driver on this machine"), std::string::npos);
  auto ok = test::run({"doctor", "--python", "/nonexistent/python3", "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
  EXPECT_NE(ok.out.find("cannot run '/nonexistent/python3'"), std::string::npos) << ok.out;
  auto json = test::run({"doctor", "--json", "--python", "/nonexistent/python3", "--path", SMWATCH_FIXTURE_DIR "/sm120.so"});
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["schema"], "smwatch.doctor/1");
  EXPECT_EQ(doc["exit_code"], json.status);
}

// Which Python doctor inspects when none is named, and that it says so:
// $SMWATCH_PYTHON, else a python3 next to smwatch (the environment it is
// installed in), else python3 on PATH.
TEST(Doctor, SaysWhichPython) {
  const std::string fixture = SMWATCH_FIXTURE_DIR "/sm80.so";
  auto from_env = test::run({"doctor", "-t", "sm_80", "--path", fixture}, {{"SMWATCH_PYTHON", "/nonexistent/py"}});
  EXPECT_NE(from_env.out.find("cannot run '/nonexistent/py'"), std::string::npos) << from_env.out;
  EXPECT_NE(from_env.out.find("$SMWATCH_PYTHON"), std::string::npos) << from_env.out;

  // The build tree's smwatch has no python3 beside it.
  auto from_path = test::run({"doctor", "-t", "sm_80", "--path", fixture}, {{"SMWATCH_PYTHON", ""}});
  EXPECT_NE(from_path.out.find("python3 on PATH"), std::string::npos) << from_path.out;

  // A copy of smwatch in an environment's bin/ next to a python3.
  const std::string env = test::scratch("doctor-env");
  fs::create_directories(env + "/bin");
  fs::copy_file(SMWATCH_PATH, env + "/bin/smwatch");
  test::spit(env + "/bin/python3",
             "#!/bin/sh\necho '{\"executable\": \"/fake/python3\", \"version\": \"3.99\", \"site\": [], \"dists\": []}'\n");
  fs::permissions(env + "/bin/python3", fs::perms::owner_all);
  auto installed = test::run({"doctor", "-t", "sm_80", "--path", fixture}, {{"SMWATCH_PYTHON", ""}}, "", env + "/bin/smwatch");
  EXPECT_NE(installed.out.find("Python:  /fake/python3 (3.99): the environment smwatch is installed in (" + env + ")"),
            std::string::npos)
      << installed.out << installed.err;
}

}  // namespace
}  // namespace smwatch::cli
