// Issue 24, items 14 and 16-19: the smwatch command against hostile input -
// an interpreter that answers the probe with nonsense, report fields that are
// Markdown, report directories with links, FIFOs and unreadable parts, and
// report files shaped to blow up memory or time.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../markdown_active.h"
#include "report/render.h"
#include "support.h"

namespace smwatch::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// `smwatch ARGS` ended by timeout(1) after `seconds` (status 124): a command
// that blocks or reads forever fails the test instead of hanging it.
test::Result run_within(int seconds, std::vector<std::string> args, const std::string& program = SMWATCH_PATH) {
  args.insert(args.begin(), {std::to_string(seconds), program});
  return test::run(args, {}, "", "/usr/bin/timeout");
}

std::string record(json r) { return r.dump() + "\n"; }

// One process with one failure: the report a directory's reading must not lose.
std::string failing_report(int pid) {
  return record({{"type", "process"}, {"pid", pid}, {"time", 1}, {"ppid", 1}, {"exe", "/bin/app"}, {"cmdline", {"app"}}}) +
         record({{"type", "failure"}, {"pid", pid}, {"time", 2}, {"call", "cuLaunchKernel"}, {"error", 209},
                 {"error_name", "CUDA_ERROR_NO_BINARY_FOR_GPU"}, {"kernel", "lost_kernel"}, {"mangled", ""},
                 {"source", "/lib/libfailing.so"}, {"archs", "sm_80"}, {"gpu_arch", "sm_90"}, {"fix", ""}}) +
         record({{"type", "exit"}, {"pid", pid}, {"time", 3}, {"launches", 1}, {"modules", 0}, {"failures", 1}});
}

std::string ok_report(int pid) {
  return record({{"type", "process"}, {"pid", pid}, {"time", 1}, {"ppid", 1}, {"exe", "/bin/ok"}, {"cmdline", {"ok"}}}) +
         record({{"type", "exit"}, {"pid", pid}, {"time", 2}, {"launches", 0}, {"modules", 0}, {"failures", 0}});
}

// ---- 14: the Python probe's answer ------------------------------------------------

