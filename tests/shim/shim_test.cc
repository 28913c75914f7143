// libsmwatch.so inside real processes: the driver-API programs run with and
// without the shim against the stand-in driver, and the tests read what the
// shim wrote (stderr lines, JSONL records) and what the programs printed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <variant>

#include "smwatch/record.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
namespace record = smwatch::record;

std::string fixture(const std::string& name) { return std::string(SMWATCH_FIXTURE_DIR) + "/" + name; }

struct Outcome {
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;  // killed after the run's time limit (a hang)
  long max_rss_kb = 0;     // the program's peak resident memory
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("smwatch-shim-" + std::to_string(getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Runs `program` with the standard fixture arguments plus `extra`, with the
// environment changed by `env` (an empty value removes a variable).
// `timeout_s` > 0: the program is killed after that many seconds, and the
// outcome says so (tests of hangs fail instead of hanging).
Outcome run_argv(std::vector<std::string> args, const std::map<std::string, std::string>& env, int timeout_s = 0);

Outcome run(const std::string& program, const std::map<std::string, std::string>& env,
        const std::vector<std::string>& extra = {}, int timeout_s = 0) {
  std::vector<std::string> args = {program,          "--fatbin80", fixture("sm80.fatbin"), "--multi",
                                   fixture("multi_none.fatbin"), "--so80", fixture("sm80.so"), "--cubin80",
                                   fixture("sm80.cubin")};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_argv(args, env, timeout_s);
}

// Runs args[0] (an absolute path) with exactly these arguments.
Outcome run_argv(std::vector<std::string> args, const std::map<std::string, std::string>& env, int timeout_s) {
  std::string dir = fresh_dir("io");
  const std::string program = args[0];
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const char* v : {"LD_PRELOAD", "SMWATCH_REPORT", "SMWATCH_TARGETS", "SMWATCH_LOG", "SMWATCH_DISABLE",
                        "CUDA_MODULE_LOADING", "FAKE_CUDA_CC"})
    vars.erase(v);
  vars["LD_LIBRARY_PATH"] = FAKE_CUDA_DIR;
  if (SMWATCH_SANITIZED) vars["ASAN_OPTIONS"] = "verify_asan_link_order=0:detect_leaks=0";
  for (const auto& [k, v] : env) {
    if (v.empty()) vars.erase(k);
    else vars[k] = v;
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, (dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  Outcome r;
  if (posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) return r;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  struct rusage usage {};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (wait4(pid, &status, timeout_s > 0 ? WNOHANG : 0, &usage) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      wait4(pid, &status, 0, &usage);
      break;
    }
    usleep(20000);
  }
  r.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(dir + "/out");
  r.err = slurp(dir + "/err");
  return r;
}

// Every record of every report file in `dir`; fails the test on a line that
// is not one complete record of the contract (smwatch/record.h, strictly: a
// field the shim writes and the contract lacks, or of another type, fails).
std::vector<json> records(const std::string& dir, size_t* files = nullptr) {
  std::vector<json> out;
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++n;
    // smwatch-<pid>-<start, ms since the epoch: 13 digits until 2286>.jsonl
    EXPECT_TRUE(std::regex_match(entry.path().filename().string(), std::regex(R"(smwatch-[0-9]+-[0-9]{13}\.jsonl)")))
        << entry.path();
    std::ifstream in(entry.path());
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      record::Decoded decoded = record::decode(line, record::Strictness::kStrict);
      EXPECT_TRUE(decoded.record) << entry.path() << ": " << decoded.error << ": " << line;
      // The header, when there is one (a file size limit may leave it out), comes first.
      if (auto* p = decoded.record ? std::get_if<record::Process>(&*decoded.record) : nullptr) {
        EXPECT_EQ(line_no, 1u) << entry.path() << ": the header comes first";
        EXPECT_EQ(p->format, record::kFormatVersion);
      }
      json j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
  }
  if (files) *files = n;
  return out;
}

std::vector<json> of_type(const std::vector<json>& all, const std::string& type) {
  std::vector<json> out;
  for (const auto& r : all)
    if (r["type"] == type) out.push_back(r);
  return out;
}

const std::string kPrograms[] = {DRIVER_DIRECT, DRIVER_RUNTIME_STYLE};

TEST(Shim, ExportsOnlyTheHookedFunctions) {
  std::string cmd = std::string("nm -D --defined-only '") + SHIM_PATH + "' | awk '{print $3}'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::set<std::string> exported;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) {
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty()) exported.insert(s);
  }
  pclose(p);
  // The hook list itself (shim/src/hooks.def: lines "SMWATCH_HOOK(name, ..."),
  // plus the two dl functions the trampolines stand in for.
  std::set<std::string> expected = {"dlsym", "dlvsym"};
  std::ifstream def(SHIM_HOOKS_DEF);
  ASSERT_TRUE(def) << SHIM_HOOKS_DEF;
  const std::string prefix = "SMWATCH_HOOK(";
  for (std::string line; std::getline(def, line);)
    if (line.rfind(prefix, 0) == 0) expected.insert(line.substr(prefix.size(), line.find(',') - prefix.size()));
  EXPECT_GE(expected.size(), 2u + 20u);  // the list was read
  EXPECT_EQ(exported, expected);
}

