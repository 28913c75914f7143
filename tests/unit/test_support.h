// Shared helpers for the tests: fixture paths, running smscan, scratch dirs.
#pragma once

#include <string>
#include <vector>

#include "smwatch/scan.h"

namespace smwatch::test {

std::string fixture(const std::string& name);  // path of an nvcc-built fixture
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::string scratch_dir(const std::string& name);  // fresh, empty directory

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
CommandResult run_smscan(const std::vector<std::string>& args);

// (kind, arch) of every image in file order: "sm_80", "ptx:compute_90".
std::vector<std::string> image_names(const FileScan& scan);

}  // namespace smwatch::test
