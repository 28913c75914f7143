#include "test_support.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace smwatch::test {

std::string fixture(const std::string& name) { return std::string(SMWATCH_FIXTURE_DIR) + "/" + name; }

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string scratch_dir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("smwatch-test-" + std::to_string(getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

static std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

CommandResult run_smscan(const std::vector<std::string>& args) {
  std::string dir = scratch_dir("cmd");
  std::string cmd = std::string("'") + SMSCAN_PATH + "' --no-progress";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >'" + dir + "/out' 2>'" + dir + "/err'";
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir + "/out");
  r.err = slurp(dir + "/err");
  return r;
}

std::vector<std::string> image_names(const FileScan& scan) {
  std::vector<std::string> names;
  for (const auto& c : scan.containers)
    for (const auto& img : c.images)
      names.push_back(img.kind == CodeKind::kSass ? img.arch.sm_name() : "ptx:" + img.arch.compute_name());
  return names;
}

}  // namespace smwatch::test