TEST(Shim, NeedsNothingButLibc) {
  if (SMWATCH_SANITIZED) GTEST_SKIP() << "sanitizer builds link their runtimes";
  std::string cmd = std::string("readelf -dW '") + SHIM_PATH + "' | grep NEEDED";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  size_t n = 0;
  // ld-linux is the dynamic loader itself, present in every dynamic process.
  const std::set<std::string> allowed = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0",
                                         "ld-linux-x86-64.so.2"};
  while (fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    size_t a = line.find('['), b = line.find(']');
    ASSERT_NE(a, std::string::npos);
    std::string lib = line.substr(a + 1, b - a - 1);
    EXPECT_TRUE(allowed.count(lib)) << "libsmwatch.so needs " << lib;
    ++n;
  }
  pclose(p);
  EXPECT_GE(n, 1u);
}

TEST(Shim, ResultsAreUnchanged) {
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("unchanged");
    Outcome plain = run(program, {});
    Outcome watched = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"SMWATCH_TARGETS", "sm_120,sm_70"}});
    EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
    EXPECT_EQ(watched.exit_code, plain.exit_code);
    EXPECT_EQ(watched.out, plain.out) << program;
    // The programs saw the failures the driver reports, shim or not.
    EXPECT_NE(plain.out.find("cuLibraryGetKernel(sm80) rc=209"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("cuModuleGetFunction(multi) rc=0"), std::string::npos);
    EXPECT_EQ(plain.err, "");
  }
}

TEST(Shim, LaunchVariantsReachTheSameDriverEntryPoints) {
  // The runtime-style program asks for per-thread-stream launches: the shim's
  // wrapper must call cuLaunchKernel_ptsz, not the legacy-stream function.
  Outcome plain = run(DRIVER_RUNTIME_STYLE, {});
  Outcome watched = run(DRIVER_RUNTIME_STYLE, {{"LD_PRELOAD", SHIM_PATH}});
  EXPECT_NE(plain.out.find("plain=0 ptsz=1000"), std::string::npos) << plain.out;
  EXPECT_NE(watched.out.find("plain=0 ptsz=1000"), std::string::npos) << watched.out;
  Outcome direct = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}});
  EXPECT_NE(direct.out.find("plain=1000 ptsz=0"), std::string::npos) << direct.out;
}

TEST(Shim, AttributesEveryFailureToItsFileAndKernel) {
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("attributed");
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"FAKE_CUDA_CC", "90"}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // One line per failing call, with the kernel, the file, what it has, the GPU and a fix.
    const std::string so_line = "CUDA_ERROR_NO_BINARY_FOR_GPU (209) from cuLibraryGetKernel: kernel "
                                "scale_by_two(float*, int) in " + fixture("sm80.so") + " [has sm_80]; GPU is sm_90";
    EXPECT_NE(r.err.find(so_line), std::string::npos) << program << "\n" << r.err;
    EXPECT_NE(r.err.find("from cuModuleGetFunction: kernel scale_by_two(float*, int) in " + fixture("sm80.cubin")),
              std::string::npos) << r.err;
    EXPECT_NE(r.err.find("<memory, loaded by " + program + ">"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("fix: install a build made with CUDA 11.8 or newer that includes sm_90"), std::string::npos);
    EXPECT_EQ(r.err.find("no_such_kernel"), std::string::npos) << "NOT_FOUND is not a missing image";

    auto all = records(dir);
    std::vector<json> failures;
    size_t other_failures = 0;
    for (const auto& f : of_type(all, "failure")) {
      if (f["error"] == 209) failures.push_back(f);
      else if (f["call"] == "cuLaunchKernel" && f["error_name"] == "CUDA_ERROR_INVALID_HANDLE") ++other_failures;
    }
    ASSERT_EQ(failures.size(), 4u) << r.err;  // heap fatbin, in-object, wrapper, cubin file
    EXPECT_EQ(other_failures, 1u);             // the launch of a null function
    std::set<std::string> sources;
    for (const auto& f : failures) {
      EXPECT_EQ(f["error"], 209);
      EXPECT_EQ(f["error_name"], "CUDA_ERROR_NO_BINARY_FOR_GPU");
      EXPECT_EQ(f["kernel"], "scale_by_two(float*, int)");
      EXPECT_EQ(f["mangled"], "_Z12scale_by_twoPfi");
      EXPECT_EQ(f["archs"], "sm_80");
      EXPECT_EQ(f["gpu_arch"], "sm_90");
      sources.insert(f["source"].get<std::string>());
    }
    EXPECT_TRUE(sources.count(fixture("sm80.so")));
    EXPECT_TRUE(sources.count(fixture("sm80.cubin")));
    auto process = of_type(all, "process");
    ASSERT_EQ(process.size(), 1u);
    EXPECT_EQ(process[0]["exe"], program);
    auto gpu = of_type(all, "gpu");
    ASSERT_EQ(gpu.size(), 1u);
    EXPECT_EQ(gpu[0]["arch"], "sm_90");
    auto modules = of_type(all, "module");
    EXPECT_EQ(modules.size(), 5u);
    for (const auto& m : modules) {
      std::string archs = m["archs"];
      EXPECT_EQ(m["verdicts"]["sm_90"], archs == "sm_80" ? "FAIL" : "OK") << m.dump();
    }
    auto exit = of_type(all, "exit");
    ASSERT_EQ(exit.size(), 1u);
    EXPECT_EQ(exit[0]["failures"], 5);
    EXPECT_EQ(exit[0]["launches"], 1000 + 3);
  }
}

