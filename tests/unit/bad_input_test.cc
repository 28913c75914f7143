// Damaged and hostile input: each case gives a clear error that names the
// problem, never a crash, and the rest of the work goes on.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "smwatch/elf_file.h"
#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::read_bytes;

bool mentions(const FileScan& scan, const std::string& word) {
  for (const auto& p : scan.problems)
    if (p.find(word) != std::string::npos) return true;
  return false;
}

// Offsets where a header starts or ends in a bare fatbin: the container
// header and every entry header and payload.
std::vector<size_t> header_boundaries(const std::vector<uint8_t>& bytes) {
  FileScan scan = scan_bytes(ByteView(bytes.data(), bytes.size()), "x", {});
  std::vector<size_t> cuts = {0, 1, 4, 8, 15, 16, 17};
  for (const auto& c : scan.containers)
    for (const auto& img : c.images)
      for (size_t at : {img.offset, img.offset + 8, img.offset + 63, img.offset + 64,
                        img.payload_offset(), img.payload_offset() + 1,
                        img.payload_offset() + img.payload_size - 1})
        cuts.push_back(at);
  return cuts;
}

TEST(BadInput, TruncatedFatbinAtEveryHeaderBoundaryAndEveryByte) {
  for (const char* file : {"multi_none.fatbin", "multi_size.fatbin", "sm80.fatbin"}) {
    auto bytes = read_bytes(fixture(file));
    const size_t full = scan_bytes(ByteView(bytes.data(), bytes.size()), file, {}).image_count();
    std::vector<size_t> cuts = header_boundaries(bytes);
    for (size_t cut = 0; cut < bytes.size(); cut += 7) cuts.push_back(cut);  // and a sweep
    for (size_t cut : cuts) {
      if (cut >= bytes.size()) continue;
      std::vector<uint8_t> part(bytes.begin(), bytes.begin() + cut);
      ScanOptions options;
      options.kernels = true;
      FileScan scan = scan_bytes(ByteView(part.data(), part.size()), file, options);
      // Either it no longer looks like a fatbin, or the damage is reported.
      if (part.size() >= 4) {
        EXPECT_FALSE(scan.problems.empty()) << file << " cut at " << cut;
      }
      EXPECT_LE(scan.image_count(), full);
    }
  }
}

TEST(BadInput, TruncatedSharedLibrary) {
  auto bytes = read_bytes(fixture("multi.so"));
  auto sections = find_fatbin_sections(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(sections);
  ASSERT_FALSE(sections->empty());
  const size_t start = (*sections)[0].offset, end = start + (*sections)[0].size;
  for (size_t cut : {size_t{10}, size_t{64}, start, start + 16, start + 100, end - 1, end, bytes.size() - 1}) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + cut);
    FileScan scan = scan_bytes(ByteView(part.data(), part.size()), "multi.so", {});
    EXPECT_FALSE(scan.problems.empty()) << "cut at " << cut;
  }
}

TEST(BadInput, SizesPointingPastTheEnd) {
  auto bytes = read_bytes(fixture("multi_none.fatbin"));
  auto patched = bytes;
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(&patched[16 + 8], &huge, 8);  // first entry's payload size
  FileScan scan = scan_bytes(ByteView(patched.data(), patched.size()), "x", {});
  EXPECT_TRUE(mentions(scan, "declares a payload")) << (scan.problems.empty() ? "" : scan.problems[0]);

  patched = bytes;
  std::memcpy(&patched[8], &huge, 8);  // container's entries size
  scan = scan_bytes(ByteView(patched.data(), patched.size()), "x", {});
  EXPECT_TRUE(mentions(scan, "only"));
  EXPECT_EQ(scan.image_count(), 5u);  // everything that is there is still read

  patched = bytes;
  const uint32_t bad_header = 1u << 31;
  std::memcpy(&patched[16 + 4], &bad_header, 4);
  scan = scan_bytes(ByteView(patched.data(), patched.size()), "x", {});
  EXPECT_TRUE(mentions(scan, "bad header size"));
}

TEST(BadInput, ZeroSizeAndAbsurdlyLargeEntries) {
  auto bytes = read_bytes(fixture("multi_size.fatbin"));
  auto patched = bytes;
  const uint64_t zero = 0;
  std::memcpy(&patched[16 + 8], &zero, 8);
  FileScan scan = scan_bytes(ByteView(patched.data(), patched.size()), "x", {});
  EXPECT_TRUE(mentions(scan, "empty"));

  patched = bytes;
  const uint64_t absurd = uint64_t{1} << 50;
  std::memcpy(&patched[16 + 56], &absurd, 8);  // uncompressed size of a zstd entry
  ScanOptions options;
  options.kernels = true;
  scan = scan_bytes(ByteView(patched.data(), patched.size()), "x", options);
  EXPECT_TRUE(mentions(scan, "over the limit"));
  EXPECT_EQ(scan.image_count(), 5u);
}

