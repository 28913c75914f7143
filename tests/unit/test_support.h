// Shared helpers for the tests: fixture paths, running smscan, scratch dirs.
#pragma once

#include <sys/resource.h>

#include <cstring>
#include <string>
#include <vector>

#include "smwatch/scan.h"

namespace smwatch::test {

std::string fixture(const std::string& name);  // path of an nvcc-built fixture
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::string scratch_dir(const std::string& name);  // fresh, empty directory

struct CommandResult {
  int exit_code = -1;  // -1: killed (by a signal, or after the timeout)
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
  long peak_rss_kb = 0;  // of smscan
};
// smscan --no-progress ARGS...: argv passed as is (no shell, so any byte can
// be passed), killed after `timeout_s` seconds.
CommandResult run_smscan(const std::vector<std::string>& args, int timeout_s = 300);

// (kind, arch) of every image in file order: "sm_80", "ptx:compute_90".
std::vector<std::string> image_names(const FileScan& scan);

// Peak RSS in KiB of this process (RUSAGE_SELF) or its waited-for children.
inline long max_rss_kb(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return u.ru_maxrss;
}

// Writes `v` little-endian at `at`, growing the buffer as needed (hand-made files).
template <typename T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  if (b.size() < at + sizeof v) b.resize(at + sizeof v);
  std::memcpy(&b[at], &v, sizeof v);
}

}  // namespace smwatch::test
