// `smwatch doctor` on hostile environments: what the interpreter says about
// its packages is not trusted (issue 24 item 15).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "support.h"

namespace smwatch::cli {
namespace {

namespace fs = std::filesystem;

// An interpreter that answers doctor's probe with `answer` (the probe's JSON), in a scratch directory.
std::string fake_python(const std::string& name, const std::string& answer) {
  const std::string python = test::scratch(name) + "/python3";
  test::spit(python, "#!/bin/sh\nprintf '%s\\n' '" + answer + "'\n");
  fs::permissions(python, fs::perms::owner_all);
  return python;
}

// Package names and versions come from the environment's METADATA: an escape
// sequence in them (a window title, clear screen, a fake line) must reach the
// terminal as visible text, never as control bytes.
TEST(Doctor, PackageNamesAndVersionsAreNotWrittenRaw) {
  const std::string python = fake_python(
      "doctor-escapes",
      "{\"executable\": \"/venv/bin/python\\u001b[2J\", \"version\": \"3.12\", \"site\": [], "
      "\"dists\": [[\"torch\\u001b]0;pwned\\u0007\", \"2.6.0\\u001b[2J\\r\\nGPU 0: fake line\", []], "
      "[\"xformers\", 7, []]]}");
  auto r = test::run({"doctor", "--python", python, "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("torch\\x1b]0;pwned\\x07 2.6.0\\x1b[2J\\x0d\\x0aGPU 0: fake line"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Python:  /venv/bin/python\\x1b[2J (3.12)"), std::string::npos) << r.out;
}

// The CUDA-related packages doctor lists are the packages table's (the one
// explain reads), matched loosely by name: a table row, its modules and
// version names, and NVIDIA's and CUDA's words.
TEST(Doctor, CudaPackagesComeFromThePackagesTable) {
  const std::string python = fake_python(
      "doctor-packages",
      "{\"executable\": \"/venv/bin/python\", \"version\": \"3.12\", \"site\": [], \"dists\": ["
      "[\"torch\", \"2.6.0+cu126\", []], [\"Flash_Attn\", \"2.7.4\", []], [\"nvidia-cublas-cu12\", \"12.8\", []], "
      "[\"cupy-cuda12x\", \"13.0\", []], [\"flashinfer-python\", \"0.2.5\", []], [\"numpy\", \"2.1\", []], "
      "[\"compressed-tensors\", \"0.9\", []], [\"pillow\", \"11.0\", []]]}");
  auto r = test::run({"doctor", "--json", "--python", python, "-t", "sm_80", "--path", SMWATCH_FIXTURE_DIR "/sm80.so"});
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out << r.err;
  std::set<std::string> listed;
  for (const auto& [name, version] : doc["python"]["packages"].items()) listed.insert(name);
  EXPECT_EQ(listed, (std::set<std::string>{"torch", "Flash_Attn", "nvidia-cublas-cu12", "cupy-cuda12x", "flashinfer-python"}));
}

}  // namespace
}  // namespace smwatch::cli
