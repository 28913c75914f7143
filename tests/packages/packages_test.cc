// Kernel-by-kernel verdicts, wheels and zips (including hostile ones),
// installed distributions, and the Markdown/HTML reports.
#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "smwatch/demangle.h"
#include "smwatch/package_fix.h"
#include "smwatch/packages.h"
#include "smwatch/report.h"
#include "smwatch/verdict.h"
#include "smwatch/zip.h"
#include "test_support.h"
#include "zip_writer.h"
#include "../markdown_active.h"

namespace smwatch {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::read_bytes;
using test::run_smscan;
using test::scratch_dir;

std::string pkg_fixture(const std::string& name) { return std::string(SMWATCH_PKG_FIXTURE_DIR) + "/" + name; }


std::string listing(const FileScan& scan) {
  std::ostringstream out;
  print_cuobjdump_list(out, scan);
  return out.str();
}

const KernelRow* find_kernel(const std::vector<KernelRow>& rows, std::string_view demangled_prefix) {
  for (const auto& r : rows)
    if (demangle(r.mangled).starts_with(demangled_prefix)) return &r;
  return nullptr;
}

// --- kernels -----------------------------------------------------------------

TEST(Demangle, CxxNamesAndOthers) {
  EXPECT_EQ(demangle("_Z12scale_by_twoPfi"), "scale_by_two(float*, int)");
  EXPECT_EQ(demangle("_Z10add_arraysIfEvPT_PKS0_i"), "void add_arrays<float>(float*, float const*, int)");
  EXPECT_EQ(demangle("c_kernel"), "c_kernel");  // extern "C"
  EXPECT_EQ(demangle("i"), "i");                // not read as the type "int"
  EXPECT_EQ(demangle("_Zgarbage"), "_Zgarbage");
}

TEST(KernelVerdicts, ImagesWithDifferentKernelSetsAreJudgedKernelByKernel) {
  ScanOptions options;
  options.kernels = true;
  FileScan scan = scan_file(pkg_fixture("arch_split.so"), options);
  ASSERT_TRUE(scan.problems.empty()) << scan.problems.front();
  auto rows = judge_kernels(scan.containers, {86, 90, 120});
  const KernelRow* everywhere = find_kernel(rows, "everywhere(");
  const KernelRow* from_hopper = find_kernel(rows, "from_hopper(");
  const KernelRow* a_only = find_kernel(rows, "hopper_a_only(");
  ASSERT_TRUE(everywhere && from_hopper && a_only) << rows.size() << " kernels";
  EXPECT_EQ(everywhere->sass.size(), 3u);
  ASSERT_EQ(from_hopper->sass.size(), 2u);  // sm_90 and sm_90a
  ASSERT_EQ(a_only->sass.size(), 1u);
  EXPECT_EQ(a_only->sass[0].sm_name(), "sm_90a");

  // On an RTX 3090 (8.6) the driver loads the sm_80 image, which has no
  // from_hopper: that kernel is not built for this GPU (its host code is
  // guarded by __CUDA_ARCH__ in real libraries), not a failure.
  EXPECT_EQ(everywhere->fits[0], ContainerFit::kSass);
  EXPECT_EQ(from_hopper->fits[0], ContainerFit::kNotForThisGpu);
  EXPECT_EQ(a_only->fits[0], ContainerFit::kNotForThisGpu);  // 'a' code for another GPU
  for (const auto* k : {everywhere, from_hopper, a_only}) EXPECT_EQ(k->fits[1], ContainerFit::kSass);
  EXPECT_EQ(everywhere->fits[2], ContainerFit::kNone);
  EXPECT_EQ(a_only->fits[2], ContainerFit::kNotForThisGpu);

  FileVerdict v86 = judge_code(scan.containers, 86);
  EXPECT_TRUE(v86.by_kernel);
  EXPECT_EQ(v86.verdict, Verdict::kOk);
  EXPECT_EQ(v86.kernels_none, 0u);
  EXPECT_EQ(v86.kernels_not_for_gpu, 2u);  // from_hopper and hopper_a_only
  EXPECT_EQ(judge_code(scan.containers, 90).verdict, Verdict::kOk);
  // On sm_120 nothing in the file serves: FAIL, every kernel counted.
  FileVerdict v120 = judge_code(scan.containers, 120);
  EXPECT_EQ(v120.verdict, Verdict::kFail);
  EXPECT_EQ(v120.kernels_none, 2u);  // everywhere, from_hopper; hopper_a_only is 'a' code for 9.0
  EXPECT_NE(v120.reason.find("no fatbin has sm_120 SASS or PTX"), std::string::npos) << v120.reason;

  // The same file without kernel names is judged per container: OK on 8.6.
  FileScan plain = scan_file(pkg_fixture("arch_split.so"), {});
  EXPECT_EQ(judge_code(plain.containers, 86).verdict, Verdict::kOk);
}

TEST(KernelVerdicts, CliListsDemangledKernelsAndCountsFailures) {
  auto r = run_smscan({"--kernels", "--json", "-t", "sm_86,sm_90,sm_120", pkg_fixture("arch_split.so"), fixture("multi.so")});
  ASSERT_EQ(r.exit_code, 1) << r.err;  // arch_split.so has nothing for sm_120
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["summary"]["targets"]["sm_86"]["kernels_fail"], 0);
  EXPECT_EQ(doc["summary"]["targets"]["sm_90"]["kernels_fail"], 0);
  EXPECT_EQ(doc["summary"]["targets"]["sm_120"]["kernels_fail"], 2);
  EXPECT_EQ(doc["summary"]["targets"]["sm_120"]["verdict"], "FAIL");
  bool seen = false;
  for (const auto& f : doc["files"]) {
    if (!f["path"].get<std::string>().ends_with("multi.so")) continue;
    for (const auto& k : f["kernels"]) {
      if (k["mangled"] != "_Z10add_arraysIfEvPT_PKS0_i") continue;
      seen = true;
      EXPECT_EQ(k["name"], "void add_arrays<float>(float*, float const*, int)");
      EXPECT_EQ(k["verdicts"]["sm_86"], "OK");
      EXPECT_EQ(k["ptx"], nlohmann::json::array({"compute_90"}));
    }
  }
  EXPECT_TRUE(seen) << r.out.substr(0, 2000);
  auto table = run_smscan({"--kernels", "-t", "sm_86", pkg_fixture("arch_split.so")});
  EXPECT_NE(table.out.find("from_hopper(int*)"), std::string::npos) << table.out;
}