TEST(Shim, WhatIfTargetsListTheKernelsUsedWithoutCode) {
  std::string dir = fresh_dir("whatif");
  Outcome r = run(DRIVER_RUNTIME_STYLE, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir},
                                     {"SMWATCH_TARGETS", "sm_120,sm_70,sm_80"}},
                  {"--multi-so", fixture("multi.so")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("launch(in-object multi) rc=0"), std::string::npos) << r.out;
  auto all = records(dir);
  auto missing = of_type(all, "missing");
  // The kernel registered from multi.so's .nv_fatbin (sm_75, sm_80, sm_90 +
  // compute_90 PTX, sm_100a) runs everywhere: sm_120 JITs the PTX, sm_80 has
  // SASS, only sm_70 has nothing.
  ASSERT_EQ(missing.size(), 1u) << r.err;
  EXPECT_EQ(missing[0]["target"], "sm_70");
  EXPECT_EQ(missing[0]["kernel"], "scale_by_two(float*, int)");
  EXPECT_EQ(missing[0]["source"], fixture("multi.so"));
  // The same code copied to the heap and loaded from there was chosen at run
  // time: never "missing" from the shim, recorded for smwatch report instead.
  auto runtime = of_type(all, "runtime_kernel");
  ASSERT_EQ(runtime.size(), 1u) << r.err;
  EXPECT_EQ(runtime[0]["kernel"], "scale_by_two(float*, int)");
  EXPECT_EQ(runtime[0]["caller"], DRIVER_RUNTIME_STYLE);
  auto modules = of_type(all, "module");
  size_t registered = 0;
  for (const auto& m : modules) {
    if (m["origin"] == "file") {
      ++registered;
      EXPECT_TRUE(m["verdicts"].contains("sm_120")) << m.dump();
      if (m["archs"] == "sm_80") {
        EXPECT_EQ(m["verdicts"]["sm_120"], "FAIL");
      }
    } else {
      EXPECT_EQ(m["origin"], "runtime") << m.dump();
      EXPECT_FALSE(m["verdicts"].contains("sm_120")) << m.dump();
      EXPECT_TRUE(m["verdicts"].contains("sm_90")) << m.dump();
    }
  }
  EXPECT_EQ(registered, 3u);  // sm80.so (twice: directly and through the wrapper) and multi.so
  auto exit = of_type(all, "exit");
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_EQ(exit[0]["missing"]["sm_70"], 1);
  EXPECT_EQ(exit[0]["missing"]["sm_120"], 0);
  EXPECT_NE(r.err.find("what-if sm_70: 1 of the kernels used lack code"), std::string::npos) << r.err;
}

// Issue 20: NCCL 2.28 looks up its sm_100f-only fp8 kernels on an H100, gets
// 209 and goes on. A 209 from a look-up of a kernel built only for other GPUs,
// in a library that has code for this GPU, is a look-up the library handles;
// the same in a library with nothing for the GPU, and a failed launch, stay
// failures. The shim also summarises each library's whole device code.
TEST(Shim, LookupOfAKernelBuiltForOtherGpusIsHandledWhereTheLibraryServesTheGpu) {
  const std::string mixed = fixture("other_gpus_mixed.so"), only = fixture("other_gpus_only.so");
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("other-gpus");
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"FAKE_CUDA_CC", "90"}},
                    {"--other-gpus-so", mixed, "--other-gpus-only-so", only});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The stand-in driver answers both look-ups as the real one does.
    EXPECT_NE(r.out.find("--other-gpus-so: cuLibraryGetKernel(fp8_only_on_blackwell) rc=209"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--other-gpus-only-so: cuLibraryGetKernel(fp8_only_on_blackwell) rc=209"), std::string::npos);
    auto all = records(dir);
    std::map<std::string, json> lookups;  // source -> its failure record
    size_t launch_failures = 0;
    for (const auto& f : of_type(all, "failure")) {
      if (f["kernel"] == "fp8_only_on_blackwell(float*)") lookups[f["source"]] = f;
      if (f["call"] == "cuLaunchKernel") {
        ++launch_failures;
        EXPECT_FALSE(f.contains("built_for_other_gpus")) << "a failed launch stays a failure: " << f.dump();
      }
    }
    ASSERT_EQ(lookups.size(), 2u) << r.err;
    EXPECT_EQ(lookups[mixed]["built_for_other_gpus"], true) << lookups[mixed].dump();
    EXPECT_EQ(lookups[mixed]["fix"], "");
    EXPECT_FALSE(lookups[only].contains("built_for_other_gpus")) << lookups[only].dump();
    EXPECT_NE(lookups[only]["fix"], "");
    EXPECT_EQ(launch_failures, 1u);
    // On stderr (default level), only the failure.
    EXPECT_NE(r.err.find("from cuLibraryGetKernel: kernel fp8_only_on_blackwell(float*) in " + only), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("in " + mixed), std::string::npos) << r.err;
    auto exit = of_type(all, "exit");
    ASSERT_EQ(exit.size(), 1u);
    EXPECT_EQ(exit[0]["handled_lookups"], 1);
    EXPECT_EQ(exit[0]["failures"], 5 + 1);  // the run's usual 5, and the look-up in the library with nothing for sm_90
    // One `library` record per loaded object with registered code: the whole
    // .nv_fatbin, judged for the GPU.
    std::map<std::string, json> libraries;
    for (const auto& l : of_type(all, "library")) {
      EXPECT_FALSE(libraries.count(l["path"])) << "once per object: " << l.dump();
      libraries[l["path"]] = l;
    }
    // (nvcc links cudart_static, whose own small sm_75 fatbin is in every object.)
    ASSERT_TRUE(libraries.count(mixed)) << r.err;
    EXPECT_EQ(libraries[mixed]["fatbins"], 3);
    EXPECT_EQ(libraries[mixed]["archs"], "sm_75(1) sm_90(1) sm_100a(1)");
    EXPECT_NE(libraries[mixed]["verdicts"]["sm_90"], "FAIL");
    ASSERT_TRUE(libraries.count(only));
    EXPECT_EQ(libraries[only]["fatbins"], 2);
    EXPECT_EQ(libraries[only]["verdicts"]["sm_90"], "FAIL");
    EXPECT_TRUE(libraries.count(fixture("sm80.so")));
    EXPECT_EQ(libraries[fixture("sm80.so")]["verdicts"]["sm_90"], "FAIL");
  }
}