TEST(PythonProbeAnswer, NonsenseIsAnErrorNotAnAbort) {
  const std::string dir = test::scratch("probe-answer");
  for (const char* executable : {"5", "null", "[\"x\"]"}) {
    const std::string python = dir + "/python3";
    test::spit(python, std::string("#!/bin/sh\necho '{\"executable\": ") + executable +
                           ", \"version\": 3, \"site\": \"/tmp\", \"dists\": {}}'\n");
    fs::permissions(python, fs::perms::owner_all);
    auto doctor = test::run({"doctor", "--python", python, "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
    EXPECT_EQ(doctor.status, 0) << executable << ": " << doctor.err;
    EXPECT_NE(doctor.out.find("answered the probe with"), std::string::npos) << doctor.out;
    auto explain = test::run({"explain", "--python", python, test::log_path("compressed_tensors_masking_utils.log")});
    EXPECT_EQ(explain.status, 2) << executable << ": " << explain.err;
    EXPECT_NE(explain.err.find("answered the probe with"), std::string::npos) << explain.err;
  }
}

// An interpreter that never stops printing, or leaves a child holding its
// output: doctor still finishes.
TEST(PythonProbeAnswer, EndlessOrHeldOutputEnds) {
  const std::string dir = test::scratch("probe-endless");
  const std::string endless = dir + "/endless", held = dir + "/held";
  test::spit(endless, "#!/bin/sh\nexec yes\n");
  test::spit(held, "#!/bin/sh\nsleep 100 &\necho $! > '" + dir + "/pid'\n"
                   "echo '{\"executable\": \"/p\", \"version\": \"3.12\", \"site\": [], \"dists\": []}'\n");
  fs::permissions(endless, fs::perms::owner_all);
  fs::permissions(held, fs::perms::owner_all);
  auto a = run_within(60, {"doctor", "--python", endless, "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.out.find("printed more than 16 MiB"), std::string::npos) << a.out;
  auto b = run_within(60, {"doctor", "--python", held, "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
  EXPECT_EQ(b.status, 0) << b.err;
  EXPECT_NE(b.out.find("Python:  /p (3.12)"), std::string::npos) << b.out;
  std::ifstream pid_file(dir + "/pid");
  if (pid_t pid = 0; pid_file >> pid && pid > 0) kill(pid, SIGKILL);
}

// ---- 16: Markdown ------------------------------------------------------------------

TEST(ReportMarkdown, ShowsNoLinkImageOrTagFromTheReports) {
  std::string text;
  for (const char* p : smwatch::test::kMarkdownPayloads) {
    const std::string s = p;
    text += record({{"type", "process"}, {"pid", 7}, {"time", 1}, {"ppid", 1}, {"exe", s}, {"cmdline", {s}}});
    text += record({{"type", "gpu"}, {"pid", 7}, {"time", 1}, {"ordinal", 0}, {"name", s}, {"cc", s}, {"arch", s}});
    text += record({{"type", "module"}, {"pid", 7}, {"time", 1}, {"call", s}, {"handle", "0x1"}, {"source", s},
                    {"archs", s}, {"verdicts", {{s, s}}}, {"result", 0}, {"result_name", s}});
    text += record({{"type", "failure"}, {"pid", 7}, {"time", 2}, {"call", s}, {"error", 209}, {"error_name", s},
                    {"kernel", s}, {"mangled", s}, {"source", s}, {"archs", s}, {"gpu_arch", s}, {"fix", s}});
    text += record({{"type", "missing"}, {"pid", 7}, {"time", 2}, {"target", s}, {"kernel", s}, {"mangled", s},
                    {"source", s}, {"archs", s}});
  }
  MergedReport r;
  add_report_text(r, text, std::string("/r/") + smwatch::test::kMarkdownPayloads[0] + ".jsonl");
  add_report_text(r, "not json\n", std::string("/r/") + smwatch::test::kMarkdownPayloads[1] + ".jsonl");  // a problem
  finish_report(r);
  ASSERT_EQ(r.failure_count(), 3u);
  std::ostringstream md;
  render_report(md, r, Format::kMarkdown);
  const std::string active = smwatch::test::markdown_active_text(md.str());
  for (const char* a : smwatch::test::kMarkdownActive) EXPECT_EQ(active.find(a), std::string::npos) << a << " in\n" << md.str();
  EXPECT_NE(md.str().find("onerror"), std::string::npos) << "shown, not dropped";
}

// ---- 17: links, FIFOs, special files -------------------------------------------------

TEST(ReportFiles, LinksOutOfTheDirectoryAreNotFollowed) {
  const std::string dir = test::scratch("links-out");
  test::spit(dir + "/real.jsonl", failing_report(11));
  fs::create_symlink("/proc/self/pagemap", dir + "/pagemap.jsonl");  // about 256 GB of zeros
  fs::create_symlink("/proc/kmsg", dir + "/kmsg.jsonl");              // blocks
  fs::create_directories(dir + "/sub");
  fs::create_symlink("../real.jsonl", dir + "/sub/inside.jsonl");  // inside: read, and only once
  auto r = run_within(60, {"report", "--json", dir});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(dir + "/pagemap.jsonl: a link out of " + dir + " (to /proc/self/pagemap): not followed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(dir + "/kmsg.jsonl: a link out of"), std::string::npos) << r.err;
  ASSERT_EQ(r.status, 2);
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["summary"]["processes"], 1) << "the link inside is the same file";
  EXPECT_EQ(doc["summary"]["unreadable"], 2);
}

TEST(ReportFiles, OnlyRegularFilesAreReadAndNoFurtherThanTheirSize) {
  const std::string dir = test::scratch("special-files");
  test::spit(dir + "/real.jsonl", failing_report(12));
  ASSERT_EQ(mkfifo((dir + "/fifo.jsonl").c_str(), 0600), 0);
  auto walked = run_within(60, {"report", dir});
  EXPECT_EQ(walked.status, 2) << walked.err;
  EXPECT_NE(walked.err.find(dir + "/fifo.jsonl: not a regular file"), std::string::npos) << walked.err;
  EXPECT_NE(walked.out.find("lost_kernel"), std::string::npos) << walked.out;
  // Named on the command line (a link there is followed): a FIFO with no
  // writer, a character device, and a file whose size says 0 but reads forever.
  auto named = run_within(60, {"report", dir + "/fifo.jsonl", "/dev/zero", "/proc/self/pagemap", dir + "/real.jsonl"});
  EXPECT_EQ(named.status, 2) << named.err;
  EXPECT_NE(named.err.find(dir + "/fifo.jsonl: not a regular file"), std::string::npos) << named.err;
  EXPECT_NE(named.err.find("/dev/zero: not a regular file"), std::string::npos) << named.err;
  EXPECT_NE(named.out.find("lost_kernel"), std::string::npos) << named.out;
}

// ---- 18: what is not read is named, and the exit status says so ------------------------

TEST(ReportExit, AMissingPathIsExit2EvenWithFailuresOrNone) {
  const std::string dir = test::scratch("exit-missing");
  test::spit(dir + "/ok.jsonl", ok_report(13));
  test::spit(dir + "/bad.jsonl", failing_report(14));
  for (const char* file : {"/ok.jsonl", "/bad.jsonl"}) {
    auto r = test::run({"report", dir + file, dir + "/gone.jsonl"});
    EXPECT_EQ(r.status, 2) << file << r.err;
    EXPECT_NE(r.err.find(dir + "/gone.jsonl: no such file or directory"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("No failures"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Not everything could be read (1 unread"), std::string::npos) << r.out;
  }
}

// A tree deeper than the descriptors the process may open: the old walk kept
// one per level, stopped, and said "No failures" about the file at the bottom.
TEST(ReportExit, ADeepTreeIsReadToTheBottomWithFewDescriptors) {
  const std::string dir = test::scratch("exit-deep");
  test::spit(dir + "/ok.jsonl", ok_report(15));
  std::string deep = dir;
  for (int i = 0; i < 60; ++i) deep += "/d";
  fs::create_directories(deep);
  test::spit(deep + "/bad.jsonl", failing_report(16));
  auto r = test::run({"-c", "ulimit -n 24; exec '" SMWATCH_PATH "' report '" + dir + "'"}, {}, "", "/bin/sh");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.out.find("lost_kernel"), std::string::npos) << r.out;
}

// Files and directories the user may not read (run as nobody when we are root).
TEST(ReportExit, UnreadableFilesAndDirectoriesAreNamedAndExit2) {
  std::vector<std::string> as_user;
  if (geteuid() == 0) {
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "root, and no setpriv to drop to nobody";
    as_user = {"--reuid=65534", "--regid=65534", "--clear-groups", SMWATCH_PATH};
  }
  const std::string dir = test::scratch("exit-unreadable");  // under /tmp: nobody may reach it
  test::spit(dir + "/ok.jsonl", ok_report(17));
  test::spit(dir + "/secret.jsonl", failing_report(18));
  fs::create_directories(dir + "/closed");
  test::spit(dir + "/closed/inner.jsonl", failing_report(19));
  fs::permissions(dir + "/secret.jsonl", fs::perms::none);
  fs::permissions(dir + "/closed", fs::perms::none);
  std::vector<std::string> args = as_user;
  args.insert(args.end(), {"report", dir});
  auto r = test::run(args, {}, "", as_user.empty() ? SMWATCH_PATH : "/usr/bin/setpriv");
  fs::permissions(dir + "/closed", fs::perms::owner_all);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(dir + "/secret.jsonl: cannot open: Permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir + "/closed: cannot list directory: Permission denied"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("No failures"), std::string::npos) << r.out;
}

// ---- 19: memory and time -------------------------------------------------------------

// Records of many pids in one file: a file is one process (the shim reopens
// its own in a child), so past kMaxProcessesPerFile the rest are named, not kept.
TEST(ReportSize, ManyPidsInOneFileAreNotKept) {
  std::string text;
  for (int pid = 1; pid <= 1000; ++pid) text += record({{"type", "exit"}, {"pid", pid}, {"time", 1}});
  MergedReport r;
  add_report_text(r, text, "pids.jsonl");
  EXPECT_EQ(r.processes.size(), kMaxProcessesPerFile);
  EXPECT_EQ(r.unreadable, 1u);
  EXPECT_EQ(r.exit_code(), 2);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems.back().reason,
            "records of more than 64 processes (the shim writes one per file): 936 records of the others not read");
}

// 1,000,000 distinct pids in 29 MB took 1.1 GB; now a bounded few MB.
TEST(ReportSize, AMillionPidsInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ulimit -v cannot bound a sanitizer build";
#endif
  const std::string dir = test::scratch("million-pids");
  {
    std::ofstream out(dir + "/pids.jsonl", std::ios::binary);
    for (int pid = 1; pid <= 1000000; ++pid) out << R"({"type":"exit","pid":)" << pid << "}\n";
  }
  auto r = test::run({"-c", "ulimit -v 150000; exec '" SMWATCH_PATH "' report --json '" + dir + "'"}, {}, "", "/bin/sh");
  ASSERT_EQ(r.status, 2) << r.err.substr(0, 400);
  EXPECT_EQ(json::parse(r.out)["summary"]["processes"], kMaxProcessesPerFile);
}

// Distinct GPU records of one process were folded by a linear search
// (quadratic: 80k took 2.5 s). Eight times the records must take about eight
// times the CPU time, not 64 (CPU time, best of two runs each, measured here:
// other load on the machine does not count).
TEST(ReportSize, ManyGpuRecordsFoldInLinearTime) {
  auto cpu_seconds_to_fold = [](int gpus) {
    std::string text = record({{"type", "process"}, {"pid", 9}, {"time", 1}});
    for (int i = 0; i < gpus; ++i)
      text += R"({"type":"gpu","pid":9,"time":1,"ordinal":)" + std::to_string(i) + R"(,"name":"G","cc":"9.0","arch":"sm_90"})" "\n";
    text += R"({"type":"gpu","pid":9,"time":1,"ordinal":5,"name":"G","cc":"9.0","arch":"sm_90"})" "\n";  // a repeat
    double best = 1e9;
    for (int run = 0; run < 2; ++run) {
      MergedReport r;
      const std::clock_t start = std::clock();
      add_report_text(r, text, "gpus.jsonl");
      best = std::min(best, static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC);
      EXPECT_EQ(r.processes.at(0).gpus.size(), static_cast<size_t>(gpus));
    }
    return best;
  };
  const double small = cpu_seconds_to_fold(20000), large = cpu_seconds_to_fold(160000);
  EXPECT_LT(large, 16 * small) << "20k GPU records: " << small << " s, 160k: " << large << " s";
}

}  // namespace
}  // namespace smwatch::cli
