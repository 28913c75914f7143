// Replays, through the fuzz targets' own code (fuzz/<name>_fuzzer.cc, built
// here with LLVMFuzzerTestOneInput renamed), every input that once crashed a
// fuzzer (fuzz/regressions/<name>/) and every seed (fuzz/corpus/<name>/). Run
// in the normal and the sanitizer builds, so a fixed crash stays fixed without
// clang. New targets and new files are picked up without editing this file.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "replay_registry.h"  // generated: kReplayers[] = {name, function}
#include "test_support.h"

namespace smwatch {
namespace {

namespace fs = std::filesystem;

const Replayer* find_replayer(const std::string& name) {
  for (const auto& r : kReplayers)
    if (name == r.name) return &r;
  return nullptr;
}

size_t replay_dir(const fs::path& root) {
  size_t n = 0;
  if (!fs::is_directory(root)) return 0;
  for (const auto& target_dir : fs::directory_iterator(root)) {
    if (!target_dir.is_directory()) continue;
    const std::string target = target_dir.path().filename().string();
    const Replayer* own = find_replayer(target);
    EXPECT_NE(own, nullptr) << root << ": no fuzz target named " << target;
    for (const auto& file : fs::recursive_directory_iterator(target_dir.path())) {
      if (!file.is_regular_file()) continue;
      auto bytes = test::read_bytes(file.path().string());
      SCOPED_TRACE(file.path().string());
      // Its own target, then the whole pipeline (which must survive anything).
      if (own) EXPECT_EQ(own->run(bytes.data(), bytes.size()), 0);
      for (const char* all : {"scan", "report"})
        if (const Replayer* r = find_replayer(all); r && r != own) EXPECT_EQ(r->run(bytes.data(), bytes.size()), 0);
      ++n;
    }
  }
  return n;
}

TEST(FuzzRegressions, EverySavedCrashInputIsHandled) {
  const size_t n = replay_dir(SMWATCH_REGRESSIONS_DIR);
  RecordProperty("inputs", static_cast<int>(n));
  EXPECT_GT(n, 0u) << "no inputs in " << SMWATCH_REGRESSIONS_DIR;
}

TEST(FuzzRegressions, EverySeedIsHandled) {
  const size_t n = replay_dir(fs::path(SMWATCH_REGRESSIONS_DIR).parent_path() / "corpus");
  EXPECT_GT(n, 0u);
}

}  // namespace
}  // namespace smwatch
