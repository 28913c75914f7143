// FileRegion (pread through a window) must walk fatbin containers exactly as
// a ByteView over the same bytes does: same containers, same images, same
// problems, for every fixture, every section, and damaged copies. And
// scan_file (which reads headers and payloads from the open file) must agree
// with scan_bytes (which reads them from memory).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

#include "smwatch/elf_file.h"
#include "smwatch/file_region.h"
#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

using test::fixture;

// Everything the walk produces, as text that a mismatch prints readably.
std::string describe(const std::vector<FatbinContainer>& containers, const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& c : containers) {
    out += fmt::format("container @{:#x} size {}\n", c.offset, c.size);
    for (const auto& i : c.images) {
      out += fmt::format("  {} {} @{:#x} hdr {} payload {} stored {} raw {} isa {} flags {:#x} {}\n",
                         i.kind == CodeKind::kPtx ? "ptx" : "elf", i.arch.sm_name(), i.offset, i.header_size,
                         i.payload_size, i.stored_size, i.uncompressed_size, i.ptx_isa(), i.flags,
                         compression_name(i.compression));
      if (i.kernels_read) out += fmt::format("    kernels: {}\n", fmt::join(i.kernels, " "));
    }
  }
  for (const auto& p : problems) out += "problem: " + p + "\n";
  return out;
}