// One .cu built for sm_80/sm_90/sm_120 and one for sm_80 only, in one .so:
// on sm_90 some code runs and one kernel would fail if called.
TEST(PartialVerdicts, ATruePartialGapIsPartialWithTheKernelNamed) {
  const std::string gap = pkg_fixture("partial_gap.so");
  auto r = run_smscan({"--kernels", "--json", "-t", "sm_80,sm_90,sm_120", gap});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // PARTIAL does not fail by default
  auto doc = nlohmann::json::parse(r.out);
  const auto& t = doc["summary"]["targets"];
  EXPECT_EQ(t["sm_80"]["verdict"], "OK");
  EXPECT_EQ(t["sm_90"]["verdict"], "PARTIAL");
  EXPECT_EQ(t["sm_90"]["partial"], 1);
  EXPECT_EQ(t["sm_90"]["kernels_fail"], 1);
  EXPECT_EQ(t["sm_120"]["verdict"], "PARTIAL");
  ASSERT_EQ(doc["files"].size(), 1u);
  for (const auto& k : doc["files"][0]["kernels"]) {
    if (k["name"] == "ampere_only(float*)") {
      EXPECT_EQ(k["verdicts"]["sm_80"], "OK");
      EXPECT_EQ(k["verdicts"]["sm_90"], "FAIL");
    } else {
      EXPECT_EQ(k["name"], "runs_everywhere(float*)");
      EXPECT_EQ(k["verdicts"]["sm_90"], "OK");
    }
  }
  EXPECT_EQ(doc["files"][0]["kernels"].size(), 2u);

  auto strict = run_smscan({"--strict", "-t", "sm_90", gap});
  EXPECT_EQ(strict.exit_code, 1) << strict.out;
  auto table = run_smscan({"--kernels", "-t", "sm_90", gap});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("PARTIAL sm_90"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ampere_only(float*)"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("fix:"), std::string::npos) << "no fix line for a file that has sm_90 code\n" << table.out;
  EXPECT_EQ(run_smscan({"--strict", "-t", "sm_80", gap}).exit_code, 0);
}

// The same kernel name in two containers: counted once, the same on every run
// (judge_file once kept views into a vector freed after each container).
TEST(KernelVerdicts, OneKernelNameInTwoContainersIsCountedOnce) {
  ScanOptions options;
  options.kernels = true;
  FileScan scan = scan_file(pkg_fixture("libtwo.so"), options);
  ASSERT_TRUE(scan.problems.empty()) << scan.problems.front();
  FileVerdict v = judge_code(scan.containers, 120);
  EXPECT_EQ(v.kernels, 3u);  // scale<float>, only_in_a, only_in_b
  EXPECT_EQ(v.kernels_none, 3u);
  EXPECT_EQ(judge_kernels(scan.containers, {120}).size(), 3u);
  auto first = run_smscan({"--kernels", "--json", "-t", "sm_120", pkg_fixture("libtwo.so")});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run_smscan({"--kernels", "--json", "-t", "sm_120", "-j", std::to_string(1 + i), pkg_fixture("libtwo.so")}).out, first.out);
}

TEST(KernelVerdicts, ThreadsDoNotChangeTheResult) {
  ScanOptions one;
  one.kernels = true;
  ThreadBudget budget(4);
  ScanOptions many = one;
  many.budget = &budget;
  for (const char* name : {"multi_size.fatbin", "libkernels.a"}) {
    FileScan a = scan_file(fixture(name), one), b = scan_file(fixture(name), many);
    ASSERT_EQ(a.containers.size(), b.containers.size());
    for (size_t c = 0; c < a.containers.size(); ++c)
      for (size_t i = 0; i < a.containers[c].images.size(); ++i)
        EXPECT_EQ(a.containers[c].images[i].kernels, b.containers[c].images[i].kernels) << name;
    EXPECT_EQ(a.problems, b.problems);
  }
}

// --- wheels and zips ---------------------------------------------------------

class Zips : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_dir("zips"); }
  std::string dir_;
};