TEST(Shim, EagerLoadingFailsAtLoadAndIsAttributed) {
  std::string dir = fresh_dir("eager");
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"CUDA_MODULE_LOADING", "EAGER"}});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("cuLibraryLoadData(heap sm80) rc=209"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("(209) from cuLibraryLoadData in <memory"), std::string::npos) << r.err;
}

TEST(Shim, ForkedChildWritesItsOwnReport) {
  std::string dir = fresh_dir("fork");
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--fork", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("child load rc=0 launch failures=0"), std::string::npos) << r.out;
  size_t files = 0;
  auto all = records(dir, &files);
  EXPECT_EQ(files, 2u);
  auto processes = of_type(all, "process");
  ASSERT_EQ(processes.size(), 2u);
  int parent = -1, child = -1;
  for (const auto& p : processes) {
    for (const auto& other : processes)
      if (p["ppid"] == other["pid"]) {
        child = p["pid"];
        parent = other["pid"];
      }
  }
  EXPECT_GT(child, 0) << "no report names the parent as ppid";
  std::map<int, int> launches;
  for (const auto& e : of_type(all, "exit")) launches[e["pid"].get<int>()] = e["launches"];
  EXPECT_EQ(launches[child], 10);
  EXPECT_EQ(launches[parent], 1000 + 3);
}

TEST(Shim, ManyThreadsLaunchingAtOnce) {
  std::string dir = fresh_dir("threads");
  Outcome r = run(DRIVER_RUNTIME_STYLE, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}},
              {"--threads", "8", "--launches", "20000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cuLaunchKernel x20000 on 8 threads: 0 failed"), std::string::npos);
  auto exit = of_type(records(dir), "exit");
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_EQ(exit[0]["launches"], 8 * 20000 + 3);
}

TEST(Shim, RecordsSurviveACrash) {
  for (const char* how : {"segv", "abort", "kill"}) {
    std::string dir = fresh_dir(std::string("crash-") + how);
    Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--crash", how});
    // (Under a sanitizer its runtime catches SIGSEGV and exits with an error code instead.)
    EXPECT_TRUE(r.signal != 0 || (SMWATCH_SANITIZED && r.exit_code != 0)) << how;
    auto all = records(dir);  // every line parses
    EXPECT_EQ(of_type(all, "failure").size(), 5u) << how;
    EXPECT_EQ(of_type(all, "exit").size(), 0u) << how;  // no exit record after a crash, nothing half-written
  }
}

TEST(Shim, UnusableReportDirectoriesWarnOnceAndChangeNothing) {
  Outcome plain = run(DRIVER_DIRECT, {});
  std::string base = fresh_dir("baddirs");
  std::string target = base + "/real";
  fs::create_directories(target);
  fs::create_directory_symlink(target, base + "/link");
  std::string file = base + "/a_file";
  std::ofstream(file) << "x";
  std::string open_dir = base + "/world_writable";
  fs::create_directories(open_dir);
  chmod(open_dir.c_str(), 0777);
  for (const std::string& dir : {base + "/link", file, open_dir, std::string("/proc/version/sub")}) {
    Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}});
    EXPECT_EQ(r.exit_code, 0) << dir;
    EXPECT_EQ(r.out, plain.out) << dir;
    size_t warnings = 0;
    for (size_t at = r.err.find("report directory"); at != std::string::npos; at = r.err.find("report directory", at + 1))
      ++warnings;
    EXPECT_EQ(warnings, 1u) << dir << "\n" << r.err;
  }
  EXPECT_TRUE(fs::is_empty(target)) << "the shim followed a symbolic link";
  // A missing directory is created (mode 0700) and used.
  std::string missing = base + "/created";
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", missing}});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(records(missing).empty());
  struct stat st {};
  stat(missing.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(Shim, OffSwitchAndLogLevels) {
  std::string dir = fresh_dir("off");
  Outcome off = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"SMWATCH_DISABLE", "1"}});
  EXPECT_EQ(off.err, "");
  EXPECT_TRUE(fs::is_empty(dir));
  Outcome quiet = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_LOG", "quiet"}});
  EXPECT_EQ(quiet.err, "");
  Outcome plain = run(DRIVER_DIRECT, {});
  EXPECT_EQ(off.out, plain.out);
}