TEST(BadInput, GarbageInTheFatbinSection) {
  auto bytes = read_bytes(fixture("sm80.so"));
  auto sections = find_fatbin_sections(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(sections && !sections->empty());
  const auto& section = (*sections)[0];
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    auto damaged = bytes;
    // Keep the container magic sometimes, so the entry parser sees garbage too.
    size_t from = round % 2 ? section.offset + 4 : section.offset;
    for (size_t i = from; i < section.offset + section.size; ++i)
      if (round < 100 || rng() % 8 == 0) damaged[i] = static_cast<uint8_t>(rng());
    ScanOptions options;
    options.kernels = true;
    FileScan scan = scan_bytes(ByteView(damaged.data(), damaged.size()), "sm80.so", options);
    if (round < 100) {
      EXPECT_FALSE(scan.problems.empty()) << "round " << round;
    }
  }
}

TEST(BadInput, TreeWithUnreadableFilesAndLinkLoopsStillScansTheRest) {
  std::string dir = test::scratch_dir("tree");
  fs::copy_file(fixture("sm80.so"), dir + "/good.so");
  fs::create_directories(dir + "/sub");
  fs::copy_file(fixture("multi.so"), dir + "/sub/also_good.so");
  fs::create_directory_symlink(dir, dir + "/sub/loop_to_top");   // a directory loop
  fs::create_symlink(dir + "/link_b", dir + "/link_a");          // a symlink cycle
  fs::create_symlink(dir + "/link_a", dir + "/link_b");
  fs::create_symlink(dir + "/missing", dir + "/dangling");
  fs::create_symlink("/proc/self/mem", dir + "/unreadable");    // open works, read fails (even as root)
  auto bytes = read_bytes(fixture("multi.so"));
  bytes.resize(bytes.size() / 2);
  test::write_bytes(dir + "/truncated.so", bytes);
  fs::create_symlink(dir + "/good.so", dir + "/same_file_again.so");  // read once

  TreeScan tree = scan_paths({dir}, {}, 2);
  std::map<std::string, const FileScan*> by_name;
  for (const auto& f : tree.files) by_name[fs::path(f.path).filename().string()] = &f;
  ASSERT_TRUE(by_name.count("good.so"));
  EXPECT_TRUE(by_name["good.so"]->has_device_code());
  ASSERT_TRUE(by_name.count("also_good.so"));
  EXPECT_TRUE(by_name["also_good.so"]->has_device_code());
  EXPECT_FALSE(by_name.count("same_file_again.so"));
  ASSERT_TRUE(by_name.count("link_a"));
  EXPECT_NE(by_name["link_a"]->read_error.find("symlink loop"), std::string::npos);
  ASSERT_TRUE(by_name.count("dangling"));
  EXPECT_NE(by_name["dangling"]->read_error.find("dangling"), std::string::npos);
  ASSERT_TRUE(by_name.count("unreadable"));
  EXPECT_NE(by_name["unreadable"]->read_error.find("cannot read"), std::string::npos);
  ASSERT_TRUE(by_name.count("truncated.so"));
  EXPECT_FALSE(by_name["truncated.so"]->problems.empty());

  // The command line names each file and its reason, and exits 2.
  auto r = test::run_smscan({"-t", "sm_80", dir});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (const char* name : {"link_a", "dangling", "unreadable", "truncated.so"})
    EXPECT_NE(r.err.find(name), std::string::npos) << name << "\n" << r.err;
  EXPECT_NE(r.out.find("good.so"), std::string::npos) << r.out;
  // The verdict line does not read as a clean bill: it says what was not read.
  EXPECT_NE(r.out.find("incomplete: 5 files not read in full"), std::string::npos) << r.out;
}

TEST(BadInput, UnreadableFileByPermission) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file; /proc/self/mem covers this case above";
  std::string dir = test::scratch_dir("perm");
  fs::copy_file(fixture("sm80.so"), dir + "/locked.so");
  chmod((dir + "/locked.so").c_str(), 0);
  FileScan scan = scan_file(dir + "/locked.so", {});
  EXPECT_NE(scan.read_error.find("Permission denied"), std::string::npos) << scan.read_error;
}

}  // namespace
}  // namespace smwatch
