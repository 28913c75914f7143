// The full verdict matrix: every fixture against sm_80, sm_86, sm_89, sm_90,
// sm_100, sm_120 and sm_121. Expectations follow from how each fixture was
// built (tests/fixtures/CMakeLists.txt) and the rules of facts doc section 3.
#include <gtest/gtest.h>

#include "smwatch/verdict.h"
#include "test_support.h"

namespace smwatch {
namespace {

constexpr uint16_t kTargets[] = {80, 86, 89, 90, 100, 120, 121};

struct Row {
  const char* file;
  const char* verdicts[7];  // in kTargets order
};

// multi: sm_75, sm_80, sm_90 + compute_90 PTX, sm_100a.
#define MULTI {"OK", "OK", "OK", "OK", "OK", "JIT", "JIT"}
const Row kMatrix[] = {
    {"sm80.so", {"OK", "OK", "OK", "FAIL", "FAIL", "FAIL", "FAIL"}},
    {"ptx80.so", {"JIT", "JIT", "JIT", "JIT", "JIT", "JIT", "JIT"}},
    {"sm90a.so", {"N/A", "N/A", "N/A", "OK", "N/A", "N/A", "N/A"}},  // 'a' code: built for one GPU on purpose
    {"sm120.so", {"FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "OK", "OK"}},
    {"multi.so", MULTI},
    {"family.so", {"N/A", "N/A", "N/A", "N/A", "OK", "N/A", "N/A"}},
    {"multi_none.fatbin", MULTI},
    {"multi_default.fatbin", MULTI},
    {"multi_size.fatbin", MULTI},
    {"multi_speed.fatbin", MULTI},
    {"multi_balance.fatbin", MULTI},
    {"multi_all.fatbin", MULTI},
    {"multi_speed_all.fatbin", MULTI},
    {"sm80.fatbin", {"OK", "OK", "OK", "FAIL", "FAIL", "FAIL", "FAIL"}},
    {"sm80.cubin", {"OK", "OK", "OK", "FAIL", "FAIL", "FAIL", "FAIL"}},
    {"sm90a.cubin", {"N/A", "N/A", "N/A", "OK", "N/A", "N/A", "N/A"}},
    {"sm120.cubin", {"FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "OK", "OK"}},
    {"sm80.ptx", {"JIT", "JIT", "JIT", "JIT", "JIT", "JIT", "JIT"}},
    {"sm90a.ptx", {"N/A", "N/A", "N/A", "JIT", "N/A", "N/A", "N/A"}},
    // libkernels.a: one object with sm_80 + compute_80, one with sm_90 only:
    // PARTIAL wherever one of the two has code and the other none.
    {"libkernels.a", {"PARTIAL", "PARTIAL", "PARTIAL", "JIT", "PARTIAL", "PARTIAL", "PARTIAL"}},
    {"librdc.a", {"FAIL", "FAIL", "FAIL", "OK", "FAIL", "FAIL", "FAIL"}},
};
#undef MULTI

TEST(VerdictMatrix, EveryFixtureEveryTarget) {
  for (const Row& row : kMatrix) {
    FileScan scan = scan_file(test::fixture(row.file), {});
    ASSERT_TRUE(scan.has_device_code()) << row.file;
    ASSERT_TRUE(scan.problems.empty()) << row.file << ": " << scan.problems.front();
    for (size_t t = 0; t < std::size(kTargets); ++t) {
      FileVerdict v = judge_code(scan.containers, kTargets[t]);
      EXPECT_STREQ(verdict_name(v.verdict), row.verdicts[t]) << row.file << " on sm_" << kTargets[t];
      if (v.verdict != Verdict::kOk) {
        EXPECT_FALSE(v.reason.empty()) << row.file;
      }
    }
  }
}

TEST(VerdictMatrix, SpecializedContainersAreNotFailuresWhenGenericCodeServes) {
  // A library whose generic fatbins have sm_80 SASS and which also ships an
  // sm_90a-only fatbin (as cuBLASLt and torch do) is OK on sm_80.
  FileScan scan;
  FatbinContainer generic, special;
  FatbinImage sass80;
  sass80.arch = Arch{80, ArchVariant::kGeneric};
  generic.images.push_back(sass80);
  FatbinImage sass90a;
  sass90a.arch = Arch{90, ArchVariant::kArchSpecific};
  special.images.push_back(sass90a);
  scan.containers = {generic, special};
  FileVerdict v = judge_code(scan.containers, 80);
  EXPECT_EQ(v.verdict, Verdict::kOk);
  EXPECT_EQ(v.containers_not_for_gpu, 1u);
  // On 9.0 only the sm_90a extra serves; the file's main code (built for
  // sm_80 only) has nothing for it: a masked failure, FAIL, not PARTIAL.
  FileVerdict v90 = judge_code(scan.containers, 90);
  EXPECT_EQ(v90.verdict, Verdict::kFail) << v90.reason;
  EXPECT_NE(v90.reason.find("main code (1 fatbin built for sm_80) has nothing for sm_90"), std::string::npos)
      << v90.reason;
  EXPECT_EQ(judge_code(std::vector<FatbinContainer>{generic}, 90).verdict, Verdict::kFail);
  // The 'a' fatbin alone on sm_80: built for another GPU on purpose, N/A.
  FileVerdict alone = judge_code(std::vector<FatbinContainer>{special}, 80);
  EXPECT_EQ(alone.verdict, Verdict::kNotForGpu);
  EXPECT_STREQ(verdict_name(alone.verdict), "N/A");
}

// PARTIAL means the main code serves the GPU. cuBLASLt's pattern: main
// fatbins for sm_75 .. sm_120, per-family extras (sm_80 only): PARTIAL on
// sm_90. vllm's _C_stable_libtorch pattern on sm_110: main fatbins for sm_75
// .. sm_120 without PTX, one extra with compute_80 PTX: FAIL, since the main
// code has nothing for 11.x, even though one fatbin can JIT there.
TEST(VerdictMatrix, PartialOnlyWhenTheMainCodeServes) {
  auto container = [](std::initializer_list<Arch> sass, std::initializer_list<Arch> ptx) {
    FatbinContainer c;
    for (Arch a : sass) {
      FatbinImage i;
      i.arch = a;
      c.images.push_back(i);
    }
    for (Arch a : ptx) {
      FatbinImage i;
      i.kind = CodeKind::kPtx;
      i.arch = a;
      c.images.push_back(i);
    }
    return c;
  };
  const Arch s75{75}, s80{80}, s90{90}, s100{100}, s120{120};
  const std::vector<FatbinContainer> cublaslt = {container({s75, s80, s90, s100, s120}, {}),
                                                 container({s75, s80, s90, s100, s120}, {}),
                                                 container({s80}, {})};
  FileVerdict on90 = judge_code(cublaslt, 90);
  EXPECT_EQ(on90.verdict, Verdict::kPartial);
  EXPECT_NE(on90.reason.find("they fail if called on it; 2 fatbins built for its full arch list (sm_75 .. sm_120) "
                             "serve it"), std::string::npos) << on90.reason;
  EXPECT_EQ(on90.reason.find("real gap"), std::string::npos) << on90.reason;
  // Most of a file without code for the GPU (torch 2.15's MAGMA-based
  // libtorch_cuda_linalg on sm_75) is called a gap, never "not called".
  const std::vector<FatbinContainer> linalg = {container({s75, s80, s90, s100, s120}, {}), container({s80}, {}),
                                               container({s80}, {}), container({s80}, {})};
  FileVerdict on75 = judge_code(linalg, 75);
  EXPECT_EQ(on75.verdict, Verdict::kPartial);
  EXPECT_NE(on75.reason.find("(most of the file: a real gap unless the library avoids these kernels there)"),
            std::string::npos) << on75.reason;
  EXPECT_EQ(judge_code(cublaslt, 103).verdict, Verdict::kPartial);  // sm_100 SASS runs on 10.3
  std::vector<FatbinContainer> vllm = cublaslt;
  vllm.push_back(container({s80}, {s80}));  // the one PTX-carrying extra
  FileVerdict v110 = judge_code(vllm, 110);
  EXPECT_EQ(v110.verdict, Verdict::kFail) << v110.reason;
  EXPECT_NE(v110.reason.find("main code (2 fatbins built for sm_75 .. sm_120) has nothing for sm_110"),
            std::string::npos) << v110.reason;
  EXPECT_EQ(judge_code(vllm, 90).verdict, Verdict::kPartial);  // the main code serves 9.0
  // When the main code itself carries the PTX, it serves: JIT, not FAIL.
  std::vector<FatbinContainer> with_ptx = {container({s75, s80, s90, s100, s120}, {s75}), container({s80}, {})};
  EXPECT_EQ(judge_code(with_ptx, 110).verdict, Verdict::kPartial);
  // No generic SASS at all (PTX only): no main list to judge by; PARTIAL as before.
  std::vector<FatbinContainer> ptx_only = {container({}, {s80}), container({}, {s90})};
  EXPECT_EQ(judge_code(ptx_only, 86).verdict, Verdict::kPartial);
}

}  // namespace
}  // namespace smwatch