// Issue 2: a damaged image that ends right before a PROT_NONE page. The
// shim used to take mincore's word that the guard page was readable, and
// crashed the host with SIGSEGV; its reads now go through a probe that
// the kernel answers (process_vm_readv).
TEST(Shim, ImageAgainstAGuardPageLeavesTheHostAlive) {
  const std::vector<std::string> args = {"--fixtures", SMWATCH_FIXTURE_DIR, "--mode", "guard"};
  Outcome plain = run(HOSTILE_IMAGES, {}, args);
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  ASSERT_NE(plain.out.find("survived"), std::string::npos);
  std::string dir = fresh_dir("guard");
  Outcome watched = run(HOSTILE_IMAGES, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir},
                                         {"SMWATCH_TARGETS", "sm_120,sm_70"}, {"SMWATCH_LOG", "quiet"}}, args);
  ASSERT_EQ(watched.signal, 0) << "the host died; its last line: "
                               << watched.out.substr(watched.out.rfind('\n', watched.out.size() - 2) + 1);
  EXPECT_EQ(watched.exit_code, 0);
  EXPECT_TRUE(watched.out == plain.out);  // every driver result reached the program unchanged
  auto modules = of_type(records(dir), "module");
  size_t loads = 0, short_images = 0;
  for (size_t at = plain.out.find("load rc="); at != std::string::npos; at = plain.out.find("load rc=", at + 1)) ++loads;
  EXPECT_EQ(modules.size(), loads);
  for (const auto& m : modules)
    for (const auto& problem : m["problems"])
      short_images += problem.get<std::string>().find("past readable memory") != std::string::npos;
  EXPECT_GT(short_images, 0u) << "no image was cut short at its guard page";
}

// Thousands of damaged images (truncated, bytes flipped, size fields made
// larger), placed before guard pages, unmapped memory or zeros, through
// every loading entry point: the host never crashes with the shim (each
// crash is counted, in a forked child) and gets the same driver results.
TEST(Shim, HostileImagesNeverCrashTheHost) {
  const std::string count = SMWATCH_SANITIZED ? "3000" : "10000";
  const std::vector<std::string> args = {"--fixtures", SMWATCH_FIXTURE_DIR, "--count", count, "--seed", "7"};
  Outcome plain = run(HOSTILE_IMAGES, {}, args);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_NE(plain.out.find("images=" + count + " crashed=0"), std::string::npos) << plain.out;
  std::string dir = fresh_dir("hostile");
  Outcome watched = run(HOSTILE_IMAGES, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir},
                                         {"SMWATCH_TARGETS", "sm_120,sm_70"}, {"SMWATCH_LOG", "quiet"}}, args);
  EXPECT_EQ(watched.exit_code, 0) << watched.err;
  EXPECT_NE(watched.out.find("images=" + count + " crashed=0"), std::string::npos) << watched.out;
  EXPECT_EQ(watched.out, plain.out);  // the same driver result for every image
  std::cout << watched.out;
  EXPECT_EQ(of_type(records(dir), "module").size(), std::stoul(count));
}

// Issue 3: a report that cannot grow (a file size limit, a full disk). Each
// record is written whole or not at all, and the exit record still ends the
// file, counting what was left out.
size_t count_records(const std::string& dir) { return records(dir).size(); }

TEST(Shim, FileSizeLimitKeepsWholeRecordsAndTheExitRecord) {
  std::string full_dir = fresh_dir("fsize-unlimited");
  Outcome full = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", full_dir}});
  ASSERT_EQ(full.exit_code, 0);
  const size_t all = count_records(full_dir);
  ASSERT_GT(all, 10u);
  Outcome plain = run(DRIVER_DIRECT, {});
  // SIGXFSZ ignored: writes past the limit fail with EFBIG. Limits from
  // nothing to enough for everything.
  for (int limit = 0; limit <= 4500; limit += 150) {
    std::string dir = fresh_dir("fsize-" + std::to_string(limit));
    Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}},
                    {"--fsize", std::to_string(limit), "--xfsz", "ignore"});
    EXPECT_EQ(r.signal, 0) << limit;
    EXPECT_EQ(r.exit_code, 0) << limit;
    auto got = records(dir);  // every line parses
    auto exit = of_type(got, "exit");
    if (limit < 300) continue;  // not even the exit record fits
    ASSERT_EQ(exit.size(), 1u) << "limit " << limit << ": no exit record";
    EXPECT_EQ(got.back()["type"], "exit") << limit;
    EXPECT_EQ(got.size() - 1 + exit[0]["dropped_records"].get<size_t>(), all - 1) << limit;
    EXPECT_EQ(exit[0]["failures"], 5);
  }
  // SIGXFSZ left at its default (it kills): the shim never starts a write at
  // the limit, so the program lives and sees what it saw without the shim.
  for (int limit = 2500; limit <= 4500; limit += 250) {
    std::string dir = fresh_dir("fsize-default-" + std::to_string(limit));
    Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}},
                    {"--fsize", std::to_string(limit), "--xfsz", "default"});
    EXPECT_EQ(r.signal, 0) << "limit " << limit << ": killed by signal " << r.signal;
    EXPECT_EQ(r.exit_code, 0) << limit;
    EXPECT_EQ(r.out, plain.out) << limit;
    auto got = records(dir);
    EXPECT_EQ(of_type(got, "exit").size(), 1u) << limit;
    EXPECT_LT(got.size(), all) << limit;
  }
}

