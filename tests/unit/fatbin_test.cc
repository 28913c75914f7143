// The readers against real nvcc output: what each fixture holds is known from
// the nvcc command that built it (tests/fixtures/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "smwatch/archive.h"
#include "smwatch/elf_file.h"
#include "smwatch/ptx.h"
#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

using test::fixture;
using test::image_names;

std::set<std::string> distinct(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

const std::set<std::string> kMultiImages = {"sm_75", "sm_80", "sm_90", "ptx:compute_90", "sm_100a"};
const std::set<std::string> kKernels = {"_Z12scale_by_twoPfi", "_Z10add_arraysIfEvPT_PKS0_i",
                                        "_Z10add_arraysIdEvPT_PKS0_i", "c_kernel"};

TEST(Fatbin, SharedLibraryArchitectures) {
  struct Case { const char* file; std::set<std::string> images; };
  for (const Case& c : {Case{"sm80.so", {"sm_80"}}, Case{"ptx80.so", {"ptx:compute_80"}},
                        Case{"sm90a.so", {"sm_90a"}}, Case{"sm120.so", {"sm_120", "ptx:compute_120"}},
                        Case{"multi.so", kMultiImages}, Case{"family.so", {"sm_100f", "ptx:compute_100f"}}}) {
    FileScan scan = scan_file(fixture(c.file), {});
    EXPECT_TRUE(scan.problems.empty()) << c.file << ": " << scan.problems.front();
    EXPECT_EQ(scan.format, FileFormat::kHostElf) << c.file;
    EXPECT_EQ(distinct(image_names(scan)), c.images) << c.file;
    size_t with_kernels = 0;
    for (const auto& container : scan.containers) {
      EXPECT_EQ(container.section, ".nv_fatbin");
      with_kernels += container.kernels == FatbinContainer::Kernels::kSome;
    }
    EXPECT_EQ(with_kernels, 1u) << c.file;  // the other one is the CUDA runtime's, without kernels
  }
}

TEST(Fatbin, SharedLibraryHoldsSeveralContainers) {
  // Facts doc section 4: one .cu built by nvcc 13 into a .so gives two containers.
  FileScan scan = scan_file(fixture("multi.so"), {});
  EXPECT_GE(scan.containers.size(), 2u);
  for (size_t i = 1; i < scan.containers.size(); ++i)
    EXPECT_GT(scan.containers[i].offset, scan.containers[i - 1].offset);
}

TEST(Fatbin, CompressionModes) {
  struct Case { const char* file; Compression sass; Compression ptx; };
  for (const Case& c : {Case{"multi_none.fatbin", Compression::kNone, Compression::kNone},
                        Case{"multi_default.fatbin", Compression::kNone, Compression::kZstd},
                        Case{"multi_size.fatbin", Compression::kZstd, Compression::kZstd},
                        Case{"multi_speed.fatbin", Compression::kNone, Compression::kLz},
                        Case{"multi_all.fatbin", Compression::kZstd, Compression::kZstd},
                        Case{"multi_speed_all.fatbin", Compression::kLz, Compression::kLz}}) {
    FileScan scan = scan_file(fixture(c.file), {});
    ASSERT_TRUE(scan.problems.empty()) << c.file << ": " << scan.problems.front();
    EXPECT_EQ(scan.format, FileFormat::kFatbin);
    EXPECT_EQ(distinct(image_names(scan)), kMultiImages) << c.file;
    for (const auto& container : scan.containers)
      for (const auto& img : container.images) {
        EXPECT_EQ(img.compression, img.kind == CodeKind::kSass ? c.sass : c.ptx)
            << c.file << " " << img.arch.sm_name();
        if (img.compression != Compression::kNone) {
          EXPECT_LE(img.stored_size, img.payload_size);
          EXPECT_GT(img.uncompressed_size, 0u);
        }
      }
  }
}

TEST(Fatbin, PtxIsaVersionMatchesTheToolkit) {
  // The .version line nvcc wrote into the .ptx fixture is what the fatbin
  // header must carry for PTX built by the same nvcc.
  auto text = test::read_bytes(fixture("sm80.ptx"));
  auto ptx = read_ptx(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  ASSERT_TRUE(ptx);
  FileScan scan = scan_file(fixture("ptx80.so"), {});
  size_t seen = 0;
  for (const auto& c : scan.containers)
    for (const auto& img : c.images) {
      ASSERT_EQ(img.kind, CodeKind::kPtx);
      EXPECT_EQ(img.version_major, ptx->isa_major);
      EXPECT_EQ(img.version_minor, ptx->isa_minor);
      ++seen;
    }
  EXPECT_GT(seen, 0u);
}

TEST(Fatbin, KernelsOfEveryImage) {
  for (const char* file : {"multi.so", "multi_size.fatbin", "multi_speed_all.fatbin", "sm80.cubin", "sm80.ptx"}) {
    ScanOptions options;
    options.kernels = true;
    FileScan scan = scan_file(fixture(file), options);
    ASSERT_TRUE(scan.problems.empty()) << file << ": " << scan.problems.front();
    size_t images_with_kernels = 0;
    for (const auto& c : scan.containers)
      for (const auto& img : c.images) {
        ASSERT_TRUE(img.kernels_read) << file << " " << img.arch.sm_name();
        std::set<std::string> kernels(img.kernels.begin(), img.kernels.end());
        // The non-inlined device function is not a kernel.
        EXPECT_EQ(kernels.count("_Z15square_plus_onef"), 0u);
        if (!kernels.empty()) {
          EXPECT_EQ(kernels, kKernels) << file << " " << img.arch.sm_name();
          ++images_with_kernels;
        }
      }
    EXPECT_GT(images_with_kernels, 0u) << file;
  }
}

TEST(Cubin, ArchFromTheElfHeaderAndNvCompat) {
  struct Case { const char* file; const char* arch; };
  for (const Case& c : {Case{"sm80.cubin", "sm_80"}, Case{"sm90a.cubin", "sm_90a"}, Case{"sm120.cubin", "sm_120"}}) {
    FileScan scan = scan_file(fixture(c.file), {});
    EXPECT_EQ(scan.format, FileFormat::kCubin) << c.file;
    EXPECT_EQ(image_names(scan), std::vector<std::string>{c.arch}) << c.file;
  }
}

TEST(Ptx, TargetAndEntries) {
  FileScan scan = scan_file(fixture("sm90a.ptx"), {});
  EXPECT_EQ(scan.format, FileFormat::kPtx);
  EXPECT_EQ(image_names(scan), std::vector<std::string>{"ptx:compute_90a"});
  auto info = read_ptx(".version 8.7\n.target sm_120a\n.address_size 64\n"
                       ".visible .entry k1(\n.param .u64 p)\n{ ret; }\n.entry k2 (\n)\n{}\n"
                       ".func helper()\n// .entry not_a_kernel(\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->isa_major, 8);
  EXPECT_EQ(info->isa_minor, 7);
  EXPECT_EQ(info->target.sm_name(), "sm_120a");
  EXPECT_EQ(info->kernels, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(cuda_for_ptx_isa(8, 7), "12.8");
  EXPECT_FALSE(read_ptx("int main() {}"));
}

TEST(Archive, MembersAndRelocatableDeviceCode) {
  FileScan scan = scan_file(fixture("libkernels.a"), {});
  EXPECT_EQ(scan.format, FileFormat::kArchive);
  EXPECT_EQ(scan.members, (std::vector<std::string>{"kernels_sm80.o", "second_sm90.o"}));
  EXPECT_EQ(distinct(image_names(scan)), (std::set<std::string>{"sm_80", "ptx:compute_80", "sm_90"}));
  for (const auto& c : scan.containers) EXPECT_FALSE(c.member.empty());

  FileScan rdc = scan_file(fixture("librdc.a"), {});
  ASSERT_FALSE(rdc.containers.empty());
  EXPECT_EQ(rdc.containers[0].section, "__nv_relfatbin");
  EXPECT_EQ(image_names(rdc), std::vector<std::string>{"sm_90"});
}

TEST(Archive, LongNamesAndOddMembers) {
  // A GNU archive with a long-name table, built by hand, holding a fixture .so.
  auto so = test::read_bytes(fixture("sm80.so"));
  std::string long_name = "a_member_name_longer_than_sixteen_chars.so";
  std::string names = long_name + "/\n";
  auto header = [](const std::string& name, size_t size) {
    char buf[61];
    snprintf(buf, sizeof buf, "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name.c_str(), "0", "0", "0", "644", size);
    return std::string(buf, 60);
  };
  std::string ar = "!<arch>\n" + header("//", names.size()) + names;
  if (ar.size() % 2) ar += '\n';
  ar += header("/0", so.size()) + std::string(so.begin(), so.end());
  std::vector<std::string> problems;
  auto members = read_archive(ByteView(ar.data(), ar.size()), problems);
  ASSERT_TRUE(members);
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0].name, long_name);
  EXPECT_EQ((*members)[0].data.size(), so.size());
  EXPECT_TRUE(problems.empty());
  FileScan scan = scan_bytes(ByteView(ar.data(), ar.size()), "hand.a", {});
  EXPECT_EQ(image_names(scan), std::vector<std::string>(image_names(scan_file(fixture("sm80.so"), {}))));
}

}  // namespace
}  // namespace smwatch
