// smscan as a user runs it: output, JSON, exit codes and messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace smwatch {
namespace {

using test::fixture;
using test::run_smscan;

TEST(Cli, TableVerdictsAndExitCodes) {
  auto ok = run_smscan({"-t", "sm_80,sm_86", fixture("sm80.so")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("sm80.so"), std::string::npos);

  auto fail = run_smscan({"-t", "RTX 5090", fixture("sm80.so"), fixture("sm120.so")});
  EXPECT_EQ(fail.exit_code, 1) << fail.err;
  EXPECT_NE(fail.out.find("FAIL"), std::string::npos);
  EXPECT_NE(fail.out.find("no kernel image is available"), std::string::npos);
  EXPECT_NE(fail.out.find("CUDA 12.8"), std::string::npos) << fail.out;  // the fix

  auto jit = run_smscan({"-t", "sm_120", fixture("ptx80.so")});
  EXPECT_EQ(jit.exit_code, 0);
  EXPECT_NE(jit.out.find("JIT"), std::string::npos);
}

// PTX newer than the driver (nvcc 13.0 writes PTX ISA 9.0, CUDA 13.0): a
// driver for CUDA 12.4 cannot JIT it (error 222), so compute_80-only code
// fails on every GPU, with the driver to install named; a CUDA 13.0 driver
// JITs it; an unknown driver changes nothing.
TEST(Cli, PtxNewerThanTheDriverFails) {
  for (const char* file : {"ptx80.so", "sm80.ptx"}) {
    auto old_driver = run_smscan({"-t", "sm_90", "--driver", "12.4", "--color", "never", fixture(file)});
    EXPECT_EQ(old_driver.exit_code, 1) << file << old_driver.out << old_driver.err;
    EXPECT_NE(old_driver.out.find("FAIL"), std::string::npos) << old_driver.out;
    EXPECT_NE(old_driver.out.find("of ISA 9.0 (CUDA 13.0), which this driver (12.4) cannot compile: error 222"),
              std::string::npos) << old_driver.out;
    EXPECT_NE(old_driver.out.find("fix: install an NVIDIA driver for CUDA 13.0 or newer (Linux: 580.65.06 or newer)"),
              std::string::npos) << old_driver.out;
    // The headline names the error these launches really get (222), not 209.
    EXPECT_NE(old_driver.out.find("will fail at the first launch with error 222 (\"the provided PTX was compiled with an "
                                  "unsupported toolchain\")"),
              std::string::npos) << old_driver.out;
    EXPECT_EQ(old_driver.out.find("no kernel image is available"), std::string::npos) << old_driver.out;
    for (const char* ok : {"13.0", "580.65.06", "590.44.01"}) {
      auto new_driver = run_smscan({"-t", "sm_90", "--driver", ok, fixture(file)});
      EXPECT_EQ(new_driver.exit_code, 0) << file << " " << ok << new_driver.out;
      EXPECT_NE(new_driver.out.find("JIT"), std::string::npos) << new_driver.out;
    }
    auto unknown = run_smscan({"-t", "sm_90", fixture(file)});
    EXPECT_EQ(unknown.exit_code, 0) << unknown.out;
    auto r575 = run_smscan({"-t", "sm_90", "--driver", "575.51.03", "--json", fixture(file)});
    EXPECT_EQ(r575.exit_code, 1) << r575.out;
    auto doc = nlohmann::json::parse(r575.out);
    EXPECT_EQ(doc["summary"]["targets"]["sm_90"]["fix"],
              "install an NVIDIA driver for CUDA 13.0 or newer (Linux: 580.65.06 or newer)");
  }
  // Files failing for both reasons: the headline names both errors.
  auto mixed = run_smscan({"-t", "sm_90", "--driver", "12.4", "--color", "never", fixture("ptx80.so"), fixture("sm80.so")});
  EXPECT_EQ(mixed.exit_code, 1) << mixed.out;
  EXPECT_NE(mixed.out.find("2 files will fail at the first launch with \"no kernel image is available for execution on "
                           "the device\" or, where only PTX newer than the driver is there, error 222"),
            std::string::npos) << mixed.out;
  // SASS for the GPU does not need the driver to compile anything.
  auto sass = run_smscan({"-t", "sm_80", "--driver", "12.4", fixture("sm80.so")});
  EXPECT_EQ(sass.exit_code, 0) << sass.out;
  auto bad = run_smscan({"-t", "sm_90", "--driver", "banana", fixture("ptx80.so")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--driver banana"), std::string::npos) << bad.err;
}

TEST(Cli, JsonReport) {
  auto r = run_smscan({"--json", "-t", "sm_80,sm_120", fixture("multi.so"), fixture("sm80.so")});
  EXPECT_EQ(r.exit_code, 1);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["schema"], "smwatch.scan/1");
  ASSERT_EQ(doc["targets"].size(), 2u);
  EXPECT_EQ(doc["targets"][1]["arch"], "sm_120");
  ASSERT_EQ(doc["files"].size(), 2u);
  for (const auto& f : doc["files"]) {
    if (f["path"].get<std::string>().ends_with("sm80.so")) {
      EXPECT_EQ(f["verdicts"]["sm_80"]["verdict"], "OK");
      EXPECT_EQ(f["verdicts"]["sm_120"]["verdict"], "FAIL");
    } else {
      EXPECT_EQ(f["verdicts"]["sm_120"]["verdict"], "JIT");
      EXPECT_GE(f["containers"].size(), 2u);
    }
  }
  EXPECT_EQ(doc["summary"]["targets"]["sm_120"]["verdict"], "FAIL");
  EXPECT_TRUE(doc["summary"]["targets"]["sm_120"].contains("fix"));
  EXPECT_EQ(doc["exit_code"], 1);
}

TEST(Cli, DirectoryCountsFilesWithoutDeviceCode) {
  auto r = run_smscan({"--json", "-t", "sm_90", SMWATCH_FIXTURE_DIR});
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_GE(doc["summary"]["files_with_device_code"].get<int>(), 20);
  EXPECT_GE(doc["summary"]["files_without_device_code"].get<int>(), 0);
}

TEST(Cli, UsageErrors) {
  auto missing = run_smscan({"-t", "sm_80", "/nonexistent/libfoo.so"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/libfoo.so"), std::string::npos) << missing.err;

  auto bad_target = run_smscan({"-t", "sm_12x", fixture("sm80.so")});
  EXPECT_EQ(bad_target.exit_code, 2);
  EXPECT_NE(bad_target.err.find("sm_12x"), std::string::npos) << bad_target.err;

  auto no_args = run_smscan({});
  EXPECT_EQ(no_args.exit_code, 2);

  auto help = run_smscan({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos);
}

TEST(Cli, NativeWithoutAGpuIsAClearError) {
  if (access("/dev/nvidia0", F_OK) == 0) GTEST_SKIP() << "this machine has a GPU";
  auto r = run_smscan({"-t", "native", fixture("sm80.so")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("native"), std::string::npos) << r.err;
}

TEST(Cli, TargetListsReadLikeTheOtherCommands) {
  // The same resolver as smwatch run and doctor: spaces after commas,
  // repeated targets once.
  auto spaced = run_smscan({"-t", "sm_90, sm_120", fixture("sm80.so")});
  EXPECT_EQ(spaced.exit_code, 1) << spaced.err;  // sm_80 code FAILs on both
  EXPECT_NE(spaced.out.find("sm_90"), std::string::npos);
  EXPECT_NE(spaced.out.find("sm_120"), std::string::npos);
  auto once = run_smscan({"-t", "sm_90", "-t", "9.0,H100", fixture("sm80.so")});
  EXPECT_EQ(once.out, run_smscan({"-t", "sm_90", fixture("sm80.so")}).out);
}

TEST(Cli, ListMatchesCuobjdumpNaming) {
  // Full cuobjdump equality runs in tests/cuobjdump_diff.sh; this checks the
  // naming rules that were measured against it.
  auto r = run_smscan({"--list", fixture("sm80.cubin")});
  EXPECT_EQ(r.out, "ELF file    1: sm80.sm_80.cubin\n");
  auto f = run_smscan({"--list", fixture("family.so")});
  EXPECT_NE(f.out.find("family.1.sm_100.cubin"), std::string::npos) << f.out;  // no 'f' on ELF names
  EXPECT_NE(f.out.find(".sm_100f.ptx"), std::string::npos) << f.out;
}

}  // namespace
}  // namespace smwatch