TEST(Shim, FullDiskKeepsWholeRecordsAndTheExitRecord) {
  // A 8 KiB tmpfs, mounted in a user namespace of our own (no privileges).
  const char* unshare = "/usr/bin/unshare";
  if (!fs::exists(unshare) || system("/usr/bin/unshare -Urm true 2>/dev/null") != 0)
    GTEST_SKIP() << "unprivileged user namespaces are not available here";
  std::string base = fresh_dir("fulldisk");
  fs::create_directories(base + "/mnt");
  fs::create_directories(base + "/copy");
  const std::string script =
      "mount -t tmpfs -o size=8k none \"$0\" || exit 99; "
      "env LD_PRELOAD=" + std::string(SHIM_PATH) + " SMWATCH_REPORT=\"$0/r\" \"$@\"; rc=$?; "
      "cp \"$0\"/r/* " + base + "/copy/; exit $rc";
  Outcome r = run_argv({unshare, "-Urm", "/bin/sh", "-c", script, base + "/mnt", DRIVER_DIRECT, "--fatbin80",
                        fixture("sm80.fatbin"), "--multi", fixture("multi_none.fatbin"), "--so80", fixture("sm80.so"),
                        "--cubin80", fixture("sm80.cubin"), "--distinct-bad-lookups", "100"},
                       {});
  if (r.exit_code == 99) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("is full (No space left on device)"), std::string::npos) << r.err;
  auto got = records(base + "/copy");  // every line parses
  auto exit = of_type(got, "exit");
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_EQ(got.back()["type"], "exit");
  EXPECT_GT(exit[0]["dropped_records"].get<size_t>(), 0u);
  EXPECT_EQ(exit[0]["failures"], 5 + 100);
}

// Issue 10: failing look-ups, repeated or all different, cost one record
// and one stderr line per (module, name, error), up to a bound; the rest
// are counted in the exit record.
TEST(Shim, RepeatedLookupFailuresAreReportedOnce) {
  const int n = SMWATCH_SANITIZED ? 3000 : 20000;
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("repeats");
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}},
                    {"--bad-lookups", std::to_string(n), "--launches", "10"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("failed look-ups: " + std::to_string(2 * n)), std::string::npos) << r.out;
    auto all = records(dir);
    auto failures = of_type(all, "failure");
    // The run's usual 5, and the new name once; the sm_80 kernel's look-up
    // in the heap library failed the same way before.
    EXPECT_EQ(failures.size(), 6u);
    size_t same = 0;
    for (const auto& f : failures) same += f["kernel"] == "fake_fail_300_same";
    EXPECT_EQ(same, 1u);
    size_t lines = 0;
    for (size_t at = r.err.find("fake_fail_300_same"); at != std::string::npos; at = r.err.find("fake_fail_300_same", at + 1))
      ++lines;
    EXPECT_EQ(lines, 1u);
    EXPECT_LT(r.err.size(), 4096u);
    auto exit = of_type(all, "exit");
    ASSERT_EQ(exit.size(), 1u);
    EXPECT_EQ(exit[0]["failures"], 6);
    EXPECT_EQ(exit[0]["repeated_failures"], 2 * n - 1);
    EXPECT_EQ(exit[0]["unreported_failures"], 0);
    EXPECT_NE(r.err.find("6 failures (and " + std::to_string(2 * n - 1) + " repeats not shown)"), std::string::npos)
        << r.err;
  }
}

TEST(Shim, DifferentLookupFailuresAreBounded) {
  std::string dir = fresh_dir("distinct");
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"SMWATCH_LOG", "quiet"}},
                  {"--distinct-bad-lookups", "3000", "--launches", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto all = records(dir);
  // 1024 different failing look-ups (the run's usual 4, then 1020 of the
  // new names) and the run's one failing launch.
  EXPECT_EQ(of_type(all, "failure").size(), 1024u + 1u);
  auto exit = of_type(all, "exit");
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_EQ(exit[0]["unreported_failures"], 4 + 3000 - 1024);
}

// Issue 7: names from outside (a module's path, a kernel name) reach stderr
// escaped, one line per message: no ESC, BEL or line break of theirs.
TEST(Shim, OutsideTextOnStderrIsEscaped) {
  std::string base = fresh_dir("odd-names");
  const std::string odd = base + "/odd\x1b[31m\nsmwatch: forged line.cubin";
  fs::copy_file(fixture("sm80.cubin"), odd);
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("odd-report");
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--odd-cubin", odd});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("cuModuleGetFunction(odd path) rc=209"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("cuModuleGetFunction(odd name) rc=300"), std::string::npos) << r.out;
    for (char c : r.err) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << int(c);
    std::istringstream lines(r.err);
    std::string line;
    size_t path_lines = 0, name_lines = 0;
    while (std::getline(lines, line)) {
      EXPECT_EQ(line.rfind("smwatch: ", 0), 0u) << line;
      if (line.find("forged") == std::string::npos) continue;
      // The forged text sits inside the message that carries it, escaped.
      EXPECT_NE(line.find("from cuModuleGetFunction"), std::string::npos) << line;
      if (line.find("in " + base + "/odd\\x1b[31m\\x0asmwatch: forged line.cubin [has sm_80]") != std::string::npos)
        ++path_lines;
      if (line.find("kernel fake_fail_300_\\x1b]0;title\\x07\\x1b[31mred\\x0asmwatch: forged line in ") !=
          std::string::npos)
        ++name_lines;
    }
    EXPECT_EQ(path_lines, 2u) << r.err;  // the kernel without code, and the odd name, in the odd file
    EXPECT_EQ(name_lines, 1u) << r.err;
    // The report keeps the exact text (JSON escapes it).
    size_t exact = 0;
    for (const auto& f : of_type(records(dir), "failure")) exact += f["source"] == odd;
    EXPECT_EQ(exact, 2u);
  }
}

