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
    {"sm90a.so", {"FAIL", "FAIL", "FAIL", "OK", "FAIL", "FAIL", "FAIL"}},
    {"sm120.so", {"FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "OK", "OK"}},
    {"multi.so", MULTI},
    {"family.so", {"FAIL", "FAIL", "FAIL", "FAIL", "OK", "FAIL", "FAIL"}},
    {"multi_none.fatbin", MULTI},
    {"multi_default.fatbin", MULTI},
    {"multi_size.fatbin", MULTI},
    {"multi_speed.fatbin", MULTI},
    {"multi_balance.fatbin", MULTI},
    {"multi_all.fatbin", MULTI},
    {"multi_speed_all.fatbin", MULTI},
    {"sm80.fatbin", {"OK", "OK", "OK", "FAIL", "FAIL", "FAIL", "FAIL"}},
    {"sm80.cubin", {"OK", "OK", "OK", "FAIL", "FAIL", "FAIL", "FAIL"}},
    {"sm90a.cubin", {"FAIL", "FAIL", "FAIL", "OK", "FAIL", "FAIL", "FAIL"}},
    {"sm120.cubin", {"FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "OK", "OK"}},
    {"sm80.ptx", {"JIT", "JIT", "JIT", "JIT", "JIT", "JIT", "JIT"}},
    {"sm90a.ptx", {"FAIL", "FAIL", "FAIL", "JIT", "FAIL", "FAIL", "FAIL"}},
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
  // On 9.0 the sm_90a fatbin serves and the generic one (sm_80 SASS) does
  // not: PARTIAL, not FAIL, since something in the file runs there.
  EXPECT_EQ(judge_code(scan.containers, 90).verdict, Verdict::kPartial);
  EXPECT_EQ(judge_code(std::vector<FatbinContainer>{generic}, 90).verdict, Verdict::kFail);
}

}  // namespace
}  // namespace smwatch