TEST_F(Zips, MembersAreScannedLikeFilesInMemoryOrStreamed) {
  const std::string whl = dir_ + "/demo_pkg-1.0-py3-none-any.whl";
  write_zip(whl, {{"demo_pkg/lib/multi.so", read_bytes(fixture("multi.so"))},
                  {"demo_pkg/sm80.cubin", read_bytes(fixture("sm80.cubin"))},
                  {"demo_pkg/libkernels.a", read_bytes(fixture("libkernels.a"))},
                  {"demo_pkg/librdc.a", read_bytes(fixture("librdc.a"))},
                  {"demo_pkg/second_rdc.o", read_bytes(fixture("second_rdc.o"))},
                  {"demo_pkg/__init__.py", text("print('hi')\n")}});
  for (uint64_t stream_above : {uint64_t{16} << 20, uint64_t{0}}) {  // in memory, then every ELF streamed
    ZipLimits limits;
    limits.stream_above = stream_above;
    limits.chunk = 4096;  // many chunk boundaries inside containers and headers
    ScanOptions options;
    options.kernels = true;
    ZipScan zip = scan_zip(whl, options, limits);
    ASSERT_TRUE(zip.self.read_error.empty()) << zip.self.read_error;
    EXPECT_TRUE(zip.self.problems.empty()) << zip.self.problems.front();
    ASSERT_EQ(zip.members.size(), 5u);
    EXPECT_EQ(zip.members_without_device_code, 1u);
    const std::vector<std::string> originals = {"multi.so", "sm80.cubin", "libkernels.a", "librdc.a", "second_rdc.o"};
    for (size_t i = 0; i < originals.size(); ++i) {
      const FileScan& m = zip.members[i];
      FileScan file = scan_file(fixture(originals[i]), options);
      EXPECT_EQ(m.path, whl + "!" + m.zip_member);
      EXPECT_TRUE(m.problems.empty()) << m.path << ": " << m.problems.front();
      EXPECT_EQ(test::image_names(m), test::image_names(file)) << originals[i] << " stream_above=" << stream_above;
      ASSERT_EQ(m.containers.size(), file.containers.size()) << originals[i];
      for (size_t c = 0; c < m.containers.size(); ++c) {
        EXPECT_EQ(m.containers[c].offset, file.containers[c].offset) << originals[i];
        EXPECT_EQ(m.containers[c].section, file.containers[c].section) << originals[i];
        EXPECT_EQ(m.containers[c].kernels, file.containers[c].kernels) << originals[i];
        for (size_t k = 0; k < m.containers[c].images.size(); ++k)
          EXPECT_EQ(m.containers[c].images[k].kernels, file.containers[c].images[k].kernels);
      }
      if (originals[i] != "libkernels.a" && originals[i] != "librdc.a")  // ar listings name the archive's own path
        EXPECT_EQ(listing(m), listing(file)) << originals[i];
    }
  }
  // Streamed, a library is held one container at a time, not whole.
  const std::string one = dir_ + "/one.zip";
  write_zip(one, {{"multi.so", read_bytes(fixture("multi.so"))}});
  ZipLimits limits;
  limits.stream_above = 0;
  limits.chunk = 4096;
  ZipScan zip = scan_zip(one, {}, limits);
  ASSERT_EQ(zip.members.size(), 1u);
  EXPECT_EQ(test::image_names(zip.members[0]), test::image_names(scan_file(fixture("multi.so"), {})));
  EXPECT_LT(zip.peak_buffer, fs::file_size(fixture("multi.so")) / 2);
  {
  }
}

// A valid ELF laid out as Rust/lld link them: the section-name table far
// before the section header table. The header table is copied `gap` bytes
// past the end of the file and e_shoff pointed at the copy (the old bytes stay
// as unreferenced data). With `drop_fatbin`, the .nv_fatbin contents are
// zeroed and the section renamed first: a host ELF with no device code at all.
std::vector<uint8_t> names_far_from_section_table(std::vector<uint8_t> elf, size_t gap, bool drop_fatbin) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof eh);
  const size_t table_size = size_t{eh.e_shnum} * sizeof(Elf64_Shdr);
  std::vector<uint8_t> table(elf.begin() + static_cast<ptrdiff_t>(eh.e_shoff),
                             elf.begin() + static_cast<ptrdiff_t>(eh.e_shoff + table_size));
  if (drop_fatbin) {
    Elf64_Shdr names;
    std::memcpy(&names, table.data() + size_t{eh.e_shstrndx} * sizeof(Elf64_Shdr), sizeof names);
    for (size_t i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr s;
      std::memcpy(&s, table.data() + i * sizeof(Elf64_Shdr), sizeof s);
      if (std::strcmp(reinterpret_cast<const char*>(elf.data() + names.sh_offset + s.sh_name), ".nv_fatbin") == 0) {
        std::memset(elf.data() + s.sh_offset, 0, s.sh_size);
        elf[names.sh_offset + s.sh_name] = 'x';  // "xnv_fatbin": no fatbin section at all, as in a Rust library
      }
    }
  }
  const size_t at = (elf.size() + gap + 7) & ~size_t{7};
  elf.resize(at);
  elf.insert(elf.end(), table.begin(), table.end());
  eh.e_shoff = at;
  std::memcpy(elf.data(), &eh, sizeof eh);
  return elf;
}