TEST(Shim, HarmlessWithoutADriver) {
  // No libcuda at all: a program that only tries to dlopen it goes on as before.
  Outcome r = run("/bin/sh", {{"LD_PRELOAD", SHIM_PATH}, {"LD_LIBRARY_PATH", "/nonexistent"}}, {});
  (void)r;  // /bin/sh with the fixture arguments fails the same way with or without the shim
  Outcome plain = run("/bin/sh", {{"LD_LIBRARY_PATH", "/nonexistent"}}, {});
  EXPECT_EQ(r.exit_code, plain.exit_code);
  EXPECT_EQ(r.err, plain.err);
}

// Issue 24, item 1: the shim never touches a descriptor that is not its own.
// After its first records the program closes every descriptor above 2 and
// opens a data file of its own (which gets the number the report had), or
// dup2s its file over the report's descriptor. Before, the shim appended
// module, failure and exit records (with the command line) to that file.
TEST(Shim, NeverWritesIntoTheHostsFiles) {
  for (const auto& program : kPrograms)
    for (const char* how : {"closefrom", "dup2"}) {
      std::string dir = fresh_dir(std::string("steal-") + how);
      const std::string host_file = fresh_dir(std::string("host-") + how) + "/data";
      Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}},
                      {"--steal-report", how, "--host-file", host_file});
      ASSERT_EQ(r.exit_code, 0) << how << r.err;
      EXPECT_NE(r.out.find(std::string("steal-report ") + how), std::string::npos) << r.out;
      EXPECT_EQ(slurp(host_file), "the host's own data\n") << program << " " << how;
      // The report goes on: every record is there, the exit record last.
      auto all = records(dir);
      ASSERT_FALSE(all.empty());
      EXPECT_EQ(all.back()["type"], "exit") << how;
      EXPECT_EQ(all.back()["failures"], 5) << how;
      EXPECT_EQ(of_type(all, "failure").size(), 5u) << how;
    }
}

// Item 1, at fork: the atfork child handler closed the report's number,
// which by then was the program's (here the write end of a pipe).
TEST(Shim, ForkLeavesTheHostsDescriptorsAlone) {
  Outcome plain = run(DRIVER_DIRECT, {}, {"--fork-pipe", "1"});
  ASSERT_NE(plain.out.find("fork-pipe: child exit=0, parent read \"ping\""), std::string::npos) << plain.out;
  std::string dir = fresh_dir("fork-pipe");
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--fork-pipe", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, plain.out);
  EXPECT_EQ(of_type(records(dir), "exit").size(), 1u);
}

// Item 2: thread A loads modules while thread B dlopens a library whose
// constructor loads one. B holds the loader's lock and waits for the
// tracker's; A must never wait for the loader's lock while holding the
// tracker's (dladdr, dl_iterate_phdr, dlsym). Before, this hung in the
// first rounds; the time limit turns a hang into a failure.
TEST(ShimThreads, LoadsWhileALibraryConstructorLoadsNeverDeadlock) {
  const std::vector<std::string> args = {"--dlopen-race", SMWATCH_SANITIZED ? "100" : "400", "--ctor-lib", CTOR_LOADER,
                                         "--launches", "1"};
  Outcome plain = run(DRIVER_DIRECT, {}, args, 120);
  ASSERT_FALSE(plain.timed_out);
  ASSERT_NE(plain.out.find("dlopen-race: " + args[1] + " of " + args[1] + " dlopens, loads done"), std::string::npos)
      << plain.out << plain.err;
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("dlopen-race");
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"SMWATCH_TARGETS", "sm_120"}}, args,
                    120);
    ASSERT_FALSE(r.timed_out) << program << ": deadlocked (killed after 120 s)";
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("dlopen-race: " + args[1] + " of " + args[1] + " dlopens, loads done"), std::string::npos);
    size_t from_constructor = 0;
    for (const auto& m : of_type(records(dir), "module")) from_constructor += m["source"] == CTOR_LOADER;
    EXPECT_EQ(from_constructor, std::stoul(args[1]));
  }
}

// Item 4: cuModuleLoad(path). The file was mapped, and a cut by another
// process (here another thread) killed the host with SIGBUS; it is now read
// with pread. A FIFO the driver has drained blocked the shim's open()
// forever; only regular files are opened now, with O_NONBLOCK.
TEST(Shim, ModuleFileCutWhileReadIsNoSignal) {
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("cut");
    const std::string copy = fresh_dir("cut-file") + "/copy.cubin";
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}, {"SMWATCH_LOG", "quiet"}},
                    {"--truncate-race", SMWATCH_SANITIZED ? "2" : "3", "--copy", copy, "--launches", "1"});
    EXPECT_EQ(r.signal, 0) << program << ": the host died of signal " << r.signal;
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("truncate-race: the program lived through its cuModuleLoad calls"), std::string::npos)
        << r.out;
    records(dir);  // every line parses
  }
}

TEST(Shim, ModuleFromAFifoNeverBlocks) {
  const std::string fifo = fresh_dir("fifo-plain") + "/module.fifo";
  Outcome plain = run(DRIVER_DIRECT, {}, {"--fifo", fifo, "--launches", "1"}, 60);
  ASSERT_NE(plain.out.find("cuModuleLoad(fifo) rc=0"), std::string::npos) << plain.out;
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("fifo");
    const std::string path = fresh_dir("fifo-file") + "/module.fifo";
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--fifo", path, "--launches", "1"},
                    60);
    ASSERT_FALSE(r.timed_out) << program << ": blocked (killed after 60 s)";
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("cuModuleLoad(fifo) rc=0"), std::string::npos) << r.out;
    size_t refused = 0;
    for (const auto& m : of_type(records(dir), "module"))
      for (const auto& problem : m["problems"]) refused += problem == "cannot read " + path + ": not a regular file";
    EXPECT_EQ(refused, 1u);
  }
}