struct OpenFile {
  explicit OpenFile(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~OpenFile() { if (fd >= 0) ::close(fd); }
  int fd;
};

// Walks [offset, offset + size) of `path` both ways and compares.
void expect_same_walk(const std::string& path, uint64_t offset, uint64_t size) {
  SCOPED_TRACE(fmt::format("{} [{:#x}, +{})", path, offset, size));
  auto bytes = test::read_bytes(path);
  ASSERT_LE(offset + size, bytes.size());
  std::vector<std::string> memory_problems, file_problems;
  auto in_memory = parse_fatbin_region(ByteView(bytes.data() + offset, size), offset, memory_problems);
  OpenFile file(path);
  ASSERT_GE(file.fd, 0);
  auto from_file = parse_fatbin_region(FileRegion(file.fd, offset, size), offset, file_problems);
  EXPECT_EQ(describe(in_memory, memory_problems), describe(from_file, file_problems));
}

TEST(FileRegion, WalksEveryFixtureSectionLikeAByteView) {
  size_t sections_walked = 0;
  for (const char* name : {"sm80.so", "multi.so", "family.so", "sm90a.so", "sm120.so", "ptx80.so", "kernels_sm80.o",
                           "second_rdc.o"}) {
    auto bytes = test::read_bytes(fixture(name));
    auto sections = find_fatbin_sections(ByteView(bytes.data(), bytes.size()));
    ASSERT_TRUE(sections) << name;
    for (const auto& s : *sections) {
      expect_same_walk(fixture(name), s.offset, s.size);
      ++sections_walked;
    }
  }
  EXPECT_GE(sections_walked, 8u);
}

TEST(FileRegion, WalksBareFatbinsAndTheirTruncationsLikeAByteView) {
  for (const char* name : {"multi_size.fatbin", "multi_speed_all.fatbin", "multi_none.fatbin"}) {
    const std::string path = fixture(name);
    auto bytes = test::read_bytes(path);
    expect_same_walk(path, 0, bytes.size());
    // Cut short at header boundaries and at odd places; damaged headers too.
    const std::string dir = test::scratch_dir("file_region");
    for (size_t cut : {size_t{3}, size_t{16}, size_t{17}, size_t{80}, size_t{4095}, size_t{4097}, bytes.size() / 2,
                       bytes.size() - 1}) {
      if (cut >= bytes.size()) continue;
      std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
      test::write_bytes(dir + "/cut", part);
      expect_same_walk(dir + "/cut", 0, part.size());
    }
    auto damaged = bytes;
    for (size_t i = 8; i < damaged.size(); i += 997) damaged[i] ^= 0x5a;
    test::write_bytes(dir + "/damaged", damaged);
    expect_same_walk(dir + "/damaged", 0, damaged.size());
  }
}

TEST(FileRegion, LongStretchesOfPaddingAndGarbageCrossTheWindow) {
  auto fatbin = test::read_bytes(fixture("sm80.fatbin"));
  std::vector<uint8_t> bytes(20000, 0);                     // padding over several windows
  bytes.insert(bytes.end(), fatbin.begin(), fatbin.end());
  bytes.resize((bytes.size() + 7) & ~size_t{7}, 0);
  for (int i = 0; i < 9000; ++i) bytes.push_back(static_cast<uint8_t>(i * 31 + 7));  // garbage
  bytes.insert(bytes.end(), fatbin.begin(), fatbin.end());
  const std::string path = test::scratch_dir("file_region_pad") + "/padded";
  test::write_bytes(path, bytes);
  expect_same_walk(path, 0, bytes.size());
}

TEST(FileRegion, ReadsOutsideTheRegionOrTheFileAreNotThere) {
  OpenFile file(fixture("sm80.fatbin"));
  ASSERT_GE(file.fd, 0);
  const uint64_t size = test::read_bytes(fixture("sm80.fatbin")).size();
  FileRegion whole(file.fd, 0, size);
  EXPECT_EQ(whole.read<uint32_t>(0), kFatbinMagic);
  EXPECT_FALSE(whole.read<uint32_t>(size - 2));
  EXPECT_FALSE(whole.slice(size, 1));
  FileRegion past_the_end(file.fd, size - 4, 1000);  // claims more than the file has
  EXPECT_TRUE(past_the_end.read<uint32_t>(0));
  EXPECT_FALSE(past_the_end.read<uint32_t>(4));
  FileRegion closed(-1, 0, 100);
  EXPECT_FALSE(closed.read<uint8_t>(0));
}

TEST(FileRegion, AFileShorterThanItsRegionIsAProblemNotACrash) {
  // As if the file were cut short while smscan reads it: the region (from the
  // section table read earlier) reaches past the end of the file.
  const std::string path = fixture("multi_size.fatbin");
  const uint64_t size = test::read_bytes(path).size();
  OpenFile file(path);
  ASSERT_GE(file.fd, 0);
  for (uint64_t extra : {uint64_t{8}, uint64_t{100}, uint64_t{1} << 20}) {
    std::vector<std::string> problems, whole_problems;
    auto containers = parse_fatbin_region(FileRegion(file.fd, 0, size + extra), 0, problems);
    auto whole = parse_fatbin_region(FileRegion(file.fd, 0, size), 0, whole_problems);
    EXPECT_EQ(describe(containers, {}), describe(whole, {})) << extra;  // everything that is there
    ASSERT_FALSE(problems.empty()) << extra;
    EXPECT_NE(problems.back().find("could not be read"), std::string::npos) << problems.back();
  }
  // Cut inside the entries of a container whose header is still there.
  auto bytes = test::read_bytes(path);
  for (size_t cut : {size_t{16 + 30}, size_t{16 + 64 + 10}, bytes.size() / 2}) {
    const std::string short_path = test::scratch_dir("file_region_short") + "/cut";
    test::write_bytes(short_path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(cut)));
    OpenFile cut_file(short_path);
    std::vector<std::string> problems;
    (void)parse_fatbin_region(FileRegion(cut_file.fd, 0, size), 0, problems);
    ASSERT_FALSE(problems.empty()) << cut;
    EXPECT_NE(problems.back().find("could not be read"), std::string::npos) << cut << ": " << problems.back();
  }
}

TEST(FileRegion, ScanFileAgreesWithScanBytes) {
  for (const char* name : {"multi.so", "librdc.a", "multi_speed_all.fatbin", "sm120.so"}) {
    SCOPED_TRACE(name);
    auto bytes = test::read_bytes(fixture(name));
    ScanOptions options;
    options.kernels = true;
    FileScan from_file = scan_file(fixture(name), options);
    FileScan in_memory = scan_bytes(ByteView(bytes.data(), bytes.size()), fixture(name), options);
    EXPECT_EQ(describe(from_file.containers, from_file.problems), describe(in_memory.containers, in_memory.problems));
    EXPECT_EQ(test::image_names(from_file), test::image_names(in_memory));
    ASSERT_FALSE(from_file.containers.empty());
    // Payloads were read (from the file with pread on one side): kernels found.
    size_t kernels = 0;
    for (const auto& c : from_file.containers)
      for (const auto& i : c.images) kernels += i.kernels.size();
    EXPECT_GT(kernels, 0u);
  }
}

}  // namespace
}  // namespace smwatch