TEST_F(Zips, SectionNamesFarBeforeTheSectionTableAreNoDamage) {
  const size_t gap = size_t{17} << 20;  // over 16 MiB: streamed by smscan's default limits too
  const std::vector<uint8_t> original = read_bytes(fixture("sm80.so"));
  const std::string with_code = dir_ + "/far_names-1.0-py3-none-any.whl";
  // Named as the fixture: cuobjdump names the images after the file.
  write_zip(with_code, {{"far_names/sm80.so", names_far_from_section_table(original, gap, false)}});
  const std::string without_code = dir_ + "/rust_like-1.0-py3-none-any.whl";
  write_zip(without_code, {{"rust_like/router.abi3.so", names_far_from_section_table(original, gap, true)}});
  ZipLimits limits;
  limits.stream_above = 0;
  limits.chunk = 4096;
  {
    // No container in the stream: nothing to tell apart, so nothing to say.
    ZipScan zip = scan_zip(without_code, {}, limits);
    EXPECT_TRUE(zip.self.problems.empty()) << zip.self.problems.front();
    EXPECT_TRUE(zip.members.empty()) << zip.members.front().path;
    EXPECT_EQ(zip.members_without_device_code, 1u);
  }
  {
    // The names went by 17 MiB before the section table (as lld lays out
    // tensorflow's libtensorflow_cc.so.2): the fatbin sections are still
    // named, and the member lists and scans like the file it was made from.
    const FileScan original = scan_file(fixture("sm80.so"), {});
    ZipScan zip = scan_zip(with_code, {}, limits);
    EXPECT_TRUE(zip.self.problems.empty()) << zip.self.problems.front();
    ASSERT_EQ(zip.members.size(), 1u);
    const FileScan& m = zip.members[0];
    EXPECT_TRUE(m.problems.empty()) << m.problems.front();
    EXPECT_TRUE(m.notes.empty()) << m.notes.front();
    EXPECT_EQ(test::image_names(m), test::image_names(original));
    ASSERT_EQ(m.containers.size(), original.containers.size());
    for (size_t c = 0; c < m.containers.size(); ++c) {
      EXPECT_FALSE(m.containers[c].embedded);
      EXPECT_EQ(m.containers[c].section, ".nv_fatbin");
      EXPECT_EQ(m.containers[c].offset, original.containers[c].offset);
    }
    ScanOptions list;
    list.embedded = false;  // --list: only what cuobjdump lists, the fatbin sections
    ZipScan listed = scan_zip(with_code, list, limits);
    ASSERT_EQ(listed.members.size(), 1u);
    EXPECT_FALSE(listed.members[0].containers.empty());
    EXPECT_EQ(listing(listed.members[0]), listing(original));
    // smscan --list on the wheel, default limits (the member is streamed).
    auto out = run_smscan({"--list", with_code});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    EXPECT_EQ(out.out, listing(original));
  }
  {
    // More places spell a fatbin section's name than are kept: the sections
    // cannot be told apart; clean containers are kept as found outside them,
    // with a note, and nothing is listed. Never a problem.
    ZipLimits few = limits;
    few.max_section_names = 0;
    ZipScan zip = scan_zip(with_code, {}, few);
    EXPECT_TRUE(zip.self.problems.empty()) << zip.self.problems.front();
    ASSERT_EQ(zip.members.size(), 1u);
    const FileScan& m = zip.members[0];
    EXPECT_TRUE(m.problems.empty()) << m.problems.front();
    EXPECT_EQ(test::image_names(m), test::image_names(scan_file(fixture("sm80.so"), {})));
    for (const auto& c : m.containers) {
      EXPECT_TRUE(c.embedded);
      EXPECT_EQ(c.section, "");
    }
    ASSERT_EQ(m.notes.size(), 1u);
    EXPECT_NE(m.notes[0].find("cannot be told apart"), std::string::npos) << m.notes[0];
    ScanOptions list;
    list.embedded = false;
    ZipScan listed = scan_zip(with_code, list, few);
    ASSERT_EQ(listed.members.size(), 1u);
    EXPECT_TRUE(listed.members[0].containers.empty());
    EXPECT_TRUE(listed.members[0].problems.empty()) << listed.members[0].problems.front();
  }
  // Through smscan with its default limits: a valid ELF is never damaged.
  auto none = run_smscan({"-t", "sm_80,sm_120", without_code});
  EXPECT_EQ(none.exit_code, 0) << none.out << none.err;
  EXPECT_EQ(none.out.find("Problems"), std::string::npos) << none.out;
  EXPECT_EQ(none.err.find("warning"), std::string::npos) << none.err;
  auto some = run_smscan({"-t", "sm_80", with_code});
  EXPECT_EQ(some.exit_code, 0) << some.out << some.err;
  EXPECT_EQ(some.out.find("Problems"), std::string::npos) << some.out;
  EXPECT_NE(some.out.find("far_names/sm80.so"), std::string::npos) << some.out;
}