// Item 5: failing launches, all of different functions, cost one record and
// one line each up to the same bound as look-ups (1,024); the rest are
// counted. Before, 200,000 of them made 200,000 lines and a 50 MB report.
TEST(Shim, DifferentLaunchFailuresAreBounded) {
  const int n = SMWATCH_SANITIZED ? 3000 : 20000;
  std::string dir = fresh_dir("distinct-launches");
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}},
                  {"--distinct-bad-launches", std::to_string(n), "--launches", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_NE(r.out.find("failed launches: " + std::to_string(n)), std::string::npos) << r.out;
  auto all = records(dir);
  size_t launch_failures = 0;
  for (const auto& f : of_type(all, "failure")) launch_failures += f["call"] == "cuLaunchKernel";
  EXPECT_EQ(launch_failures, 1024u);
  auto exit = of_type(all, "exit");
  ASSERT_EQ(exit.size(), 1u);
  // The n different handles and the run's launch of a null function, past the first 1,024.
  EXPECT_EQ(exit[0]["unreported_failures"], n + 1 - 1024);
  EXPECT_EQ(exit[0]["failures"], 4 + 1024);
  size_t lines = 0;
  for (size_t at = r.err.find("from cuLaunchKernel"); at != std::string::npos; at = r.err.find("from cuLaunchKernel", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1024u);
  EXPECT_NE(r.err.find("more than 1024 different failing launches"), std::string::npos);
}

// Item 20: a forked child starts a report of its own - every count and the
// set of failures reported (tracker_fork's one list). Before, the failing
// launch the parent had reported was never reported by the child.
TEST(Shim, ForkedChildReportsItsOwnFailures) {
  std::string dir = fresh_dir("fork-repeats");
  Outcome r = run(DRIVER_DIRECT, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--fork", "1", "--fork-repeats", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("parent failed 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("child failed 2"), std::string::npos) << r.out;
  auto all = records(dir);
  std::map<int, int> parent_of;
  for (const auto& p : of_type(all, "process")) parent_of[p["pid"].get<int>()] = p["ppid"].get<int>();
  ASSERT_EQ(parent_of.size(), 2u);
  int child = -1;
  for (const auto& [pid, ppid] : parent_of)
    if (parent_of.count(ppid)) child = pid;
  ASSERT_GT(child, 0);
  std::set<std::string> child_failures;
  for (const auto& f : of_type(all, "failure"))
    if (f["pid"] == child) child_failures.insert(f["call"].get<std::string>() + " " + f["error_name"].get<std::string>());
  EXPECT_EQ(child_failures, (std::set<std::string>{"cuModuleGetFunction CUDA_ERROR_UNKNOWN_CODE",
                                                    "cuLaunchKernel CUDA_ERROR_INVALID_HANDLE"}));
  size_t child_gpu = 0;
  for (const auto& g : of_type(all, "gpu")) child_gpu += g["pid"] == child;
  EXPECT_EQ(child_gpu, 1u);
  for (const auto& e : of_type(all, "exit")) {
    if (e["pid"] != child) continue;
    EXPECT_EQ(e["failures"], 2);
    EXPECT_EQ(e["modules"], 1);
    EXPECT_EQ(e["repeated_failures"], 0);
    EXPECT_EQ(e["unreported_failures"], 0);
    EXPECT_EQ(e["launches"], 10 + 1);
  }
}

// Item 3: a cubin of about 630 KB with 20,000 kernel symbols that all name
// one 150 KB string, loaded by path. Every name was copied, by the shim and
// by the stand-in driver (which reads cubins with the same code): the host
// peaked at 6 GB. Memory now follows the file: within 32x the file of what
// the host takes without it, and without the shim.
TEST(Shim, KernelNamesCostMemoryLikeTheFile) {
  const std::string bomb = fresh_dir("name-bomb") + "/bomb.cubin";
  ASSERT_EQ(std::system(("python3 '" MAKE_NAME_BOMB "' '" + bomb + "' 20000 150000 same").c_str()), 0);
  const long file_kb = static_cast<long>(fs::file_size(bomb) / 1024);
  // The reference: the program on its usual files alone, without the shim.
  Outcome plain = run(DRIVER_DIRECT, {}, {"--launches", "1"});
  ASSERT_EQ(plain.exit_code, 0);
  for (const auto& program : kPrograms) {
    std::string dir = fresh_dir("name-bomb-report");
    Outcome r = run(program, {{"LD_PRELOAD", SHIM_PATH}, {"SMWATCH_REPORT", dir}}, {"--odd-cubin", bomb, "--launches", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("cuModuleLoad(odd path) rc=0"), std::string::npos) << r.out;
    if (!SMWATCH_SANITIZED)  // (a sanitizer's shadow memory says nothing about ours)
      EXPECT_LT(r.max_rss_kb - plain.max_rss_kb, 32 * file_kb)
          << "the host with the shim took " << r.max_rss_kb - plain.max_rss_kb << " KB more for a " << file_kb
          << " KB file";
    size_t bombs = 0;
    for (const auto& m : of_type(records(dir), "module")) bombs += m["source"] == bomb;
    EXPECT_EQ(bombs, 1u);
  }
}


}  // namespace
