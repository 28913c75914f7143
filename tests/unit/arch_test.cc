// Architecture names, the GPU table and the compatibility rules of facts doc section 3.
#include <gtest/gtest.h>

#include "smwatch/arch.h"
#include "smwatch/package_fix.h"

namespace smwatch {
namespace {

TEST(ParseArch, AcceptsEveryForm) {
  struct Case { const char* text; uint16_t number; ArchVariant variant; };
  for (const Case& c : {Case{"sm_120", 120, ArchVariant::kGeneric}, Case{"120", 120, ArchVariant::kGeneric},
                        Case{"12.0", 120, ArchVariant::kGeneric}, Case{"sm_90a", 90, ArchVariant::kArchSpecific},
                        Case{"sm_100f", 100, ArchVariant::kFamilySpecific},
                        Case{"compute_80", 80, ArchVariant::kGeneric}, Case{"SM_86", 86, ArchVariant::kGeneric},
                        Case{"8.9", 89, ArchVariant::kGeneric}, Case{"10.3", 103, ArchVariant::kGeneric}}) {
    auto arch = parse_arch(c.text);
    ASSERT_TRUE(arch) << c.text << ": " << arch.error().message;
    EXPECT_EQ(arch->number, c.number) << c.text;
    EXPECT_EQ(arch->variant, c.variant) << c.text;
  }
}

TEST(ParseArch, RejectsNonsense) {
  for (const char* text : {"", "sm_", "sm_x", "12.", "1.2.3", "sm_12b", "compute_", "9", "12.10", "abc"})
    EXPECT_FALSE(parse_arch(text)) << text;
}

TEST(ParseArch, NamesRoundTrip) {
  auto arch = parse_arch("sm_90a");
  ASSERT_TRUE(arch);
  EXPECT_EQ(arch->sm_name(), "sm_90a");
  EXPECT_EQ(arch->compute_name(), "compute_90a");
  EXPECT_EQ(arch->major(), 9);
  EXPECT_EQ(arch->minor(), 0);
}

TEST(ParseTarget, GpuNames) {
  struct Case { const char* name; uint16_t cc; };
  for (const Case& c : {Case{"RTX 5090", 120}, Case{"rtx5090", 120}, Case{"NVIDIA GeForce RTX 5090", 120},
                        Case{"H100", 90}, Case{"NVIDIA H100 80GB HBM3", 0}, Case{"B200", 100}, Case{"GB10", 121},
                        Case{"RTX 4090", 89}, Case{"RTX 3080", 86}, Case{"A100", 80}, Case{"T4", 75},
                        Case{"V100", 70}, Case{"B300", 103}, Case{"Jetson Thor", 110}, Case{"L40S", 89},
                        // Turing Quadros whose numbers look like GeForce lines, Ada workstation cards
                        Case{"Quadro RTX 5000", 75}, Case{"NVIDIA Quadro RTX 4000", 75}, Case{"RTX 3000", 75},
                        Case{"RTX 5000 Ada", 89}, Case{"NVIDIA RTX 4000 Ada", 89}, Case{"RTX 5080", 120},
                        // Jetson GPUs as the driver names them
                        Case{"NVIDIA Tegra X1", 53}, Case{"NVIDIA Tegra X2", 62}, Case{"Xavier", 72}, Case{"Orin", 87},
                        Case{"Jetson Orin Nano", 87}}) {
    auto target = parse_target(c.name);
    if (c.cc == 0) {
      EXPECT_FALSE(target) << c.name;  // memory sizes are not part of the table's names
      continue;
    }
    ASSERT_TRUE(target) << c.name << ": " << target.error().message;
    EXPECT_EQ(target->cc, c.cc) << c.name;
  }
  auto unknown = parse_target("Voodoo 5");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("Voodoo 5"), std::string::npos);
}

TEST(ParseTarget, ListDeduplicates) {
  auto list = parse_target_list("sm_120, 12.0,RTX 5090,sm_90a,H100,80");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].cc, 120);
  EXPECT_EQ((*list)[1].cc, 90);
  EXPECT_EQ((*list)[2].cc, 80);
  EXPECT_FALSE(parse_target_list(" , "));
  EXPECT_FALSE(parse_target_list("sm_120,bogus"));
}

TEST(ResolveTargets, SpacesAndDuplicatesAcrossSpecs) {
  auto list = resolve_targets({" sm_90 ,  sm_120", "12.0", "H100,,80"});
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].cc, 90);
  EXPECT_EQ((*list)[0].label, "sm_90");  // the first naming is kept
  EXPECT_EQ((*list)[1].cc, 120);
  EXPECT_EQ((*list)[2].cc, 80);
  EXPECT_FALSE(resolve_targets({" , ", ""}));        // given, but naming nothing
  EXPECT_FALSE(resolve_targets({"sm_90", "bogus"}));  // one bad item fails the whole
}