TEST_F(Zips, TreeWalkerPicksUpWheelsAndGroupsByDistribution) {
  const std::string whl = dir_ + "/demo_pkg-1.0-py3-none-any.whl";
  write_zip(whl, {{"demo_pkg/libsm80.so", read_bytes(fixture("sm80.so"))}, {"demo_pkg/x.py", text("x = 1\n")}});
  auto r = run_smscan({"-t", "sm_80,sm_120", dir_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find(whl + "!demo_pkg/libsm80.so"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("demo-pkg 1.0: FAIL on sm_120 - libsm80.so:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("demo-pkg 1.0: OK on sm_80"), std::string::npos) << r.out;
}

// pip's cache keeps wheels under hashes, with no extension: a zip is known by
// its bytes, and a renamed wheel scans like the original - the same
// verdicts, --list and JSON apart from the path, its distribution read from
// its .dist-info directory. A file named .whl that is no zip stays an error.
TEST_F(Zips, ARenamedWheelScansLikeTheOriginal) {
  const std::string whl = dir_ + "/demo_pkg-1.0-py3-none-any.whl";
  write_zip(whl, {{"demo_pkg/libsm80.so", read_bytes(fixture("sm80.so"))},
                  {"demo_pkg/multi.so", read_bytes(fixture("multi.so"))},
                  {"demo_pkg/x.py", text("x = 1\n")},
                  {"demo_pkg-1.0.dist-info/METADATA", text("Name: demo-pkg\nVersion: 1.0\n")},
                  {"demo_pkg-1.0.dist-info/RECORD", text("")}});
  const std::string hashed = dir_ + "/3f9a1c0e5b7d2a64e8f0c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6";
  fs::copy_file(whl, hashed);
  auto same = [&](const std::vector<std::string>& args) {
    std::vector<std::string> a = args, b = args;
    a.push_back(whl);
    b.push_back(hashed);
    auto original = run_smscan(a), renamed = run_smscan(b);
    EXPECT_EQ(renamed.exit_code, original.exit_code) << renamed.err;
    std::string expected = original.out;
    for (size_t at; (at = expected.find(whl)) != std::string::npos;) expected.replace(at, whl.size(), hashed);
    EXPECT_EQ(renamed.out, expected) << "smscan " << args.front();
    return original;
  };
  auto table = same({"-t", "sm_80,sm_120", "--color", "never"});
  EXPECT_NE(table.out.find("demo-pkg 1.0: FAIL on sm_120"), std::string::npos) << table.out;
  auto json = same({"-t", "sm_80,sm_120", "--json"});
  EXPECT_NE(json.out.find("\"demo_pkg/multi.so\""), std::string::npos) << json.out;
  auto list = same({"--list"});
  EXPECT_NE(list.out.find("sm_80"), std::string::npos) << list.out;
  // The tree walker too: a directory holding the renamed wheel.
  const std::string cache = dir_ + "/cache";
  fs::create_directories(cache);
  fs::copy_file(whl, cache + "/body");
  auto walked = run_smscan({"-t", "sm_120", "--json", cache});
  EXPECT_NE(walked.out.find(cache + "/body!demo_pkg/libsm80.so"), std::string::npos) << walked.out;
  // Named .whl but not a zip: still an error, not "no device code".
  const std::string fake = dir_ + "/broken-1.0-py3-none-any.whl";
  std::ofstream(fake) << "<html>not found</html>\n";
  auto broken = run_smscan({"-t", "sm_120", fake});
  EXPECT_EQ(broken.exit_code, 2) << broken.out << broken.err;
  EXPECT_NE(broken.err.find("not a readable zip"), std::string::npos) << broken.err;
}

// A package of bare cubins (as flashinfer-cubin ships them, one per GPU it
// selects them for): a cubin for another GPU is N/A where another cubin of
// the package serves the target, FAIL where none does ('a' code for another
// GPU is N/A anywhere). Shared libraries
// and files of no package are judged as before.
TEST_F(Zips, BareCubinsOfAPackageAreChosenPerGpu) {
  const std::string whl = dir_ + "/cubin_pkg-1.0-py3-none-any.whl";
  write_zip(whl, {{"cubin_pkg/cubins/k_sm80.cubin", read_bytes(fixture("sm80.cubin"))},
                  {"cubin_pkg/cubins/k_sm90a.cubin", read_bytes(fixture("sm90a.cubin"))},
                  {"cubin_pkg/lib/libsm80.so", read_bytes(fixture("sm80.so"))}});
  ScanOptions with_kernels;
  with_kernels.kernels = true;
  TreeScan tree = scan_paths({whl}, with_kernels);
  ScanReport report = judge(std::move(tree), *parse_target_list("sm_80,sm_90,sm_120"));
  auto verdict = [&](const std::string& member, size_t t) {
    for (size_t i = 0; i < report.tree.files.size(); ++i)
      if (report.tree.files[i].zip_member == member) return report.verdicts[i][t];
    ADD_FAILURE() << member << " not scanned";
    return FileVerdict{};
  };
  // sm_80: the sm80 cubin serves it; the sm_90a one is for another GPU.
  EXPECT_EQ(verdict("cubin_pkg/cubins/k_sm80.cubin", 0).verdict, Verdict::kOk);
  FileVerdict other = verdict("cubin_pkg/cubins/k_sm90a.cubin", 0);
  EXPECT_EQ(other.verdict, Verdict::kNotForGpu) << other.reason;
  EXPECT_NE(other.reason.find("built only for other GPUs"), std::string::npos) << other.reason;
  EXPECT_EQ(other.containers_none, 0u);
  // sm_90: the other way round.
  EXPECT_EQ(verdict("cubin_pkg/cubins/k_sm90a.cubin", 1).verdict, Verdict::kOk);
  FileVerdict sm80_on_90 = verdict("cubin_pkg/cubins/k_sm80.cubin", 1);
  EXPECT_EQ(sm80_on_90.verdict, Verdict::kNotForGpu);
  EXPECT_NE(sm80_on_90.reason.find("1 device-code file of its package serves sm_90 (e.g. k_sm90a.cubin)"),
            std::string::npos) << sm80_on_90.reason;
  EXPECT_EQ(sm80_on_90.kernels_none, 0u);
  // Its kernel rows agree with it: n/a, not FAIL.
  for (size_t i = 0; i < report.tree.files.size(); ++i)
    if (report.tree.files[i].zip_member == "cubin_pkg/cubins/k_sm80.cubin")
      for (const auto& row : report.kernels[i]) EXPECT_EQ(row.fits[1], ContainerFit::kNotForThisGpu);
  // sm_120: no cubin of the package serves it; the sm_80 one FAILs, the
  // sm_90a one was built for one other GPU on purpose.
  EXPECT_EQ(verdict("cubin_pkg/cubins/k_sm80.cubin", 2).verdict, Verdict::kFail);
  EXPECT_EQ(verdict("cubin_pkg/cubins/k_sm90a.cubin", 2).verdict, Verdict::kNotForGpu);
  // A shared library is loaded for what it is: its FAIL on sm_90 stays.
  EXPECT_EQ(verdict("cubin_pkg/lib/libsm80.so", 1).verdict, Verdict::kFail);
  ASSERT_EQ(report.packages.size(), 1u);
  EXPECT_EQ(report.packages[0].verdicts[0], Verdict::kOk);
  EXPECT_EQ(report.packages[0].verdicts[1], Verdict::kFail);  // the .so
  EXPECT_EQ(report.packages[0].verdicts[2], Verdict::kFail);
  // The same cubins loose, in no package: each judged on its own.
  const std::string loose = dir_ + "/loose";
  std::filesystem::create_directories(loose);
  std::filesystem::copy_file(fixture("sm80.cubin"), loose + "/k_sm80.cubin");
  std::filesystem::copy_file(fixture("sm90a.cubin"), loose + "/k_sm90a.cubin");
  ScanReport alone = judge(scan_paths({loose}, {}), *parse_target_list("sm_80"));
  size_t fails = 0, not_for_gpu = 0;
  for (const auto& row : alone.verdicts) {
    fails += row[0].verdict == Verdict::kFail;
    not_for_gpu += row[0].verdict == Verdict::kNotForGpu;
  }
  EXPECT_EQ(fails, 0u);
  EXPECT_EQ(not_for_gpu, 1u);  // the sm_90a cubin: 'a' code for another GPU, on its own too
}

TEST_F(Zips, BombsAreStoppedByDeclaredAndActualSize) {
  std::vector<uint8_t> elf_zeros(64 << 20, 0);  // deflates to ~64 KiB
  std::memcpy(elf_zeros.data(), "\x7f" "ELF\x02\x01\x01", 7);
  const std::string zip_path = dir_ + "/bomb.zip";
  write_zip(zip_path, {{"lib/huge.so", elf_zeros}});
  {
    ZipLimits limits;
    limits.max_member = 1 << 20;
    ZipScan zip = scan_zip(zip_path, {}, limits);
    ASSERT_EQ(zip.self.problems.size(), 1u);
    EXPECT_NE(zip.self.problems[0].find("lib/huge.so: declares 67108864 bytes, over the 1 MiB limit"),
              std::string::npos) << zip.self.problems[0];
    EXPECT_LT(zip.inflated, uint64_t{1} << 20);
  }
  {
    ZipLimits limits;
    limits.max_total = 4 << 20;  // the ratio rule, with a small zip
    ZipScan zip = scan_zip(zip_path, {}, limits);
    ASSERT_FALSE(zip.self.problems.empty());
    EXPECT_NE(zip.self.problems[0].find("zip bomb"), std::string::npos) << zip.self.problems[0];
    EXPECT_LE(zip.inflated, (uint64_t{4} << 20) + limits.chunk);
  }
  // The same through smscan: a clear message naming the zip, exit status 2.
  auto r = run_smscan({"-t", "sm_80", zip_path});
  EXPECT_EQ(r.exit_code, 0) << "64 MiB of zeros in a 64 KiB zip is under the default ratio: " << r.err;
}

TEST_F(Zips, LyingSizeInTheHeadersIsCaught) {
  std::vector<uint8_t> elf = read_bytes(fixture("sm80.so"));
  const std::string zip_path = dir_ + "/lie.zip";
  write_zip(zip_path, {{"lib/a.so", elf}});
  // Rewrite the uncompressed size in the local and central headers to 100.
  std::vector<uint8_t> z = read_bytes(zip_path);
  const uint32_t real = static_cast<uint32_t>(elf.size());
  size_t patched = 0;
  for (size_t i = 0; i + 4 <= z.size(); ++i) {
    uint32_t v;
    std::memcpy(&v, &z[i], 4);
    if (v == real) {
      uint32_t lie = 100;
      std::memcpy(&z[i], &lie, 4);
      ++patched;
    }
  }
  ASSERT_GE(patched, 1u);
  test::write_bytes(zip_path, z);
  ZipScan zip = scan_zip(zip_path, {});
  EXPECT_TRUE(zip.members.empty());
  ASSERT_FALSE(zip.self.problems.empty());  // libarchive's own check or ours: either names the member
  EXPECT_NE(zip.self.problems[0].find("lib/a.so"), std::string::npos) << zip.self.problems[0];
}

TEST_F(Zips, NamesAreLabelsNeverPaths) {
  const std::string zip_path = dir_ + "/tricks.zip";
  write_zip(zip_path, {{"../../../tmp/smwatch-escape.so", read_bytes(fixture("sm80.so"))},
                       {"/abs/olute.so", read_bytes(fixture("sm80.so"))},
                       {"evil\x1b[31mred\n.so", read_bytes(fixture("sm80.so"))}});
  ZipScan zip = scan_zip(zip_path, {});
  ASSERT_EQ(zip.members.size(), 3u) << (zip.self.problems.empty() ? "" : zip.self.problems[0]);
  EXPECT_EQ(zip.members[0].path, zip_path + "!../../../tmp/smwatch-escape.so");
  EXPECT_EQ(zip.members[1].zip_member, "/abs/olute.so");
  EXPECT_EQ(zip.members[2].zip_member, "evil?[31mred?.so");
  EXPECT_FALSE(fs::exists("/tmp/smwatch-escape.so"));
  EXPECT_FALSE(fs::exists("/abs/olute.so"));
}

TEST_F(Zips, NestedArchivesAreNotedNotScanned) {
  const std::string inner = dir_ + "/inner-1.0-py3-none-any.whl";
  write_zip(inner, {{"inner/libsm80.so", read_bytes(fixture("sm80.so"))}});
  const std::string outer = dir_ + "/outer.zip";
  write_zip(outer, {{"wheels/inner-1.0-py3-none-any.whl", read_bytes(inner)}, {"data.bin", read_bytes(inner)}});
  ZipScan zip = scan_zip(outer, {});
  EXPECT_TRUE(zip.members.empty());
  ASSERT_EQ(zip.self.notes.size(), 2u);  // by name, and by content (data.bin starts with PK)
  EXPECT_NE(zip.self.notes[0].find("nested archive skipped: wheels/inner-1.0-py3-none-any.whl"), std::string::npos);
  EXPECT_TRUE(zip.self.problems.empty());
}

TEST_F(Zips, TruncatedAndForeignFilesAreClearErrors) {
  const std::string good = dir_ + "/good.zip";
  write_zip(good, {{"a.so", read_bytes(fixture("multi.so"))}, {"b.so", read_bytes(fixture("sm80.so"))}});
  std::vector<uint8_t> bytes = read_bytes(good);
  // Cut inside the members' data (the central directory, read first, then
  // promises more than there is), or before any member.
  for (size_t cut : {bytes.size() / 3, bytes.size() / 2, size_t{10}, size_t{0}}) {
    const std::string cut_path = dir_ + "/cut" + std::to_string(cut) + ".zip";
    test::write_bytes(cut_path, {bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut)});
    ZipScan zip = scan_zip(cut_path, {});
    EXPECT_TRUE(!zip.self.read_error.empty() || !zip.self.problems.empty()) << "cut at " << cut;
    auto r = run_smscan({"-t", "sm_80", cut_path});
    EXPECT_EQ(r.exit_code, 2) << "cut at " << cut << ": " << r.out;
    EXPECT_NE(r.err.find(cut_path), std::string::npos) << r.err;
  }
  // Cut in the central directory only: libarchive falls back to reading the
  // local headers; then both members must come out whole, or an error.
  const std::string tail_cut = dir_ + "/tailcut.zip";
  test::write_bytes(tail_cut, {bytes.begin(), bytes.end() - 30});
  ZipScan tail = scan_zip(tail_cut, {});
  EXPECT_TRUE(tail.members.size() == 2 || !tail.self.problems.empty() || !tail.self.read_error.empty());
  for (const auto& m : tail.members) EXPECT_TRUE(m.problems.empty()) << m.problems.front();

  const std::string not_zip = dir_ + "/notes.whl";
  test::write_bytes(not_zip, text("just text, not a zip\n"));
  ZipScan zip = scan_zip(not_zip, {});
  EXPECT_NE(zip.self.read_error.find("not a readable zip"), std::string::npos) << zip.self.read_error;
}

// --- installed distributions -------------------------------------------------

TEST(Packages, WheelFileNames) {
  auto t = distribution_of_wheel("/x/torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "torch");
  EXPECT_EQ(t->version, "2.5.1");
  auto s = distribution_of_wheel("sgl_kernel-0.3.21-cp310-abi3-manylinux2014_x86_64.whl");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "sgl-kernel");
  EXPECT_TRUE(distribution_of_wheel("torch-2.8.0-1-cp311-cp311-linux_x86_64.whl"));  // build tag
  EXPECT_FALSE(distribution_of_wheel("torch.whl"));
  EXPECT_FALSE(distribution_of_wheel("a-b-c.zip"));
}

class SitePackages : public ::testing::Test {
 protected:
  void SetUp() override {
    site_ = scratch_dir("site") + "/lib/python3.11/site-packages";
    fs::create_directories(site_ + "/foo/lib");
    fs::create_directories(site_ + "/bar");
    fs::copy_file(fixture("sm80.so"), site_ + "/foo/lib/libfoo.so");
    fs::copy_file(fixture("sm120.so"), site_ + "/bar/libbar.so");
    fs::copy_file(fixture("multi.so"), site_ + "/stray.so");  // in no RECORD
    write_dist("foo_pkg-1.2.dist-info", "Name: foo-pkg\nVersion: 1.2\n\nbody\n",
               "foo/lib/libfoo.so,sha256=abc,123\nfoo_pkg-1.2.dist-info/RECORD,,\n");
    // No METADATA: name and version come from the directory name; a quoted path.
    write_dist("bar-0.9.dist-info", "", "\"bar/libbar.so\",sha256=x,1\n");
  }
  void write_dist(const std::string& dir, const std::string& metadata, const std::string& record) {
    fs::create_directories(site_ + "/" + dir);
    if (!metadata.empty()) std::ofstream(site_ + "/" + dir + "/METADATA") << metadata;
    std::ofstream(site_ + "/" + dir + "/RECORD") << record;
  }
  std::string site_;
};

TEST_F(SitePackages, RecordMapsFilesToDistributions) {
  PackageIndex index;
  std::vector<std::string> problems;
  index.add_site_packages(site_, problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(index.size(), 2u);
  const Distribution* foo = index.owner_of(site_ + "/foo/../foo/lib/libfoo.so");
  ASSERT_TRUE(foo);
  EXPECT_EQ(*foo, (Distribution{"foo-pkg", "1.2"}));
  const Distribution* bar = index.owner_of(site_ + "/bar/libbar.so");
  ASSERT_TRUE(bar);
  EXPECT_EQ(*bar, (Distribution{"bar", "0.9"}));
  EXPECT_EQ(index.owner_of(site_ + "/stray.so"), nullptr);
  EXPECT_EQ(find_site_dirs({site_ + "/foo/lib"}), std::vector<std::string>{fs::canonical(site_).string()});
}

TEST_F(SitePackages, ReportGroupsByPackageWithTheFix) {
  auto r = run_smscan({"-t", "sm_80,sm_120", site_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("foo-pkg 1.2: FAIL on sm_120 - libfoo.so: no fatbin has sm_120 SASS or PTX"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("install a foo-pkg release built with CUDA 12.8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bar 0.9: FAIL on sm_80"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(files of no known package): OK on sm_80"), std::string::npos) << r.out;

  auto j = run_smscan({"--json", "-t", "sm_120", site_});
  auto doc = nlohmann::json::parse(j.out);
  ASSERT_EQ(doc["packages"].size(), 3u);
  EXPECT_EQ(doc["packages"][0]["name"], "bar");
  EXPECT_EQ(doc["packages"][1]["name"], "foo-pkg");
  EXPECT_EQ(doc["packages"][1]["verdicts"]["sm_120"]["verdict"], "FAIL");
  EXPECT_TRUE(doc["packages"][2]["name"].is_null());
}

TEST_F(SitePackages, PythonOptionAsksTheInterpreter) {
  // A stand-in interpreter: prints the site-packages it was asked for.
  const std::string python = scratch_dir("py") + "/python";
  std::ofstream(python) << "#!/bin/sh\n[ \"$1\" = -c ] || exit 3\necho '" << site_ << "'\n";
  fs::permissions(python, fs::perms::owner_all);
  auto r = run_smscan({"-t", "sm_120", "--python", python});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("foo-pkg 1.2: FAIL on sm_120"), std::string::npos) << r.out;
  auto missing = run_smscan({"-t", "sm_120", "--python", "/nonexistent/python3"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/python3"), std::string::npos) << missing.err;
  EXPECT_TRUE(fs::exists(python));
}

TEST(Fixes, PackageSpecificHintsComeFromTheGpuTable) {
  EXPECT_NE(fix_hint(120, "torch").find("https://download.pytorch.org/whl/cu128"), std::string::npos);
  EXPECT_NE(fix_hint(100, "torchvision").find("torchvision"), std::string::npos);
  EXPECT_NE(fix_hint(120, "sgl-kernel").find("sgl-kernel release built with CUDA 12.8"), std::string::npos);
  EXPECT_NE(fix_hint(110, "flashinfer").find("CUDA 13.0"), std::string::npos);
}

// --- reports -----------------------------------------------------------------

TEST(Reports, MarkdownAndHtml) {
  ScanOptions options;
  options.kernels = true;
  TreeScan tree = scan_paths({fixture("sm80.so"), fixture("multi.so")}, options, 1);
  tree.files[0].problems.push_back("a <script>alert(1)</script> | problem");
  ScanReport report = judge(std::move(tree), *parse_target_list("sm_80,sm_120"));

  std::ostringstream md;
  print_markdown(md, report);
  const std::string m = md.str();
  EXPECT_NE(m.find("| `sm_120` |"), std::string::npos) << m;
  EXPECT_NE(m.find("❌ FAIL"), std::string::npos);
  EXPECT_NE(m.find("**Fails on `sm_120`**"), std::string::npos);
  EXPECT_NE(m.find("\\|"), std::string::npos);  // a pipe cannot end a cell

  std::ostringstream html;
  print_html(html, report);
  const std::string h = html.str();
  EXPECT_TRUE(h.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(h.find("<details><summary>4 kernels"), std::string::npos);
  EXPECT_NE(h.find("class=\"v fail\""), std::string::npos);
  EXPECT_NE(h.find("void add_arrays&lt;float&gt;(float*, float const*, int)"), std::string::npos);
  EXPECT_EQ(h.find("<script>"), std::string::npos);  // escaped
  for (const char* fetch : {"src=", "href=", "url(", "@import", "<link", "<script", "<img"})
    EXPECT_EQ(h.find(fetch), std::string::npos) << fetch;  // nothing to fetch, nothing to run
}

TEST(Reports, MarkdownEscaperKeepsCellsAndCodeSpansWhole) {
  // Shared by smscan's and smwatch's Markdown reports.
  EXPECT_EQ(md_code("lib|x`y\nz\rw.so"), "`lib\\|x'y z w.so`");
  EXPECT_EQ(escape_md("lib|x`y\nz\rw.so"), "lib\\|x\\`y z w.so");
  EXPECT_EQ(escape_md(""), "");
}

// Issue 24, item 16: package names and versions, file names, problems and
// the fixes built from them make no link, image or HTML in the Markdown.
TEST(Reports, MarkdownShowsNoLinkImageOrTagFromItsInput) {
  TreeScan tree = scan_paths({fixture("sm80.so")}, ScanOptions{}, 1);
  ASSERT_EQ(tree.files.size(), 1u);
  tree.files[0].path = std::string("/venv/") + test::kMarkdownPayloads[0] + ".so";
  for (const char* p : test::kMarkdownPayloads) tree.files[0].problems.push_back(p);
  ScanReport report = judge(std::move(tree), *parse_target_list("sm_80,sm_120"));
  report.packages.push_back({Distribution{test::kMarkdownPayloads[1], test::kMarkdownPayloads[2]}, {0},
                             {Verdict::kOk, Verdict::kFail}, {0, 0}});
  std::ostringstream md;
  print_markdown(md, report);
  const std::string active = test::markdown_active_text(md.str());
  for (const char* a : test::kMarkdownActive) EXPECT_EQ(active.find(a), std::string::npos) << a << " in\n" << md.str();
  EXPECT_NE(md.str().find("onerror"), std::string::npos) << "shown, not dropped";
}

TEST(Reports, StreamedJsonIsTheDocumentToJsonBuilds) {
  // print_json writes file by file; it must be byte for byte the DOM's text,
  // with files of every sort: kernels, problems, an error, a non-UTF-8 name.
  const std::string dir = scratch_dir("json_stream");
  fs::copy_file(fixture("sm80.so"), dir + "/odd\xff\xfename.so");
  ScanOptions options;
  options.kernels = true;
  TreeScan tree = scan_paths({fixture("sm80.so"), fixture("multi.so"), fixture("librdc.a"), dir,
                              dir + "/missing.so"},
                             options, 2);
  tree.files[0].problems.push_back("a \"quoted\"\nproblem");
  ScanReport report = judge(std::move(tree), *parse_target_list("sm_80,sm_120"));
  ASSERT_GE(report.tree.files.size(), 5u);
  std::ostringstream streamed;
  print_json(streamed, report);
  EXPECT_EQ(streamed.str(), to_json(report).dump(2) + "\n");
  EXPECT_TRUE(nlohmann::json::accept(streamed.str()));

  ScanReport empty = judge(TreeScan{}, *parse_target_list("sm_120"));
  std::ostringstream none;
  print_json(none, empty);
  EXPECT_EQ(none.str(), to_json(empty).dump(2) + "\n");
}

TEST(Reports, CliWritesFilesAndFormats) {
  const std::string dir = scratch_dir("reports");
  auto r = run_smscan({"-t", "sm_120", "--html", dir + "/r.html", "--markdown", dir + "/r.md", fixture("sm80.so")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_GT(fs::file_size(dir + "/r.html"), 1000u);
  EXPECT_GT(fs::file_size(dir + "/r.md"), 100u);
  auto md = run_smscan({"--format", "markdown", "-t", "sm_120", fixture("sm80.so")});
  EXPECT_TRUE(md.out.starts_with("### smscan: ❌ FAIL")) << md.out;
  auto bad = run_smscan({"-t", "sm_120", "--html", "/nonexistent-dir/r.html", fixture("sm80.so")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("/nonexistent-dir/r.html"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace smwatch
