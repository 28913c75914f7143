// Hostile trees and names (issue 7): paths with odd bytes, unreadable and
// special files, symlink loops, and a tree of 100,000 files, through the
// library and through the smscan command (run without a shell, so any byte can
// be passed), whose JSON must stay valid JSON.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::fixture;

using SmscanRun = test::CommandResult;

// smscan ARGS... (test::run_smscan: no shell); a run that had to be killed fails the test.
SmscanRun smscan(const std::vector<std::string>& args, int timeout = 60) {
  SmscanRun r = test::run_smscan(args, timeout);
  if (r.timed_out) ADD_FAILURE() << "smscan did not finish in " << timeout << " s";
  return r;
}

// The JSON document smscan printed, or a failure that shows where it broke.
json parse_json(const SmscanRun& r) {
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "smscan --json printed invalid JSON (" << e.what() << "), exit " << r.exit_code
                  << "\nstderr: " << r.err.substr(0, 2000) << "\nstdout: " << r.out.substr(0, 2000);
    return json();
  }
}

// The file's bytes as smscan's JSON gives them: "path", or "path_hex" when the
// path is not UTF-8.
std::string path_of(const json& f) {
  if (f.contains("path_hex")) {
    std::string hex = f["path_hex"], bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return bytes;
  }
  return f["path"];
}

TEST(HostileTree, OddBytesInPaths) {
  const std::string dir = test::scratch_dir("odd names");  // a space in the directory too
  const std::vector<std::string> names = {
      "new\nline.so", "bad\xff\xfeutf8.so", "sp ace.so", "-leading-dash.so", "--json", "-",
      "tab\there.so", "esc\x1b[31mred\x1b]0;title\x07.so", "quote'\"back\\slash.so", "\xe2\x82\xac-euro.so",
      "\xed\xa0\x80-surrogate.so", "\xc0\xaf-overlong.so", "trailing-space.so ", "*glob?[x].so", "$(echo x).so"};
  for (const auto& n : names) fs::copy_file(fixture("sm80.so"), dir + "/" + n);

  // The library sees every one, with its exact bytes.
  TreeScan tree = scan_paths({dir}, {}, 2);
  std::map<std::string, const FileScan*> by_path;
  for (const auto& f : tree.files) by_path[f.path] = &f;
  for (const auto& n : names) {
    ASSERT_TRUE(by_path.count(dir + "/" + n)) << n;
    EXPECT_TRUE(by_path[dir + "/" + n]->has_device_code()) << n;
  }

  // smscan --json: valid JSON that names each file exactly.
  SmscanRun r = smscan({"--json", "-t", "sm_80,sm_120", dir});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // sm_120 fails
  json doc = parse_json(r);
  ASSERT_TRUE(doc.is_object());
  std::map<std::string, json> files;
  for (const auto& f : doc["files"]) files[path_of(f)] = f;
  for (const auto& n : names) {
    ASSERT_TRUE(files.count(dir + "/" + n)) << "not in the JSON: " << n;
    EXPECT_EQ(files[dir + "/" + n]["verdicts"]["sm_80"]["verdict"], "OK") << n;
  }
  EXPECT_EQ(doc["summary"]["files_with_device_code"], names.size());

  // Each file named on the command line (after "--", so a leading dash is a name).
  for (const auto& n : names) {
    SmscanRun one = smscan({"--json", "-t", "sm_80", "--", dir + "/" + n});
    EXPECT_EQ(one.exit_code, 0) << n << ": " << one.err;
    json d = parse_json(one);
    ASSERT_TRUE(d.is_object()) << n;
    ASSERT_EQ(d["files"].size(), 1u) << n;
    EXPECT_EQ(path_of(d["files"][0]), dir + "/" + n);
  }

  // The table: one line per file; control bytes never reach the terminal raw.
  SmscanRun table = smscan({"-t", "sm_80", "--color", "never", dir});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.find('\x1b'), std::string::npos) << "an escape sequence from a file name reached stdout";
  EXPECT_EQ(table.out.find("new\nline"), std::string::npos) << "a newline from a file name split the table";
  EXPECT_NE(table.out.find("sp ace.so"), std::string::npos);
  EXPECT_NE(table.out.find("-leading-dash.so"), std::string::npos);
}