TEST(ResolveTargets, NativeComesFromTheCallback) {
  auto here = [] { return Result<std::vector<Target>>(std::vector<Target>{{89, "RTX 4090"}, {90, "H100"}}); };
  auto list = resolve_targets({"sm_90,native", "native"}, here);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].label, "sm_90");
  EXPECT_EQ((*list)[1].label, "RTX 4090");
}

TEST(ResolveTargets, NativeMissingIsAnError) {
  auto none = [] { return Result<std::vector<Target>>(make_error("no NVIDIA driver")); };
  auto failed = resolve_targets({"native"}, none);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("native"), std::string::npos);
  EXPECT_NE(failed.error().message.find("no NVIDIA driver"), std::string::npos);
  auto empty = [] { return Result<std::vector<Target>>(std::vector<Target>{}); };
  EXPECT_FALSE(resolve_targets({"native"}, empty));
  // Without a callback (the image layer alone: the shim) "native" is unknown.
  EXPECT_FALSE(resolve_targets({"native"}));
  EXPECT_FALSE(parse_target_list("sm_90,native"));
}

TEST(ResolveTargets, DefaultIsThisMachineElseSm120) {
  auto none = [] { return Result<std::vector<Target>>(make_error("no NVIDIA driver")); };
  for (const auto& list : {resolve_targets({}), resolve_targets({}, none)}) {
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].cc, 120);
    EXPECT_EQ((*list)[0].cc, default_target().cc);
  }
  auto here = [] { return Result<std::vector<Target>>(std::vector<Target>{{90, "H100"}}); };
  auto list = resolve_targets({}, here);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].label, "H100");
}

TEST(GpuTable, FactsDocRows) {
  // First CUDA per CC, facts doc section 2 (CUDA 11.8 for sm_89 and sm_90).
  struct Row { uint16_t cc; const char* cuda; };
  for (const Row& r : {Row{70, "9.0"}, Row{75, "10.0"}, Row{80, "11.0"}, Row{86, "11.1"}, Row{87, "11.4"},
                       Row{89, "11.8"}, Row{90, "11.8"}, Row{100, "12.8"}, Row{103, "12.9"}, Row{110, "13.0"},
                       Row{120, "12.8"}, Row{121, "12.9"}}) {
    const GpuGeneration* gen = find_generation(r.cc);
    ASSERT_NE(gen, nullptr) << r.cc;
    EXPECT_STREQ(gen->first_cuda, r.cuda) << r.cc;
  }
  for (size_t i = 1; i < gpu_table().size(); ++i) EXPECT_LT(gpu_table()[i - 1].cc, gpu_table()[i].cc);
}

Arch A(const char* text) { return *parse_arch(text); }

TEST(Usability, SassRules) {
  // sm_XY runs on X.Z for Z >= Y, same major only.
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_80"), 80), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_80"), 86), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_80"), 89), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_86"), 80), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_90"), 100), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_90"), 120), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_120"), 121), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_100"), 103), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_121"), 120), Usability::kNone);
  // 'a': exactly one CC. 'f': the family.
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_90a"), 90), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_100a"), 103), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_120a"), 121), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_100f"), 103), Usability::kSass);
  EXPECT_EQ(usability(CodeKind::kSass, A("sm_100f"), 120), Usability::kNone);
}

TEST(Usability, PtxRules) {
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_80"), 80), Usability::kJit);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_80"), 120), Usability::kJit);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_90"), 89), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_90a"), 90), Usability::kJit);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_90a"), 100), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_100f"), 103), Usability::kJit);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_100f"), 120), Usability::kNone);
  EXPECT_EQ(usability(CodeKind::kPtx, A("compute_120"), 121), Usability::kJit);
}

TEST(FixHint, NamesTheToolkitAndTheWheelLine) {
  std::string hint = fix_hint(120);
  EXPECT_NE(hint.find("CUDA 12.8"), std::string::npos) << hint;
  EXPECT_NE(hint.find("cu128"), std::string::npos) << hint;
  EXPECT_NE(fix_hint(121).find("12.9"), std::string::npos);
  EXPECT_NE(fix_hint(999).find("sm_999"), std::string::npos);
}

// A GPU that every current PyTorch CUDA line covers (sm_75 to sm_90): the
// hint says torch's wheel is not what lacks it; a GPU with a line of its own,
// or one CUDA 13 dropped, gets that instead.
TEST(FixHint, SaysWhenEveryCurrentPytorchLineCoversTheGpu) {
  for (uint16_t cc : {75, 80, 86, 89, 90})
    EXPECT_NE(fix_hint(cc).find("PyTorch's current CUDA wheels"), std::string::npos) << cc;
  for (uint16_t cc : {61, 70, 100, 120})
    EXPECT_EQ(fix_hint(cc).find("PyTorch's current CUDA wheels"), std::string::npos) << cc;
}

}  // namespace
}  // namespace smwatch

