// Package facts (docs/package-facts.md): each built-in fact changes a verdict
// for its package inside its version range and for no other version; the
// table parses and every fact has a source; the judge names the fact; a
// masked failure (docs/verdicts.md) FAILs. Wheels are written here from the
// nvcc fixtures.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "smwatch/package_facts.h"
#include "smwatch/package_fix.h"
#include "smwatch/report.h"
#include "test_support.h"
#include "zip_writer.h"

namespace smwatch {
namespace {

using test::fixture;
using test::read_bytes;
using test::run_smscan;
using test::scratch_dir;

std::string pkg_fixture(const std::string& name) { return std::string(SMWATCH_PKG_FIXTURE_DIR) + "/" + name; }

// The lower bound of a range such as ">=0.3.21,<0.4": a version inside it.
std::string first_version(const std::string& range) {
  const size_t at = range.find(">=");
  if (at == std::string::npos) return "";
  return range.substr(at + 2, range.find(',', at) - at - 2);
}

// "sgl_kernel/sm90/*" -> "sgl_kernel/sm90/x.so"; "lib_cuda*.so" -> "lib_cuda<fill>.so".
std::string member_for(const std::string& glob, const std::string& fill = "x.so") {
  std::string out = glob;
  const size_t star = out.find('*');
  if (star != std::string::npos) out.replace(star, 1, fill);
  return out;
}

std::string wheel_name(const std::string& dir, const std::string& package, const std::string& version) {
  std::string name = package;
  for (char& c : name)
    if (c == '-') c = '_';
  return dir + "/" + name + "-" + version + "-py3-none-any.whl";
}

const FileVerdict* verdict_of_member(const ScanReport& report, const std::string& member, size_t t) {
  for (size_t i = 0; i < report.tree.files.size(); ++i)
    if (report.tree.files[i].zip_member == member) return &report.verdicts[i][t];
  return nullptr;
}

ScanReport judge_wheel(const std::string& whl, const std::string& target, const std::vector<PackageFact>& facts,
                       const std::string& torch_cuda = "") {
  JudgeOptions options;
  options.facts = &facts;
  options.torch_cuda = torch_cuda;
  ScanOptions scan;
  scan.kernels = true;
  return judge(scan_paths({whl}, scan), *parse_target_list(target), options);
}

TEST(PackageFacts, TheBuiltInTableParsesAndEveryFactHasASource) {
  const auto& facts = builtin_package_facts();
  ASSERT_GE(facts.size(), 11u);  // parse errors would leave it empty
  for (const auto& f : facts) {
    EXPECT_TRUE(f.source.starts_with("https://")) << f.id;
    EXPECT_FALSE(f.says.empty()) << f.id;
    EXPECT_FALSE(f.checked.empty()) << f.id;
    EXPECT_FALSE(first_version(f.versions).empty()) << f.id << ": a range with a lower bound";
    EXPECT_TRUE(version_in_range(first_version(f.versions), f.versions)) << f.id;
  }
}

TEST(PackageFacts, BadTablesAreRejectedNamingTheFact) {
  auto err = [](const std::string& facts) {
    auto r = parse_package_facts(R"({"schema": "smwatch.package-facts/2", "facts": [)" + facts + "]}");
    return r ? std::string("accepted") : r.error().message;
  };
  const std::string base = R"("id": "p/x", "package": "p", "versions": ">=1.0", "files": ["p/*"], )"
                           R"("says": "s", "source": "https://example.org")";
  EXPECT_EQ(err("{" + base + R"(, "used_on": ["9.0"]})"), "accepted");
  EXPECT_NE(err("{" + base + "}").find("(p/x): needs exactly one effect"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(, "used_on": ["nine"]})").find("(p/x): 'used_on'"), std::string::npos);
  EXPECT_NE(err(R"({"id": "p/y", "package": "p", "versions": "latest", "files": ["p/*"], "says": "s",)"
                R"( "source": "u", "used_on": ["9.0"]})").find("(p/y): \"versions\""), std::string::npos);
  EXPECT_NE(err("{" + base + R"(, "used_on": ["9.0"]}, {)" + base + R"(, "used_on": ["8.x"]})")
                .find("the id is used twice"), std::string::npos);
  EXPECT_FALSE(parse_package_facts("[]"));
  EXPECT_FALSE(parse_package_facts(R"({"schema": "other", "facts": []})"));
}

// The tables of package fixes (torch_builds, wheel_indexes, cuda_major_wheels):
// the built-in ones parse, each row has a source, and a row without one, or
// with a field wrong, is refused naming the table and the row.
TEST(PackageFixes, BuiltInTablesParseAndEveryRowHasASource) {
  const PackageFixes& fixes = builtin_package_fixes();  // parse errors would leave it empty
  EXPECT_FALSE(fixes.torch_builds.empty());
  EXPECT_FALSE(fixes.wheel_indexes.empty());
  EXPECT_FALSE(fixes.cuda_major_wheels.empty());
  for (const auto& b : fixes.torch_builds) EXPECT_FALSE(b.source.empty()) << b.line;
  for (const auto& w : fixes.wheel_indexes) EXPECT_TRUE(w.source.starts_with("https://")) << w.index;
  for (const auto& m : fixes.cuda_major_wheels) EXPECT_TRUE(m.source.starts_with("https://")) << m.prefix;
}

TEST(PackageFixes, RowsWithoutASourceAreRefusedNamingTheRow) {
  const std::string indexes = R"("wheel_indexes": [{"packages": ["torch"], "index": "https://i/", "says": "s", "source": "u"}])";
  const std::string majors = R"("cuda_major_wheels": [{"prefix": "nvidia-", "says": "s", "source": "u"}])";
  auto err = [&](const std::string& builds, const std::string& rest) {
    auto r = parse_package_fixes("{\"torch_builds\": [" + builds + "], " + rest + "}");
    return r ? std::string("accepted") : r.error().message;
  };
  const std::string good = R"({"line": "cu128", "torch": "2.8", "cc_min": 70, "cc_max": 120, "source": "u"})";
  EXPECT_EQ(err(good, indexes + ", " + majors), "accepted");
  EXPECT_EQ(err(good + R"(, {"line": "cu130", "torch": "2.9", "cc_min": 75, "cc_max": 121})", indexes + ", " + majors),
            "package facts: torch_builds[1]: needs a string \"source\"");
  EXPECT_EQ(err(good, R"("wheel_indexes": [{"packages": ["torch"], "index": "https://i/", "says": "s"}], )" + majors),
            "package facts: wheel_indexes[0]: needs a string \"source\"");
  EXPECT_EQ(err(good, indexes + R"(, "cuda_major_wheels": [{"prefix": "nvidia-", "says": "s", "source": ""}])"),
            "package facts: cuda_major_wheels[0]: \"source\" must be a non-empty string");
  EXPECT_EQ(err(R"({"line": "cuda", "torch": "2.8", "cc_min": 70, "cc_max": 120, "source": "u"})", indexes + ", " + majors),
            "package facts: torch_builds[0]: \"line\": 'cuda' is not a CUDA line such as \"cu128\"");
  EXPECT_EQ(err(R"({"line": "cu128", "torch": "2.8", "cc_min": 120, "cc_max": 70, "source": "u"})", indexes + ", " + majors),
            "package facts: torch_builds[0]: cc_min is above cc_max");
  EXPECT_EQ(err(good, indexes), "package facts: needs a non-empty \"cuda_major_wheels\" list");
}

// Coverage follows the compatibility rules over the GPU table: a line covers
// a later minor of its newest architecture (sm_120 SASS runs on 12.1), but
// not a GPU inside its range that its CUDA cannot build for (sm_110, first
// built by CUDA 13.0, in a cu128 build that spans sm_70..sm_120).
TEST(PackageFixes, WhichLineIncludesAGpuFollowsTheCompatibilityRules) {
  const TorchBuild cu128{.line = "cu128", .torch = "2.8", .cc_min = 70, .cc_max = 120, .source = "u"};
  EXPECT_TRUE(torch_build_includes(cu128, 120));
  EXPECT_TRUE(torch_build_includes(cu128, 121));
  EXPECT_TRUE(torch_build_includes(cu128, 103));
  EXPECT_FALSE(torch_build_includes(cu128, 110));
  EXPECT_FALSE(torch_build_includes(cu128, 61));
  PackageFixes fixes;
  fixes.torch_builds = {{.line = "cu126", .torch = "2.6", .cc_min = 50, .cc_max = 90, .source = "u"}, cu128,
                        {.line = "cu130", .torch = "2.9", .cc_min = 75, .cc_max = 121, .source = "u"}};
  fixes.wheel_indexes = {{.packages = {"torch"}, .index = "https://example.org/whl/", .says = "s", .source = "u"}};
  EXPECT_EQ(oldest_torch_line(120, fixes), "cu128");
  EXPECT_EQ(oldest_torch_line(110, fixes), "cu130");
  EXPECT_EQ(oldest_torch_line(90, fixes), "") << "every line includes it: nothing to choose";
  EXPECT_EQ(oldest_torch_line(61, fixes), "") << "the newest line does not include it";
  EXPECT_NE(fix_hint(120, fixes).find("pip install torch --index-url https://example.org/whl/cu128"), std::string::npos);
  EXPECT_NE(fix_hint(90, fixes).find("PyTorch's current CUDA wheels (cu126, cu128, cu130) all run on sm_90"), std::string::npos);
  EXPECT_NE(fix_hint(120, "torch", "2.5.1+cu124", fixes).find("this is a cu124 build"), std::string::npos);
  // Without the table's rows, nothing is said of PyTorch or of NVIDIA's wheels.
  EXPECT_EQ(fix_hint(120, PackageFixes{}).find("PyTorch"), std::string::npos);
  EXPECT_EQ(fix_hint(120, "nvidia-cublas-cu12", "12.6", fixes).find("pip install -U"), std::string::npos);
}

TEST(PackageFacts, VersionRangesAndComputeCapabilities) {
  EXPECT_TRUE(version_in_range("0.3.21", ">=0.3.21,<0.4"));
  EXPECT_TRUE(version_in_range("0.3.21.post1", ">=0.3.21,<0.4"));
  EXPECT_TRUE(version_in_range("2.9.1+cu128", ">=2.9,<3"));
  EXPECT_FALSE(version_in_range("0.3.20", ">=0.3.21,<0.4"));
  EXPECT_FALSE(version_in_range("0.4", ">=0.3.21,<0.4"));
  EXPECT_FALSE(version_in_range("0.4.0", ">=0.3.21,<0.4"));
  EXPECT_TRUE(version_in_range("0.10.0", ">=0.9"));  // numeric, not text, comparison
  EXPECT_TRUE(version_in_range("anything", ""));
  EXPECT_EQ(cuda_digits("12.8"), "128");
  EXPECT_EQ(cuda_digits("13.0"), "130");
}

// The heart of it: for every built-in fact, a wheel of its package holding
// one file its globs name, built so that it FAILs on a GPU where the fact
// says the package does not use it. Inside the range the fact makes it N/A
// and the verdict names the fact; without facts, and at a version outside
// the range, it FAILs.
TEST(PackageFacts, EachFactChangesAVerdictInsideItsRangeOnly) {
  const std::string dir = scratch_dir("facts");
  const auto& facts = builtin_package_facts();
  for (const PackageFact& fact : facts) {
    SCOPED_TRACE(fact.id);
    // A GPU where the fact says "not used" and the sm_80 fixture has no code.
    std::string target;
    std::vector<Member> members;
    std::string member;
    if (fact.chosen_by_torch_cuda) {
      // Two libraries for two CUDA versions: sm_80 only, and sm_120. With
      // torch's CUDA unknown, the sm_80 one is N/A on sm_120 (its sibling
      // serves); with torch built with its CUDA version, it stays FAIL.
      member = member_for(fact.files.front(), "118");
      members = {{member, read_bytes(fixture("sm80.so"))},
                 {member_for(fact.files.front(), "128"), read_bytes(fixture("sm120.so"))}};
      target = "sm_120";
    } else {
      for (uint16_t cc : {75, 90, 120, 86}) {
        auto matches = [&](const std::vector<CcPattern>& l) {
          return std::any_of(l.begin(), l.end(), [&](const CcPattern& p) { return p.matches(cc); });
        };
        const bool used = fact.compiled_at_first_use ? false
                          : !fact.used_on.empty()    ? matches(fact.used_on)
                                                     : !matches(fact.not_used_on);
        const bool sm80_runs = cc / 10 == 8;
        if (!used && !sm80_runs) {
          target = "sm_" + std::to_string(cc);
          break;
        }
      }
      ASSERT_FALSE(target.empty());
      member = member_for(fact.files.front());
      members = {{member, read_bytes(fixture("sm80.so"))}};
    }
    const std::string version = first_version(fact.versions);
    const std::string whl = wheel_name(dir, fact.package, version);
    write_zip(whl, members);

    ScanReport with = judge_wheel(whl, target, facts);
    const FileVerdict* v = verdict_of_member(with, member, 0);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->verdict, Verdict::kNotForGpu) << v->reason;
    EXPECT_EQ(v->fact, fact.id);
    EXPECT_NE(v->reason.find("[package fact " + fact.id + "]"), std::string::npos) << v->reason;
    ASSERT_EQ(with.facts_used.size(), 1u);
    EXPECT_EQ(with.facts_used[0].id, fact.id);
    // Its kernel rows agree: every kernel is n/a there.
    for (size_t i = 0; i < with.tree.files.size(); ++i)
      if (with.tree.files[i].zip_member == member)
        for (const auto& row : with.kernels[i]) EXPECT_EQ(row.fits[0], ContainerFit::kNotForThisGpu);

    ScanReport without = judge_wheel(whl, target, {});
    EXPECT_EQ(verdict_of_member(without, member, 0)->verdict, Verdict::kFail);

    // The same wheel at a version outside the range: the fact does not apply.
    const std::string old_whl = wheel_name(dir, fact.package, "0.0.1");
    std::filesystem::copy_file(whl, old_whl, std::filesystem::copy_options::overwrite_existing);
    ScanReport outside = judge_wheel(old_whl, target, facts);
    const FileVerdict* o = verdict_of_member(outside, member, 0);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->verdict, Verdict::kFail) << o->reason;
    EXPECT_TRUE(outside.facts_used.empty());
    std::filesystem::remove(old_whl);

    if (fact.chosen_by_torch_cuda) {
      // torch built with CUDA 11.8 loads the cuda118 library: its FAIL on
      // sm_120 stays, and the cuda128 one is the one not loaded.
      ScanReport torch118 = judge_wheel(whl, target, facts, "11.8");
      EXPECT_EQ(verdict_of_member(torch118, member, 0)->verdict, Verdict::kFail);
      const FileVerdict* other = verdict_of_member(torch118, member_for(fact.files.front(), "128"), 0);
      EXPECT_EQ(other->verdict, Verdict::kNotForGpu) << other->reason;
      EXPECT_NE(other->reason.find("CUDA 11.8"), std::string::npos) << other->reason;
    }
    std::filesystem::remove(whl);
  }
}

// A fact never hides a GPU the package uses the file on: sgl-kernel's
// sm100/common_ops is used on sm_75, so a build without sm_75 code FAILs.
TEST(PackageFacts, AFileUsedOnTheGpuStillFails) {
  const std::string dir = scratch_dir("facts_used");
  const std::string whl = wheel_name(dir, "sgl-kernel", "0.3.21");
  write_zip(whl, {{"sgl_kernel/sm100/common_ops.abi3.so", read_bytes(fixture("sm80.so"))},
                  {"sgl_kernel/sm90/common_ops.abi3.so", read_bytes(fixture("sm80.so"))}});
  ScanReport r = judge_wheel(whl, "sm_75", builtin_package_facts());
  EXPECT_EQ(verdict_of_member(r, "sgl_kernel/sm100/common_ops.abi3.so", 0)->verdict, Verdict::kFail);
  EXPECT_EQ(verdict_of_member(r, "sgl_kernel/sm90/common_ops.abi3.so", 0)->verdict, Verdict::kNotForGpu);
  ASSERT_EQ(r.packages.size(), 1u);
  EXPECT_EQ(r.packages[0].verdicts[0], Verdict::kFail);
  EXPECT_EQ(r.exit_code(), kExitFail);
}

// smscan: the table names the fact; --explain-facts lists it with its
// source; alone, every fact; the JSON verdict carries the fact's id.
TEST(PackageFacts, SmscanNamesAndExplainsTheFactsItUsed) {
  const std::string dir = scratch_dir("facts_cli");
  const std::string whl = wheel_name(dir, "vllm", "0.33.0");
  write_zip(whl, {{"vllm/vllm_flash_attn/_vllm_fa3_C.abi3.so", read_bytes(fixture("sm80.so"))}});
  auto r = run_smscan({"--explain-facts", "-t", "sm_120", whl});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("[package fact vllm/fa3-hopper-only]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Package facts used:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("source: https://github.com/vllm-project/vllm/"), std::string::npos) << r.out;
  auto j = run_smscan({"--json", "-t", "sm_120", whl});
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["files"][0]["verdicts"]["sm_120"]["verdict"], "N/A");
  EXPECT_EQ(doc["files"][0]["verdicts"]["sm_120"]["fact"], "vllm/fa3-hopper-only");
  EXPECT_EQ(doc["package_facts"][0]["id"], "vllm/fa3-hopper-only");
  auto all = run_smscan({"--explain-facts"});
  EXPECT_EQ(all.exit_code, 0);
  for (const auto& f : builtin_package_facts()) EXPECT_NE(all.out.find(f.id + ": "), std::string::npos) << f.id;
}

// bitsandbytes with --python: torch's CUDA version is read from the
// installed torch/version.py.
// The one reader of torch/version.py, for installed environments and
// container images alike: both forms torch has written, and a CPU build.
TEST(PackageFacts, TorchVersionPyIsReadInOnePlace) {
  EXPECT_EQ(torch_cuda_of_version_py("__version__ = '2.9.1+cu128'\ncuda: Optional[str] = '12.8'\n"), "12.8");
  EXPECT_EQ(torch_cuda_of_version_py("cuda = \"12.4\""), "12.4");
  EXPECT_EQ(torch_cuda_of_version_py("__version__ = '2.6.0+cpu'\ncuda: Optional[str] = None\n"), "");
  EXPECT_EQ(torch_cuda_of_version_py("cuda = 'twelve'\n"), "");
  EXPECT_EQ(torch_cuda_of_version_py(""), "");
}

TEST(PackageFacts, TorchCudaVersionIsReadFromTheInstalledTorch) {
  const std::string site = scratch_dir("facts_site");
  auto write = [&](const std::string& rel, const std::string& body) {
    std::filesystem::create_directories(std::filesystem::path(site + "/" + rel).parent_path());
    std::ofstream(site + "/" + rel) << body;
  };
  write("torch/version.py", "__version__ = '2.9.1+cu128'\ncuda: Optional[str] = '12.8'\n");
  write("torch-2.9.1.dist-info/METADATA", "Name: torch\nVersion: 2.9.1+cu128\n\n");
  write("torch-2.9.1.dist-info/RECORD", "torch/version.py,,\n");
  PackageIndex index;
  std::vector<std::string> problems;
  index.add_site_packages(site, problems);
  EXPECT_EQ(index.torch_cuda_version(), "12.8");
  write("torch/version.py", "cuda = None\n");
  EXPECT_EQ(index.torch_cuda_version(), "");
}

// A masked failure: one PTX-carrying object serves sm_120, the main object
// (sm_80, sm_90 SASS) has nothing for it: FAIL, and the kernel rows agree.
TEST(MaskedFailures, OnePtxFatbinDoesNotMakeADeadFilePartial) {
  auto r = run_smscan({"--kernels", "--json", "-t", "sm_90,sm_120", pkg_fixture("masked.so")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  const auto& v = doc["files"][0]["verdicts"];
  EXPECT_EQ(v["sm_90"]["verdict"], "JIT");  // the main code has sm_90; the extra JITs its PTX
  EXPECT_EQ(v["sm_120"]["verdict"], "FAIL");
  EXPECT_NE(v["sm_120"]["reason"].get<std::string>().find("main code (1 fatbin built for sm_80 .. sm_90)"),
            std::string::npos) << v["sm_120"]["reason"];
  bool a_fail = false;
  for (const auto& k : doc["files"][0]["kernels"]) a_fail |= k["verdicts"]["sm_120"] == "FAIL";
  EXPECT_TRUE(a_fail);
}

}  // namespace
}  // namespace smwatch