TEST(HostileTree, UnreadableAndSpecialFiles) {
  const std::string dir = test::scratch_dir("special");
  fs::copy_file(fixture("sm80.so"), dir + "/good.so");
  ASSERT_EQ(mkfifo((dir + "/fifo.so").c_str(), 0600), 0);   // would block a reader without O_NONBLOCK
  ASSERT_EQ(mkfifo((dir + "/fifo.ptx").c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", dir + "/zero.so");         // endless, not a regular file
  fs::create_symlink("/proc/self/mem", dir + "/mem.so");     // opens, but reading offset 0 fails
  fs::create_directory(dir + "/dir.so");
  std::string locked = dir + "/locked.so";
  fs::copy_file(fixture("sm80.so"), locked);
  chmod(locked.c_str(), 0);
  const bool root = geteuid() == 0;
  std::string long_name(255, 'n');
  std::string deep = dir;
  while (deep.size() < 5000) {
    deep += "/" + long_name.substr(0, 200);
    ASSERT_EQ(mkdir(deep.c_str(), 0700) == 0 || errno == ENAMETOOLONG, true) << strerror(errno);
    if (deep.size() > 3800) break;  // mkdir fails past PATH_MAX; the walk must still stop cleanly
  }

  SmscanRun r = smscan({"--json", "-t", "sm_80", dir}, 30);
  ASSERT_NE(r.exit_code, -1) << "smscan hung or crashed on special files";
  json doc = parse_json(r);
  ASSERT_TRUE(doc.is_object());
  std::map<std::string, json> files;
  for (const auto& f : doc["files"]) files[fs::path(path_of(f)).filename().string()] = f;
  ASSERT_TRUE(files.count("good.so"));
  EXPECT_EQ(files["good.so"]["verdicts"]["sm_80"]["verdict"], "OK");
  ASSERT_TRUE(files.count("mem.so"));
  EXPECT_NE(files["mem.so"].value("error", "").find("cannot read"), std::string::npos) << files["mem.so"];
  EXPECT_EQ(r.exit_code, 2) << "an unreadable file makes the prediction incomplete";
  if (!root) {
    ASSERT_TRUE(files.count("locked.so"));
    EXPECT_NE(files["locked.so"].value("error", "").find("Permission denied"), std::string::npos);
  }
  // FIFOs, devices and directories inside a tree are not files to scan.
  EXPECT_FALSE(files.count("fifo.so"));
  EXPECT_FALSE(files.count("zero.so"));

  // Named by the user, each gets a reason, and smscan still exits.
  for (const char* name : {"fifo.so", "fifo.ptx", "zero.so"}) {
    SmscanRun one = smscan({"--json", "-t", "sm_80", dir + "/" + name}, 10);
    EXPECT_EQ(one.exit_code, 2) << name << ": " << one.err;
    json d = parse_json(one);
    ASSERT_TRUE(d.is_object()) << name;
    ASSERT_EQ(d["files"].size(), 1u) << name;
    EXPECT_NE(d["files"][0].value("error", ""), "") << name;
  }
  SmscanRun missing = smscan({"-t", "sm_80", dir + "/does-not-exist.so"}, 10);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("does-not-exist.so"), std::string::npos) << missing.err;
}

TEST(HostileTree, SymlinkLoops) {
  const std::string dir = test::scratch_dir("loops");
  fs::copy_file(fixture("sm80.so"), dir + "/real.so");
  fs::create_symlink("self", dir + "/self");                   // a -> a
  fs::create_directories(dir + "/a/b/c");
  fs::create_directory_symlink("../../..", dir + "/a/b/c/up");  // back to the top, from deep down
  fs::create_directory_symlink(dir + "/a", dir + "/a/b/again");
  // A chain of 60 links to a real file: longer than the kernel follows (40).
  std::string prev = "real.so";
  for (int i = 0; i < 60; ++i) {
    std::string name = "chain" + std::to_string(i);
    fs::create_symlink(prev, dir + "/" + name);
    prev = name;
  }
  SmscanRun r = smscan({"--json", "-t", "sm_80", dir, dir + "/self", dir + "/a/b/c/up"}, 30);
  ASSERT_NE(r.exit_code, -1);
  json doc = parse_json(r);
  ASSERT_TRUE(doc.is_object());
  size_t real = 0, loops = 0;
  for (const auto& f : doc["files"]) {
    if (f.contains("verdicts")) ++real;
    if (f.value("error", "").find("symlink loop") != std::string::npos) ++loops;
  }
  EXPECT_EQ(real, 1u) << "the one real file is scanned once, whatever the links: " << doc["files"].dump();
  EXPECT_GE(loops, 2u) << "self (twice named) and the end of the chain are loops";
  EXPECT_EQ(r.exit_code, 2);
}

// Where to make 100,000 files: tmpfs when there is one (creating them on a
// slow disk alone can take minutes), else the temporary directory.
std::string big_scratch_dir() {
  struct statvfs vfs {};
  if (access("/dev/shm", W_OK) == 0 && statvfs("/dev/shm", &vfs) == 0 &&
      uint64_t{vfs.f_bavail} * vfs.f_frsize > (uint64_t{1} << 30)) {
    std::string dir = "/dev/shm/smwatch-test-" + std::to_string(getpid()) + "-big tree";
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (fs::create_directories(dir, ec)) return dir;
  }
  return test::scratch_dir("big tree");
}

TEST(HostileTree, OneHundredThousandFiles) {
  const std::string dir = big_scratch_dir();
  struct Cleanup {  // on every way out: the tree may be in memory (tmpfs)
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  const auto start = std::chrono::steady_clock::now();
  const std::string so = fixture("sm80.so");
  int with_code = 0;
  for (int d = 0; d < 100; ++d) {
    const std::string sub = dir + "/d" + std::to_string(d);
    fs::create_directory(sub);
    for (int f = 0; f < 1000; ++f) {
      const std::string path = sub + "/f" + std::to_string(f) + (f % 3 ? ".py" : ".so");
      if (f == 500 && d % 10 == 0) {
        std::error_code ec;
        fs::create_hard_link(so, path, ec);  // 10 links to one real library: one file, scanned once
        if (ec) fs::create_symlink(so, path);
        ++with_code;
        continue;
      }
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0);
      // Some files start like a format smscan reads, to make the sniff work.
      const char* text = f % 7 == 0 ? "!<arch>\n" : f % 11 == 0 ? "\x7f" "ELF" : f % 2 ? "print('hello')\n" : "";
      ASSERT_EQ(write(fd, text, strlen(text)), static_cast<ssize_t>(strlen(text)));
      close(fd);
    }
  }
  const double made = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SmscanRun r = smscan({"--json", "-t", "sm_80", dir}, 60);
  json doc = parse_json(r);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["summary"]["files_with_device_code"], 1) << "hard links are one file, scanned once";
  // Every other file is counted once (the damaged "ELF" ones are also listed).
  const size_t without = doc["summary"]["files_without_device_code"];
  EXPECT_EQ(without + 1, 100000u - with_code + 1);
  size_t damaged = 0;
  for (const auto& f : doc["files"]) damaged += !f["problems"].empty();
  EXPECT_EQ(damaged, doc["summary"]["files_damaged"]);
  EXPECT_GT(damaged, 5000u);  // f % 11 == 0 and not f % 7 == 0: "\x7fELF" and nothing else
  EXPECT_LT(r.seconds, 20.0) << "smscan took " << r.seconds << " s for 100,000 files";
  std::cerr << "100,000 files made in " << made << " s, scanned by smscan in " << r.seconds << " s\n";
}

}  // namespace
}  // namespace smwatch