namespace smwatch {
namespace {

TEST(FixHint, NamesTheReleaseLineThePackageIsFrom) {
  // torch 2.5.1+cu124 on an RTX 5090: say which build this is, and the line to install.
  std::string torch = fix_hint(120, "torch", "2.5.1+cu124");
  EXPECT_NE(torch.find("this is a cu124 build"), std::string::npos) << torch;
  EXPECT_NE(torch.find("whl/cu128"), std::string::npos) << torch;
  std::string cublas = fix_hint(120, "nvidia-cublas-cu12", "12.6.4.1");
  EXPECT_NE(cublas.find("pip install -U nvidia-cublas-cu12"), std::string::npos) << cublas;
  EXPECT_NE(cublas.find("CUDA 12.8"), std::string::npos) << cublas;
  // sm_70: CUDA 13 cannot build for it, so "12.x or newer" would be wrong.
  std::string volta = fix_hint(70);
  EXPECT_NE(volta.find("CUDA 9.0 to 12.x"), std::string::npos) << volta;
  EXPECT_EQ(volta.find("or newer"), std::string::npos) << volta;
  std::string volta_torch = fix_hint(70, "torch", "2.11.0");  // torch 2.11 (cu130) on a V100
  EXPECT_NE(volta_torch.find("CUDA 9.0 to 12.x"), std::string::npos) << volta_torch;
  EXPECT_EQ(volta_torch.find("or newer"), std::string::npos) << volta_torch;
}

}  // namespace
}  // namespace smwatch

namespace smwatch {
namespace {

// PTX ISA -> CUDA release (the PTX ISA manual's release history) and the
// driver forms --driver takes.
TEST(DriverJit, PtxIsaTable) {
  EXPECT_EQ(cuda_for_ptx_isa_version(9, 0), 13000);  // what nvcc 13.0 writes
  EXPECT_EQ(cuda_for_ptx_isa(8, 7), "12.8");
  EXPECT_EQ(cuda_for_ptx_isa(8, 6), "12.7");  // CUDA 12.6 wrote 8.5; 12.7 was never published
  EXPECT_EQ(cuda_for_ptx_isa(9, 9), "");
  EXPECT_EQ(linux_driver_for_cuda(12070), "570.26");  // the first published release that knows 8.6
  EXPECT_EQ(linux_driver_for_cuda(13000), "580.65.06");
}

TEST(DriverJit, ParsesCudaAndDriverVersions) {
  auto cuda = parse_driver("12.4");
  ASSERT_TRUE(cuda);
  EXPECT_EQ(cuda->cuda, 12040);
  EXPECT_FALSE(cuda->at_least);
  auto r570 = parse_driver("570.86");
  ASSERT_TRUE(r570);
  EXPECT_EQ(r570->cuda, 12080);
  auto r580 = parse_driver("580.65.06");
  ASSERT_TRUE(r580);
  EXPECT_EQ(r580->cuda, 13000);
  EXPECT_FALSE(r580->at_least);
  auto r590 = parse_driver("590.44.01");  // a branch newer than the table
  ASSERT_TRUE(r590);
  EXPECT_EQ(r590->cuda, 13000);
  EXPECT_TRUE(r590->at_least);
  for (const char* bad : {"", "12", "banana", "12.8x", "200.1", "1.2.3.4", "440.33"}) EXPECT_FALSE(parse_driver(bad)) << bad;
}

TEST(DriverJit, PtxNewerThanTheDriverIsRefused) {
  EXPECT_EQ(driver_jits({}, 9, 0), DriverJit::kUnknown);
  EXPECT_EQ(driver_jits(*parse_driver("12.4"), 9, 0), DriverJit::kNo);
  EXPECT_EQ(driver_jits(*parse_driver("12.4"), 8, 4), DriverJit::kYes);
  EXPECT_EQ(driver_jits(*parse_driver("13.0"), 9, 0), DriverJit::kYes);
  EXPECT_EQ(driver_jits(*parse_driver("13.0"), 9, 9), DriverJit::kNo);   // newer than every known ISA
  EXPECT_EQ(driver_jits(*parse_driver("590.44.01"), 9, 1), DriverJit::kUnknown);  // may know it
  EXPECT_EQ(driver_jits(*parse_driver("575.51.03"), 9, 0), DriverJit::kNo);
  EXPECT_EQ(driver_fix(9, 0), "install an NVIDIA driver for CUDA 13.0 or newer (Linux: 580.65.06 or newer)");
}

}  // namespace
}  // namespace smwatch
