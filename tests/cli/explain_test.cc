// `smwatch explain`: the signatures file, the matcher on real-looking logs, and
// the command's output and exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "explain.h"
#include "explain/facts.h"
#include "explain/knowledge.h"
#include "explain/needles.h"
#include "smwatch/arch.h"
#include "smwatch/package_fix.h"
#include "support.h"

namespace smwatch::cli {
namespace {

namespace fs = std::filesystem;
using test::log_path;
using test::slurp;

const Finding* find(const std::vector<Finding>& findings, const std::string& id) {
  for (const auto& f : findings)
    if (f.id == id) return &f;
  return nullptr;
}

std::string ids(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += f.id + "@" + std::to_string(f.line) + " ";
  return out;
}

TEST(Signatures, BuiltInCopyIsTheDataFile) {
  // The compiled-in copy must be the file that gets installed: one source.
  EXPECT_TRUE(SignatureSet::builtin_text() == slurp(SMWATCH_SIGNATURES_JSON)) << "the embedded copy is stale: rebuild";
  auto parsed = SignatureSet::parse(slurp(SMWATCH_SIGNATURES_JSON), "signatures.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->size(), SignatureSet::builtin().size());
  EXPECT_GE(SignatureSet::builtin().size(), 18u);
}

TEST(Signatures, BadDocumentsAreRejectedWithTheSignatureNamed) {
  auto err = [](const std::string& sig) {
    auto r = SignatureSet::parse(R"j({"signatures":[)j" + sig + "]}", "test.json");
    return r.ok() ? std::string("(accepted)") : r.error().message;
  };
  const std::string base = R"j("id":"x","needles":["a"],"title":"t","cause":"c","fix":"f")j";
  EXPECT_EQ(err("{" + base + R"j(,"regex":"a","captures":[]})j"), "(accepted)");
  EXPECT_NE(err("{" + base + R"j(,"regex":"(a","captures":[]})j").find("signature 'x': bad regex"), std::string::npos);
  EXPECT_NE(err("{" + base + R"j(,"regex":"(a)","captures":[]})j").find("1 groups but 0"), std::string::npos);
  EXPECT_NE(err(R"j({"id":"x","needles":["a"],"title":"{nope}","cause":"c","fix":"f","regex":"a"})j").find("{nope}"),
            std::string::npos);
  EXPECT_NE(err("{" + base + R"j(,"regex":"a","requires":["ghost"]})j").find("unknown id 'ghost'"), std::string::npos);
  EXPECT_NE(err(R"j({"id":"x","title":"t","cause":"c","fix":"f","regex":"a"})j").find("needles"), std::string::npos);
  EXPECT_NE(err("{" + base + R"j(,"regex":"a","target":"arch"})j").find("\"arch\" is not one of its captures"),
            std::string::npos);
  EXPECT_NE(err("{" + base + R"j(,"regex":"a"},{)j" + base + R"j(,"regex":"b"})j").find("id used twice"), std::string::npos);
  EXPECT_FALSE(SignatureSet::parse("{not json", "broken.json").ok());
  EXPECT_EQ(SignatureSet::parse("[]", "list.json").error().message,
            "list.json: expected an object with a \"signatures\" list");
}

// The knowledge tables (packages, builds, releases) are checked on load,
// and an error names the table, the row and the field.
TEST(Signatures, BadKnowledgeIsRejectedWithTheRowNamed) {
  auto err = [](const std::string& knowledge) {
    auto r = SignatureSet::parse(R"j({"signatures":[],"knowledge":)j" + knowledge + "}", "k.json");
    return r.ok() ? std::string("(accepted)") : r.error().message;
  };
  EXPECT_EQ(err(R"j({"packages":[{"name":"flash-attn","modules":["flash_attn"],"kernels":true,"source":"s"}]})j"), "(accepted)");
  EXPECT_EQ(err(R"j({"packages":[{"source":"s","name":"a","modules":["m"]},{"source":"s","name":"b","modules":["m"]}]})j"),
            "k.json: knowledge.packages[1] 'b': module 'm' already belongs to 'a'");
  EXPECT_EQ(err(R"j({"packages":[{"source":"s","name":"a","modles":["m"]}]})j"), "k.json: knowledge.packages[0] 'a': unknown field \"modles\"");
  EXPECT_EQ(err(R"j({"packages":[{"modules":["m"],"source":"s"}]})j"), "k.json: knowledge.packages[0]: needs a string \"name\"");
  EXPECT_NE(err(R"j({"packages":[{"source":"s","name":"Flash_Attn"}]})j").find("'Flash_Attn': \"name\" must be a distribution name"), std::string::npos);
  EXPECT_EQ(err(R"j({"packages":[{"source":"s","name":"the bundled copy (x)"}]})j"), "(accepted)") << "a phrase names code no pip name installs";
  EXPECT_NE(err(R"j({"packages":[{"source":"s","name":"x","libraries":[{"needle":"LibX","where":"libx.so"}]}]})j").find("'x': library needle 'LibX' must be lower case"),
            std::string::npos);
  EXPECT_NE(err(R"j({"packages":[{"source":"s","name":"x","role":"boss"}]})j").find("'x': \"role\" must be dispatcher or compiler"), std::string::npos);
  EXPECT_NE(err(R"j({"packages":[{"source":"s","name":"a","version_names":["pytorch"]},{"source":"s","name":"b","version_names":["pytorch"]}]})j")
                .find("'b': version name 'pytorch' already belongs to 'a'"),
            std::string::npos);
  EXPECT_NE(err(R"j({"packages":[{"source":"s","name":"a","version_names":["py_torch"]}]})j").find("\"version_names\" must hold"), std::string::npos);
  EXPECT_NE(err(R"j({"packages":[{"source":"s","name":"w x","runtime":{"library":"libx","install":"pip install x-cu{cuda}"}}]})j")
                .find("{cuda} is not one of {torch_cuda_major}, {soname_major}, {library}"),
            std::string::npos);
  // Which PyTorch builds include which GPUs is the inspector's table (package_facts.json), not a second copy here.
  EXPECT_EQ(err(R"j({"torch_builds":[{"line":"cu126","torch":"2.6","cc_min":50,"cc_max":90,"source":"s"}]})j"),
            "k.json: knowledge has no table \"torch_builds\"");
  EXPECT_NE(err(R"j({"tensorrt":[{"cc_min":50,"cc_max":60,"source":"s"}]})j").find("knowledge.tensorrt[0]: needs one of \"first\""),
            std::string::npos);
  EXPECT_EQ(err(R"j({"packagez":[]})j"), "k.json: knowledge has no table \"packagez\"");
  // Every row says where its facts are seen.
  EXPECT_EQ(err(R"j({"packages":[{"name":"a","source":"s"},{"name":"b","modules":["m"]}]})j"),
            "k.json: knowledge.packages[1] 'b': needs a string \"source\"");
  EXPECT_EQ(err(R"j({"packages":[{"name":"a","source":""}]})j"), "k.json: knowledge.packages[0] 'a': \"source\" must be a non-empty string");
  EXPECT_EQ(err(R"j({"container_hints":[{"text":"docker run","source":"s"},{"text":"k3s"}]})j"),
            "k.json: knowledge.container_hints[1]: needs a string \"source\"");
  EXPECT_EQ(err(R"j({"cuda_related_words":[{"text":"cuda"}]})j"), "k.json: knowledge.cuda_related_words[0]: needs a string \"source\"");
  EXPECT_EQ(err(R"j({"arch_specific_instructions":[{"prefix":"wgmma","only":"sm_90a"}]})j"),
            "k.json: knowledge.arch_specific_instructions[0]: needs a string \"source\"");
  EXPECT_EQ(err(R"j({"container_hints":[{"text":"Docker run","source":"s"}]})j"),
            "k.json: knowledge.container_hints[0]: \"text\" must be lower case (it is matched lower-cased); not 'Docker run'");
  EXPECT_EQ(err(R"j({"container_hints":["docker run"]})j"), "k.json: knowledge.container_hints[0]: not an object");
}

// A template may name a derive's values only with that derive; the names
// come from one list (explain/values.h), and so does the error's.
TEST(Signatures, DeriveValuesNeedTheirDerive) {
  auto err = [](const std::string& extra) {
    auto r = SignatureSet::parse(R"j({"signatures":[{"id":"x","needles":["a"],"regex":"a","title":"t","cause":"c","fix":"{trt_fix}")j" +
                                     extra + "}]}",
                                 "d.json");
    return r.ok() ? std::string("(accepted)") : r.error().message;
  };
  EXPECT_EQ(err(R"j(,"derive":"tensorrt-sm")j"), "(accepted)");
  EXPECT_EQ(err(""), "d.json: signature 'x': {trt_fix} names no value of this signature (a derive's values need that \"derive\")");
  EXPECT_EQ(err(R"j(,"derive":"capability-range")j"), "d.json: signature 'x': {trt_fix} names no value of this signature");
  EXPECT_EQ(err(R"j(,"derive":"guess")j"),
            "d.json: signature 'x': \"derive\" must be one of capability-range, tensorrt-sm, arch-specific-instruction, "
            "triton-ptxas, xformers-torch");
}

// Every list of package names the matcher uses is made of the packages
// table: what a line, a module, a namespace or a printed name stands for.
TEST(ExplainKnowledge, ListsComeFromThePackagesTable) {
  const Knowledge& k = SignatureSet::builtin().knowledge();
  std::string pkg, where;
  // A line naming several: library and source names before bare names, torch's last, rows in table order.
  ASSERT_TRUE(k.named_on_line("/src/xformers/third_party/flash-attention/hopper/flash_api.cpp:12", pkg, where));
  EXPECT_EQ(pkg, "the bundled flash-attention (third_party/flash-attention/hopper)");
  ASSERT_TRUE(k.named_on_line("xformers/third_party/flash-attention/csrc/flash_attn/src/flash.h", pkg, where));
  EXPECT_EQ(pkg, "xformers");
  EXPECT_EQ(where, "xformers' bundled flash-attention (third_party/flash-attention)");
  ASSERT_TRUE(k.named_on_line("flashinfer-python 0.2.5 xformers 0.0.29", pkg, where));
  EXPECT_EQ(pkg, "flashinfer-python");
  ASSERT_TRUE(k.named_on_line("/x/lib/libtorch_cuda.so called xformers", pkg, where));
  EXPECT_EQ(pkg, "xformers");
  ASSERT_TRUE(k.named_on_line("/x/lib/libtorch_cuda.so", pkg, where));
  EXPECT_EQ(pkg, "torch");
  EXPECT_FALSE(k.named_on_line("nothing here", pkg, where));
  EXPECT_EQ(k.dist_of_module("PIL.Image"), "pillow");
  EXPECT_EQ(k.dist_of_module("flash_attn_2_cuda"), "flash-attn");
  EXPECT_EQ(k.dist_of_module("some_module.x"), "some-module");  // not in the table: the module's name, normalized
  EXPECT_EQ(k.version_key("PyTorch"), "torch");
  EXPECT_EQ(k.version_key("flashinfer"), "flashinfer-python");
  EXPECT_EQ(k.version_key("sgl_kernel"), "sgl-kernel");
  EXPECT_EQ(k.version_key("numpy"), "");
  ASSERT_NE(k.ops_namespace("_vllm_fa2_C"), nullptr);
  EXPECT_EQ(k.ops_namespace("_vllm_fa2_C")->name, "vllm-flash-attn");
  EXPECT_TRUE(k.role_is(k.ops_namespace("aten")->name, PackageRow::Role::kDispatcher));
  EXPECT_TRUE(k.ships_kernels("mamba-ssm"));
  EXPECT_FALSE(k.ships_kernels("vllm"));
  EXPECT_FALSE(k.installable("llama.cpp (ggml-cuda)"));
  EXPECT_EQ(k.runtime_install("libcudnn_adv.so.9", "12", "9"), "pip install nvidia-cudnn-cu12 for libcudnn_adv.so.9");
  EXPECT_EQ(k.runtime_install("libcudart.so.11.0", "12", "11"), "pip install nvidia-cuda-runtime-cu11");
  EXPECT_EQ(k.runtime_install("libfoo.so.1", "12", "1"), "");
  // Triton's own ptxas: its wheel's tools directory, in any path spelling (Windows', doubled in a Python list).
  EXPECT_TRUE(k.bundled_tool("triton", "/v/site-packages/triton/backends/nvidia/bin/ptxas"));
  EXPECT_TRUE(k.bundled_tool("triton", R"(I:\\C\\site-packages\\triton\\backends\\nvidia\\bin\\ptxas.exe)"));
  EXPECT_TRUE(k.bundled_tool("triton", R"(I:\C\site-packages\triton\backends\nvidia\bin\ptxas.exe)"));
  EXPECT_FALSE(k.bundled_tool("triton", "/usr/local/cuda/bin/ptxas"));
  EXPECT_TRUE(k.cuda_related("cupy-cuda12x"));
  EXPECT_TRUE(k.cuda_related("Flash_Attn"));
  EXPECT_FALSE(k.cuda_related("numpy"));
  // The version pattern and its needles are made of the version names.
  std::smatch m;
  const std::string pin = "flash_attn==2.7.4.post1";
  ASSERT_TRUE(std::regex_search(pin, m, k.version_regex()));
  EXPECT_EQ(k.version_key(m[1].str()), "flash-attn");
  EXPECT_EQ(m[2].str(), "2.7.4.post1");
  EXPECT_NE(std::find(k.version_needles().begin(), k.version_needles().end(), "flash"), k.version_needles().end());
}

// Another table, another reading: nothing about packages is decided in C++.
TEST(ExplainKnowledge, AnotherTableChangesWhatIsRead) {
  const std::string doc = R"j({"signatures":[{"id":"nki","needles":["no kernel image"],"regex":"no kernel image","captures":[],
    "title":"{failing_package}","cause":"{versions}","fix":"{package_fix}"}],
    "knowledge":{"packages":[{"name":"my-kernels","modules":["mk"],"version_names":["my-kernels"],
                              "libraries":[{"needle":"libmk_cuda","where":"libmk_cuda.so"}],"source":"this test"}]}})j";
  auto sigs = SignatureSet::parse(doc, "mine.json");
  ASSERT_TRUE(sigs.ok()) << sigs.error().message;
  const std::string log = "my_kernels==1.2.3\nloading /opt/libmk_cuda.so\nCUDA error: no kernel image is available\n";
  auto f = sigs->explain(log);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "my-kernels");
  EXPECT_EQ(f[0].values.at("failing_where"), "libmk_cuda.so");
  EXPECT_EQ(f[0].cause, "my-kernels 1.2.3");
  // The built-in table knows no such package; a document without knowledge uses the built-in one.
  auto plain = SignatureSet::parse(R"j({"signatures":[{"id":"nki","needles":["no kernel image"],"regex":"no kernel image",
    "captures":[],"title":"{failing_package|'none'}","cause":"{versions|'none'}","fix":"f"}]})j", "plain.json");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  auto g = plain->explain(log + "torch 2.6.0+cu126\n");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].title, "none");
  EXPECT_EQ(g[0].cause, "torch 2.6.0+cu126");
}

// Every log fixture with its .expect: exactly these findings at these lines.
TEST(ExplainLogs, EveryFixtureGivesExactlyTheExpectedFindings) {
  size_t logs = 0;
  for (const auto& entry : fs::directory_iterator(SMWATCH_LOG_DIR)) {
    if (entry.path().extension() != ".log") continue;
    ++logs;
    SCOPED_TRACE(entry.path().filename().string());
    fs::path expect = entry.path();
    expect.replace_extension(".expect");
    ASSERT_TRUE(fs::exists(expect)) << "every log needs a .expect (see tests/cli/logs/README.md)";
    std::set<std::string> wanted, got;
    std::istringstream in(slurp(expect.string()));
    for (std::string id, line; in >> id >> line;) wanted.insert(id + "@" + line);
    for (const auto& f : explain_text(slurp(entry.path().string()))) got.insert(f.id + "@" + std::to_string(f.line));
    EXPECT_EQ(got, wanted);
  }
  EXPECT_GE(logs, 10u);
}


// The corpus: excerpts of real logs from public issues (tests/cli/corpus/,
// README there). Each names the cause it must be recognised as, and what the
// fix must say (the fix the thread arrived at) and the package it must name.
TEST(ExplainCorpus, RealLogsFromPublicIssues) {
  size_t logs = 0, recognised = 0;
  std::set<std::string> kinds;
  std::string failures;
  for (const auto& entry : fs::directory_iterator(SMWATCH_CORPUS_DIR)) {
    if (entry.path().extension() != ".log") continue;
    ++logs;
    const std::string name = entry.path().filename().string();
    std::istringstream in(slurp(entry.path().string()));
    std::string body, source;
    std::vector<std::string> want_kinds, fixes, not_ids;
    std::string package, severity;
    bool none = false;
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("#! ")) {
        body += line + "\n";
        continue;
      }
      std::string key = line.substr(3, line.find(':') == std::string::npos ? std::string::npos : line.find(':') - 3);
      std::string value = line.find(": ") == std::string::npos ? "" : line.substr(line.find(": ") + 2);
      if (key == "source") source = value;
      else if (key == "kind") want_kinds.push_back(value);
      else if (key == "fix") fixes.push_back(value);
      else if (key == "package") package = value;
      else if (key == "severity") severity = value;
      else if (key == "not") not_ids.push_back(value);
      else if (key == "none") none = true;
    }
    EXPECT_TRUE(source.starts_with("http") || none) << name << ": every corpus log names its source";
    auto findings = explain_text(body);
    bool ok = true;
    std::string why;
    if (none) {
      for (const auto& f : findings)
        if (f.severity == "error") ok = false, why += " unexpected " + f.id;
    }
    for (const auto& kind : want_kinds) {
      kinds.insert(kind);
      const Finding* f = find(findings, kind);
      if (!f) {
        ok = false;
        why += " missing " + kind;
        continue;
      }
      if (!severity.empty() && f->severity != severity) ok = false, why += " severity " + f->severity;
      for (const auto& fix : fixes)
        if (f->fix.find(fix) == std::string::npos && kind == want_kinds.front())
          ok = false, why += " fix lacks '" + fix + "': " + f->fix;
      if (!package.empty() && kind == want_kinds.front()) {
        auto value = [&](const char* k) { return f->values.count(k) ? f->values.at(k) : std::string(); };
        if (value("failing_package") != package && value("package") != package && value("importer_package") != package)
          ok = false, why += " package '" + value("failing_package") + "' is not " + package;
      }
    }
    for (const auto& f : findings)
      for (const std::string* t : {&f.title, &f.cause, &f.fix})
        if (t->find("(unknown)") != std::string::npos) ok = false, why += " '(unknown)' in " + f.id + ": " + *t;
    for (const auto& id : not_ids)
      if (find(findings, id)) ok = false, why += " wrongly " + id;
    if (ok) ++recognised;
    else failures += name + ":" + why + "  [" + ids(findings) + "]\n";
  }
  std::cout << "corpus: " << recognised << " of " << logs << " logs recognised with the expected fix, " << kinds.size()
            << " kinds\n";
  EXPECT_GE(logs, 40u);
  EXPECT_GE(kinds.size(), 20u);
  EXPECT_EQ(failures, "") << recognised << " of " << logs;
}

TEST(ExplainLogs, PyTorchWarningNamesGpuArchAndTheFixFromTheGpuTable) {
  auto findings = explain_text(slurp(log_path("pytorch_rtx5090.log")));
  const Finding* f = find(findings, "pytorch-unsupported-gpu");
  ASSERT_NE(f, nullptr) << ids(findings);
  EXPECT_EQ(f->values.at("gpu"), "NVIDIA GeForce RTX 5090");
  EXPECT_EQ(f->values.at("sm"), "sm_120");
  EXPECT_EQ(f->values.at("supported"), "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90");
  EXPECT_NE(f->title.find("will fail at the first launch"), std::string::npos) << f->title;
  EXPECT_NE(f->cause.find("not harmless"), std::string::npos);
  EXPECT_NE(f->fix.find(fix_hint(120)), std::string::npos) << f->fix;  // the GPU table's fix, not a copy
  EXPECT_NE(f->fix.find("cu128"), std::string::npos);
  EXPECT_NE(f->text.find("sm_90."), std::string::npos) << "the matched lines are shown";
}

TEST(ExplainLogs, DriverLogIsDemangledAndNamesTheGpu) {
  auto findings = explain_text(slurp(log_path("driver_log_h100.log")));
  const Finding* kernel = find(findings, "driver-log-kernel-not-found");
  ASSERT_NE(kernel, nullptr) << ids(findings);
  EXPECT_EQ(kernel->values.at("demangled"), "scale_by_two(float*, int)");
  EXPECT_NE(kernel->title.find("scale_by_two(float*, int)"), std::string::npos);
  EXPECT_NE(kernel->cause.find("_Z12scale_by_twoPfi"), std::string::npos);
  const Finding* isa = find(findings, "driver-log-no-device-code");
  ASSERT_NE(isa, nullptr);
  EXPECT_EQ(isa->values.at("sm"), "sm_90");
  EXPECT_NE(isa->title.find("H100"), std::string::npos) << isa->title;
  EXPECT_NE(isa->fix.find(fix_hint(90)), std::string::npos);
  const Finding* ret = find(findings, "driver-log-returning");
  ASSERT_NE(ret, nullptr);
  EXPECT_EQ(ret->values.at("call"), "cuLibraryGetKernel");
  EXPECT_EQ(ret->severity, "context");
}

TEST(ExplainLogs, TritonPtxasFixUsesTheFirstCudaForTheArch) {
  auto findings = explain_text(slurp(log_path("triton_ptxas.log")));
  const Finding* f = find(findings, "triton-ptxas-unknown-arch");
  ASSERT_NE(f, nullptr) << ids(findings);
  EXPECT_EQ(f->values.at("sm"), "sm_120");  // sm_120a names the same GPU
  EXPECT_EQ(f->values.at("first_cuda"), find_generation(120)->first_cuda);
  EXPECT_NE(f->fix.find("TRITON_PTXAS_PATH"), std::string::npos);
  EXPECT_NE(f->fix.find("Upgrade triton"), std::string::npos);
}

TEST(ExplainLogs, RepeatsFoldAndContextNeedsAFailure) {
  auto findings = explain_text(slurp(log_path("sglang_blackwell.log")));
  const Finding* nki = find(findings, "no-kernel-image");
  ASSERT_NE(nki, nullptr) << ids(findings);
  EXPECT_EQ(nki->count, 2u);  // TP0 and TP1 print the same exception
  ASSERT_EQ(nki->more_lines.size(), 1u);
  const Finding* ctx = find(findings, "serving-stack-context");
  ASSERT_NE(ctx, nullptr);
  EXPECT_NE(ctx->fix.find("--disable-cuda-graph --disable-flashinfer"), std::string::npos);
  EXPECT_NE(ctx->fix.find("--attention-backend triton"), std::string::npos);
  // The same words in a log without a CUDA failure explain nothing.
  EXPECT_EQ(find(explain_text(slurp(log_path("transformers_mismatch.log"))), "serving-stack-context"), nullptr);
  EXPECT_TRUE(explain_text(slurp(log_path("healthy_sglang.log"))).empty());
}

TEST(ExplainLogs, SpecificSignatureHidesTheGeneralOneOnTheSameLine) {
  auto findings = explain_text("RuntimeError: CUDA_ERROR_NO_BINARY_FOR_GPU: no kernel image is available for execution on the device\n");
  ASSERT_EQ(findings.size(), 1u) << ids(findings);
  EXPECT_EQ(findings[0].id, "cuda-209");
  // CuPy's own wording is more specific still: it hides both.
  findings = explain_text("CUDADriverError: CUDA_ERROR_NO_BINARY_FOR_GPU: no kernel image is available for execution on the device\n");
  ASSERT_EQ(findings.size(), 1u) << ids(findings);
  EXPECT_EQ(findings[0].id, "cupy-no-binary-for-gpu");
}

TEST(ExplainLogs, PythonVersionMismatch) {
  auto findings = explain_text(slurp(log_path("transformers_mismatch.log")));
  const Finding* f = find(findings, "python-submodule-missing");
  ASSERT_NE(f, nullptr) << ids(findings);
  EXPECT_EQ(f->values.at("module"), "transformers.masking_utils");
  EXPECT_EQ(f->values.at("package"), "transformers");
  EXPECT_NE(f->fix.find("pip install -U transformers"), std::string::npos);
  EXPECT_EQ(find(findings, "python-module-missing"), nullptr);
  auto top = explain_text("ModuleNotFoundError: No module named 'sgl_kernel'\n");
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].id, "python-module-missing");
}

// The seed's own case: the traceback names the importer (compressed-tensors)
// and the package to pin (transformers); --python adds what is installed
// and what the installed packages require.
TEST(ExplainLogs, ImporterOfAFailedImportIsNamed) {
  auto findings = explain_text(slurp(log_path("compressed_tensors_masking_utils.log")));
  const Finding* f = find(findings, "python-submodule-missing");
  ASSERT_NE(f, nullptr) << ids(findings);
  EXPECT_EQ(f->values.at("importer_package"), "compressed-tensors");
  EXPECT_EQ(f->values.at("importer"), "compressed_tensors.utils.helpers");
  EXPECT_EQ(f->values.at("package"), "transformers");
  EXPECT_NE(f->title.find("compressed-tensors imports transformers.masking_utils"), std::string::npos) << f->title;
  EXPECT_NE(f->fix.find("transformers version that compressed-tensors needs"), std::string::npos) << f->fix;

  auto r = test::run({"explain", "--json", "--python", SMWATCH_TEST_DIR "/fake_python.sh",
                      log_path("compressed_tensors_masking_utils.log")});
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  const auto& v = doc["findings"][0]["values"];
  const std::string note = v["env_note"];
  EXPECT_NE(note.find("transformers 4.51.3 is installed"), std::string::npos) << note;
  EXPECT_NE(note.find("compressed-tensors 0.11.0 is installed"), std::string::npos) << note;
  EXPECT_NE(note.find("sglang requires transformers==4.51.1"), std::string::npos) << note;
  EXPECT_EQ(v["env_pin"], "pip install 'transformers==4.51.1' (the version sglang pins)");
  EXPECT_NE(std::string(doc["findings"][0]["fix"]).find("transformers==4.51.1"), std::string::npos);
  EXPECT_EQ(test::run({"explain", "--python", "/nonexistent/python", log_path("compressed_tensors_masking_utils.log")}).status, 2);
}

TEST(ExplainLogs, CapabilityRangeIsRead) {
  auto gb10 = explain_text("Found GPU0 NVIDIA GB10 which is of cuda capability 12.1. Minimum and Maximum cuda capability "
                           "supported by this version of PyTorch is (8.0) - (12.0)\n");
  ASSERT_EQ(gb10.size(), 1u) << ids(gb10);
  EXPECT_EQ(gb10[0].severity, "warning");
  EXPECT_EQ(gb10[0].values.at("range_verdict"), "false-alarm");
  EXPECT_EQ(gb10[0].fix.find("cu126"), std::string::npos) << "no advice to downgrade: " << gb10[0].fix;
  auto b200 = explain_text("Found GPU0 NVIDIA B200 which is of cuda capability 10.0. Minimum and Maximum cuda capability "
                           "supported by this version of PyTorch is (5.0) - (9.0)\n");
  ASSERT_EQ(b200.size(), 1u);
  EXPECT_EQ(b200[0].values.at("range_verdict"), "above");
  EXPECT_NE(b200[0].fix.find("cu128"), std::string::npos) << b200[0].fix;
  auto p100 = explain_text("Found GPU0 Tesla P100-PCIE-16GB which is of cuda capability 6.0. Minimum and Maximum cuda "
                           "capability supported by this version of PyTorch is (7.0) - (12.0)\n");
  ASSERT_EQ(p100.size(), 1u);
  EXPECT_EQ(p100[0].values.at("range_verdict"), "below");
  EXPECT_NE(p100[0].fix.find("cu126"), std::string::npos) << p100[0].fix;
}

TEST(ExplainLogs, WholeLogNamesPackageGpuAndTheReplacement) {
  // The GPU is named after the failure (nvidia-smi pasted below the traceback):
  // the fix is recomputed with it at the end.
  std::string log =
      "Traceback (most recent call last):\n"
      "  File \"/usr/lib/python3.12/site-packages/xformers/ops/fmha/cutlass.py\", line 100, in apply\n"
      "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
      "torch 2.6.0+cu126\n"
      "|   0  NVIDIA GeForce RTX 5090        On  |   00000000:01:00.0 Off |                  N/A |\n";
  auto findings = explain_text(log);
  const Finding* f = find(findings, "no-kernel-image");
  ASSERT_NE(f, nullptr) << ids(findings);
  EXPECT_EQ(f->values.at("failing_package"), "xformers");
  EXPECT_EQ(f->values.at("log_sm"), "sm_120");
  EXPECT_EQ(f->fix, fix_hint(120, "xformers") + ".");
  // torch itself, older than the GPU: the wheel line is named.
  auto t = explain_text(
      "  File \"/v/lib/python3.11/site-packages/torch/nn/functional.py\", line 2, in linear\n"
      "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
      "PyTorch version: 2.6.0+cu126\nGPU models and configuration: GPU 0: NVIDIA GeForce RTX 5090\n");
  ASSERT_EQ(t.size(), 1u) << ids(t);
  EXPECT_NE(t[0].fix.find("torch 2.6.0+cu126 is built with CUDA 12.6, older than CUDA 12.8"), std::string::npos) << t[0].fix;
  // The driver older than the GPU's first CUDA.
  auto d = explain_text("RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
                        "| NVIDIA-SMI 550.54.14   Driver Version: 550.54.14   CUDA Version: 12.4 |\n"
                        "|   0  NVIDIA B200    On  |\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].fix.find("update the NVIDIA driver"), std::string::npos) << d[0].fix;
  // An sgl-kernel op: graph capture switches do not help.
  auto s = explain_text("  File \"/x/site-packages/torch/_ops.py\", line 1, in __call__\n"
                        "    return self._op(*args, **kwargs)  # torch.ops.sgl_kernel.rmsnorm\n"
                        "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
                        "[2025-06-16] sglang scheduler exception\n");
  const Finding* ctx = find(s, "serving-stack-context");
  ASSERT_NE(ctx, nullptr) << ids(s);
  EXPECT_EQ(ctx->fix.find("--disable-cuda-graph --disable-flashinfer"), std::string::npos) << ctx->fix;
  EXPECT_NE(ctx->fix.find("sgl-kernel"), std::string::npos);
}

TEST(ExplainLogs, SmwatchRecordsAreReadAsJson) {
  auto findings = explain_text(slurp(log_path("smwatch_records.log")));
  const Finding* f = find(findings, "smwatch-failure");
  ASSERT_NE(f, nullptr) << ids(findings);
  EXPECT_EQ(f->count, 2u);
  EXPECT_EQ(f->title, "cuLibraryGetKernel failed with CUDA_ERROR_NO_BINARY_FOR_GPU for kernel scale_by_two(float*, int) in /opt/app/lib/libscale.so");
  EXPECT_EQ(f->fix, fix_hint(90));  // the record has no fix: the GPU table's
  const Finding* m = find(findings, "smwatch-missing");
  ASSERT_NE(m, nullptr);
  EXPECT_NE(m->title.find("sm_120"), std::string::npos);
  EXPECT_NE(m->cause.find("sm_80 sm_90"), std::string::npos);
  // A line that only looks like a record is not one.
  EXPECT_TRUE(explain_text(R"j(echo '"type":"failure"' is how records start)j" "\n").empty());
}

// Fed in chunks of any size, the stream finds what the whole text gives.
TEST(ExplainRobustness, ChunksGiveTheSameFindings) {
  for (const auto& entry : fs::directory_iterator(SMWATCH_LOG_DIR)) {
    if (entry.path().extension() != ".log") continue;
    const std::string text = slurp(entry.path().string());
    for (size_t chunk : {1u, 7u, 4096u}) {
      ExplainStream stream(SignatureSet::builtin());
      for (size_t pos = 0; pos < text.size(); pos += chunk) stream.feed(std::string_view(text).substr(pos, chunk));
      stream.finish();
      EXPECT_EQ(ids(stream.findings()), ids(explain_text(text))) << entry.path().filename() << " in chunks of " << chunk;
    }
  }
  // A line longer than kMaxLineBytes is kept cut, and counted as one line.
  ExplainStream stream(SignatureSet::builtin());
  stream.feed("CUDA error: invalid device function " + std::string(3 * kMaxLineBytes, 'x') + "\nnext\n");
  stream.finish();
  ASSERT_EQ(stream.findings().size(), 1u);
  EXPECT_EQ(stream.lines(), 2u);
}

TEST(ExplainRobustness, OddInputs) {
  EXPECT_TRUE(explain_text("").empty());
  EXPECT_TRUE(explain_text(std::string(1 << 20, 'a')).empty());
  std::string binary;
  for (int i = 0; i < 70000; ++i) binary += static_cast<char>((i * 7919) & 0xff);
  (void)explain_text(binary);  // must not crash
  // A message after a megabyte-long line is still found, at the right line.
  std::string log = std::string(1 << 20, 'x') + "\r\nRuntimeError: CUDA error: invalid device function\r\n";
  auto f = explain_text(log);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].line, 2u);
  // Coloured logs.
  auto colored = explain_text("\x1b[31mRuntimeError\x1b[0m: CUDA error: no kernel image is \x1b[1mavailable\x1b[0m for execution on the device");
  ASSERT_EQ(colored.size(), 1u);
  EXPECT_EQ(colored[0].id, "no-kernel-image");
  // No trailing newline, many repeats: one finding with a count.
  std::string many;
  for (int i = 0; i < 500; ++i) many += "error: invalid device function\n";
  auto folded = explain_text(many + "error: invalid device function");
  ASSERT_EQ(folded.size(), 1u);
  EXPECT_EQ(folded[0].count, 501u);
  EXPECT_EQ(folded[0].more_lines.size(), kMaxLinesKept);
}

// Issue 24 item 12: a record-like line with 10,000 nested arrays overflowed
// the stack (json_value_text recursed). Run on a thread with a 256 KiB stack,
// as a small-stack host or a sanitizer build has: it must finish.
TEST(ExplainRobustness, DeepJsonInALogLineDoesNotOverflowTheStack) {
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  const std::string log = R"j({"type": "failure", "error_name": "x", "archs": )j" + deep + "}\n" +
                          R"j({"type": "failure", "error_name": "y", "archs": ["sm_80", )j" + "[[1]]" + "]}\n";
  std::vector<Finding> got;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  struct Job {
    const std::string* log;
    std::vector<Finding>* out;
  } job{&log, &got};
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attr, [](void* p) -> void* {
              auto* j = static_cast<Job*>(p);
              *j->out = explain_text(*j->log);
              return nullptr;
            }, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  // The deep line is not read as a record; the shallow one is, its nested item shown as "[...]".
  ASSERT_EQ(got.size(), 1u) << ids(got);
  EXPECT_EQ(got[0].values.at("error_name"), "y");
  EXPECT_EQ(got[0].values.at("archs"), "sm_80 [...]");
}

// Issue 24 item 13: near-miss lines (what a pattern looks for first, not the
// rest) took 23-30 s per MB (before: 6.3 s for 64 KB of the .so lines, 31 s
// and 19 s for 256 KB of the two capability sentences;
// bench/bench_explain_nearmiss.sh). A per-character lookahead in one pattern
// later made one 250x slower than plain text again (3.3 s under ASan in CI).
// So each stream is timed against plain words of the same shape in the same
// run: the ratio holds in any build, sanitizers included, where a wall-clock
// limit does not.
TEST(ExplainRobustness, NearMissLinesTakeLinearTime) {
  auto stream = [](const std::string& line, const std::string& tail) {
    std::string out;
    while (out.size() < 128 * 1024) out += line + "\n";
    return out + tail;
  };
  auto repeat = [](const std::string& piece, size_t times) {
    std::string line;
    for (size_t i = 0; i < times; ++i) line += piece;
    return line;
  };
  auto words_like = [](const std::string& line) {  // same length and spacing, no pattern's first words
    std::string plain = line;
    for (char& c : plain)
      if (c != ' ' && c != '\n') c = 'q';
    return plain;
  };
  auto fastest = [](const std::string& text) {
    double best = 1e9;
    for (int run = 0; run < 3; ++run) {
      const auto start = std::chrono::steady_clock::now();
      (void)explain_text(text);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
  };
  struct Case {
    const char* label;
    std::string line, tail;
  };
  const Case cases[] = {
      {"a path with many '/'", repeat("/ab", 650) + ".sox", ""},
      {"a .so, then a path with many '/'", "/usr/lib/x86_64-linux-gnu/ libfoo.so " + repeat("/a", 900), ""},
      {"'with CUDA capability sm_' repeated", repeat("GPU with CUDA capability sm_ ", 70), ""},
      {"'Found GPU0 ' repeated", repeat("Found GPU0 NVIDIA ", 110), ""},
      {"PyTorch's sentence without a capability", repeat("x with CUDA capability sm_ ", 60),
       "is not compatible with the current PyTorch installation"},
  };
  for (const auto& c : cases) {
    // The reference is the cost of reading plain lines that wake no pattern
    // (~1 ms here). Near misses run patterns over every line: 2-30x that in a
    // release build; the lookahead made the last case 250x, a quadratic scan more.
    const double near = fastest(stream(c.line, c.tail)), plain = fastest(stream(words_like(c.line), ""));
    EXPECT_LT(near, 60 * plain + 0.01) << c.label << ": " << near << " s, plain text of the same shape " << plain << " s";
  }
  // The scans still read what the regexes read.
  auto f = explain_text("lib: /opt/x/lib/libfoo.so.12: cannot open shared object file\n"
                        "UserWarning: NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch installation.\n");
  const Finding* w = find(f, "pytorch-unsupported-gpu");
  ASSERT_NE(w, nullptr) << ids(f);
  EXPECT_NE(w->values.at("log_gpu").find("NVIDIA GeForce RTX 5090 (sm_120)"), std::string::npos) << w->values.at("log_gpu");
}

TEST(Signatures, UnboundedLazyQuantifiersAreRefused) {
  auto r = SignatureSet::parse(
      R"j({"signatures":[{"id":"x","needles":["a"],"title":"t","cause":"c","fix":"f","regex":"(.+?) a","captures":["n"]}]})j",
      "test.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unbounded lazy quantifier"), std::string::npos) << r.error().message;
  EXPECT_TRUE(SignatureSet::parse(
                  R"j({"signatures":[{"id":"x","needles":["a"],"title":"t","cause":"c","fix":"f","regex":"(.{1,80}?) a","captures":["n"]}]})j",
                  "test.json")
                  .ok());
  auto ahead = SignatureSet::parse(
      R"j({"signatures":[{"id":"x","needles":["a"],"title":"t","cause":"c","fix":"f","regex":"((?:(?! - )[^:]){0,120}) a","captures":["n"]}]})j",
      "test.json");
  ASSERT_FALSE(ahead.ok());
  EXPECT_NE(ahead.error().message.find("lookahead repeated per character"), std::string::npos) << ahead.error().message;
}

// Issue 21, on real logs of the corpus: facts read right, fixes made of them.
std::string corpus_body(const std::string& name) {
  std::istringstream in(slurp(std::string(SMWATCH_CORPUS_DIR) + "/" + name));
  std::string body;
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("#! ")) body += line + "\n";
  return body;
}

TEST(ExplainFacts, ComposePrefixIsNotTheGpuAndAContainerGetsAnImage) {
  auto f = explain_text(corpus_body("vllm_compose_prefix_5070ti.log"));
  const Finding* w = find(f, "pytorch-unsupported-gpu");
  ASSERT_NE(w, nullptr) << ids(f);
  EXPECT_EQ(w->values.at("gpu"), "NVIDIA GeForce RTX 5070 Ti");  // was "vllm-1  | NVIDIA GeForce RTX 5070 Ti"
  EXPECT_TRUE(w->fix.starts_with("This log is from a container")) << w->fix;
  EXPECT_NE(w->fix.find("image"), std::string::npos) << w->fix;
  // Outside a container the same warning gets the pip line.
  auto plain = explain_text(corpus_body("h100_torch_cu11_sm37_list.log"));
  ASSERT_NE(find(plain, "pytorch-unsupported-gpu"), nullptr);
  EXPECT_EQ(find(plain, "pytorch-unsupported-gpu")->fix.find("container"), std::string::npos);
}

TEST(ExplainFacts, AWarningsLocationNamesOnlyAPackageTheTableKnows) {
  // OpenPCDet: traits warned (".../dist-packages/traits/etsconfig/etsconfig.py:412: UserWarning") a few
  // lines before a pcdet op failed; traits was named as the package to rebuild.
  const std::string pcdet = corpus_body("openpcdet_623_quadro8000_cuda_kernel_failed.log");
  auto f = explain_text(pcdet);
  const Finding* op = find(f, "extension-kernel-no-image");
  ASSERT_NE(op, nullptr) << ids(f);
  EXPECT_NE(op->values.at("failing_package"), "traits");
  // The generic message on its own, after the same warning: still not traits.
  const std::string warning_line = pcdet.substr(0, pcdet.find('\n') + 1);
  ASSERT_NE(warning_line.find("UserWarning"), std::string::npos) << warning_line;
  auto generic = explain_text(warning_line + "RuntimeError: CUDA error: no kernel image is available for execution on the device\n");
  ASSERT_NE(find(generic, "no-kernel-image"), nullptr) << ids(generic);
  EXPECT_EQ(find(generic, "no-kernel-image")->values.at("failing_package"), "");
  // torch's own capability warning still names torch (Forge under journald).
  auto forge = explain_text(corpus_body("forge_nix_5090_journal_warning.log"));
  ASSERT_NE(find(forge, "no-kernel-image"), nullptr) << ids(forge);
  EXPECT_EQ(find(forge, "no-kernel-image")->values.at("failing_package"), "torch");
}

TEST(ExplainFacts, NewCapabilityWarningAndCoveragePerTorchVersion) {
  // torch >= 2.9 lists its CCs: a V100 (7.0) under a build starting at 7.5 is below, not "inside".
  auto f = explain_text(corpus_body("pytorch_new_cc_warning_v100_torch27.log"));
  const Finding* w = find(f, "pytorch-gpu-too-old");
  ASSERT_NE(w, nullptr) << ids(f);
  EXPECT_EQ(w->severity, "error");
  EXPECT_EQ(w->values.at("range_verdict"), "below");
  // The knowledge table says which builds still have sm_70: cu126, and cu128 only for torch 2.8-2.10.
  EXPECT_NE(w->fix.find("cu126 builds of torch 2.6-2.11 (sm_50-sm_90)"), std::string::npos) << w->fix;
  EXPECT_NE(w->fix.find("cu128 builds of torch 2.8-2.10 (sm_70-sm_120)"), std::string::npos) << w->fix;
  EXPECT_EQ(w->fix.find("torch 2.7 and 2.11"), std::string::npos) << w->fix;  // those cu128 builds start at 7.5
  // Maxwell (a GTX 960M, 5.0) is in the cu126 builds only: cu128 and cu130 start at 7.0 or 7.5.
  auto maxwell = explain_text(corpus_body("pytorch_gpu_too_old_maxwell_960m.log"));
  const Finding* m = find(maxwell, "pytorch-gpu-too-old");
  ASSERT_NE(m, nullptr) << ids(maxwell);
  EXPECT_EQ(m->values.at("range_verdict"), "below");
  EXPECT_NE(m->fix.find("cu126 builds of torch 2.6-2.11 (sm_50-sm_90), e.g. pip install torch --index-url "
                        "https://download.pytorch.org/whl/cu126"),
            std::string::npos)
      << m->fix;
  EXPECT_EQ(m->fix.find("cu128"), std::string::npos) << m->fix;
  EXPECT_EQ(m->fix.find("cu130"), std::string::npos) << m->fix;
  // An Ada card inside the range of a source build stays a warning.
  auto ada = explain_text(corpus_body("pytorch_range_rtx6000ada_false_negative.log"));
  ASSERT_NE(find(ada, "pytorch-gpu-too-old"), nullptr);
  EXPECT_EQ(find(ada, "pytorch-gpu-too-old")->severity, "warning");
}

TEST(ExplainFacts, TheToolThatFailedChoosesTheFix) {
  // Triton's bundled ptxas (a path into triton/backends/nvidia/bin), behind vLLM's process prefix.
  auto thor = explain_text(corpus_body("triton_ptxas_sm110a_thor_vllm.log"));
  const Finding* t = find(thor, "triton-ptxas-failed");
  ASSERT_NE(t, nullptr) << ids(thor);
  EXPECT_EQ(t->values.at("tool"), "ptxas");
  EXPECT_NE(t->fix.find("TRITON_PTXAS_PATH"), std::string::npos) << t->fix;
  EXPECT_EQ(t->fix.find("TRITON_PTXAS_BLACKWELL_PATH"), std::string::npos) << t->fix;
  // Upgrading that Triton to 3.6 would swap in a ptxas-blackwell (CUDA 12.9) that fails on Thor too.
  EXPECT_NE(t->fix.find("triton 3.7 or newer"), std::string::npos) << t->fix;
  // TensorRT's hex SM: 0x809 is 8.9, 0x601 is 6.1 (dropped by TensorRT 10: an older one).
  auto ada = explain_text(corpus_body("tensorrt_sm0x809_rcnn_4090.log"));
  ASSERT_NE(find(ada, "tensorrt-unsupported-sm"), nullptr) << ids(ada);
  EXPECT_EQ(find(ada, "tensorrt-unsupported-sm")->values.at("trt_gpu").substr(0, 5), "sm_89");
  auto pascal = explain_text(corpus_body("tensorrt_sm0x601_1080ti.log"));
  ASSERT_NE(find(pascal, "tensorrt-unsupported-sm"), nullptr) << ids(pascal);
  EXPECT_NE(find(pascal, "tensorrt-unsupported-sm")->fix.find("older TensorRT"), std::string::npos);
  // A cuDNN major is not a CUDA major (the fix named nvidia-cuda-runtime-cu9 before).
  auto cudnn = explain_text(corpus_body("onnxruntime_libcudnn9_missing.log"));
  ASSERT_NE(find(cudnn, "libcudart-missing"), nullptr) << ids(cudnn);
  EXPECT_EQ(find(cudnn, "libcudart-missing")->fix.find("cuda-runtime-cu9"), std::string::npos);
  EXPECT_NE(find(cudnn, "libcudart-missing")->fix.find("nvidia-cudnn-cu"), std::string::npos);
}

// Triton runs ptxas-blackwell for sm_100 and newer (3.6+): TRITON_PTXAS_PATH
// does not reach it, TRITON_PTXAS_BLACKWELL_PATH does; and for Thor only a
// Triton whose ptxas-blackwell is CUDA 13 helps (the knowledge table).
TEST(ExplainFacts, BlackwellPtxasGetsItsOwnVariable) {
  auto f = explain_text(corpus_body("triton_ptxas_blackwell_sm110a_thor.log"));
  const Finding* b = find(f, "triton-ptxas-blackwell-unknown-arch");
  ASSERT_NE(b, nullptr) << ids(f);
  EXPECT_EQ(find(f, "triton-ptxas-unknown-arch"), nullptr) << "the generic finding advises TRITON_PTXAS_PATH";
  EXPECT_NE(b->fix.find("export TRITON_PTXAS_BLACKWELL_PATH=<CUDA 13.0 or newer>/bin/ptxas"), std::string::npos) << b->fix;
  EXPECT_EQ(b->fix.find("export TRITON_PTXAS_PATH"), std::string::npos) << b->fix;
  EXPECT_NE(b->fix.find("triton 3.7 or newer"), std::string::npos) << b->fix;
  EXPECT_NE(b->cause.find("TRITON_PTXAS_PATH is not used"), std::string::npos) << b->cause;
}

// Each fact keeps the line it was read from, and whether a tool printed it
// or a person wrote it.
TEST(ExplainFacts, EachFactKeepsItsLineAndWhoSaidIt) {
  ExplainStream prose(SignatureSet::builtin());
  prose.feed(corpus_body("cublas_not_supported_rtx5080_pyvideotrans.log"));
  prose.finish();
  const LogFacts& p = prose.facts();
  EXPECT_EQ(p.gpu_name.value, "NVIDIA GeForce RTX 5080");  // "Current GPU: NVIDIA GeForce RTX 5080"
  EXPECT_EQ(p.gpu_cc.value, 120);
  EXPECT_EQ(p.gpu_cc.origin.line, 3u);
  EXPECT_TRUE(p.gpu_cc.origin.prose);
  ASSERT_TRUE(p.versions.count("torch"));
  EXPECT_EQ(p.versions.at("torch").value, "2.7.1+cu128");
  EXPECT_EQ(p.versions.at("torch").origin.line, 1u);
  EXPECT_FALSE(p.versions.at("torch").origin.prose);
  EXPECT_EQ(p.torch_cuda.value, "12.8");
  EXPECT_FALSE(p.container.known());

  ExplainStream compose(SignatureSet::builtin());
  compose.feed(corpus_body("vllm_compose_prefix_5070ti.log"));
  compose.finish();
  const LogFacts& c = compose.facts();
  EXPECT_EQ(c.container.value, "docker compose's prefix 'vllm-1 |'");
  EXPECT_EQ(c.container.origin.line, 1u);
  EXPECT_EQ(c.gpu_name.value, "NVIDIA GeForce RTX 5070 Ti");
  EXPECT_EQ(c.gpu_cc.origin.line, 2u);
  EXPECT_FALSE(c.gpu_cc.origin.prose);  // PyTorch's own warning
  EXPECT_EQ(c.torch_arch_list.value, "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90");
  EXPECT_EQ(c.torch_arch_list.origin.line, 3u);

  // The tool that failed: its own "fatal" line, or the command Python ran.
  ExplainStream thor(SignatureSet::builtin());
  thor.feed(corpus_body("triton_ptxas_sm110a_thor_vllm.log"));
  thor.finish();
  EXPECT_EQ(thor.facts().failed_tool.value, "ptxas");
}

LogFacts facts_of(const std::string& corpus_log) {
  ExplainStream stream(SignatureSet::builtin());
  stream.feed(corpus_body(corpus_log));
  stream.finish();
  return stream.facts();
}

// A package named in a list of versions ("xformers": "0.0.28.post1") is
// installed, not failing: InvokeAI's dependency list blamed xformers for a
// torch built without sm_120.
TEST(ExplainFacts, VersionListingsNameNoFailingPackage) {
  auto f = explain_text(corpus_body("invokeai_stabilitymatrix_5090_torch241_cu124_json.log"));
  const Finding* n = find(f, "no-kernel-image");
  ASSERT_NE(n, nullptr) << ids(f);
  EXPECT_EQ(n->values.at("failing_package"), "") << n->values.at("failing_where");
  EXPECT_NE(n->fix.find("cu128"), std::string::npos) << n->fix;
  // A package named outside a listing still counts ("Launching Web UI with arguments: xformers").
  auto named = explain_text(corpus_body("xformers_built_for_other_torch_invokeai.log"));
  ASSERT_NE(find(named, "xformers-built-for-other-torch"), nullptr) << ids(named);
}

// Prefixes that loggers put before each line are not part of any fact.
TEST(ExplainFacts, LogPrefixesAreDropped) {
  // Python's logging: the GPU name was "main__ - INFO - NVIDIA GeForce RTX 5090".
  EXPECT_EQ(facts_of("ocrflux_vllm_5090_logger_prefix.log").gpu_name.value, "NVIDIA GeForce RTX 5090");
  // docker compose v1's "vllm_1   | " is a container.
  EXPECT_EQ(facts_of("vllm_compose_v023_p100_no_kernel.log").container.value, "docker compose's prefix 'vllm_1 |'");
  LogFacts none;
  auto first_line = [](const std::string& corpus_log, const std::string& starting) {
    std::istringstream in(corpus_body(corpus_log));
    for (std::string line; std::getline(in, line);)
      if (line.starts_with(starting)) return line;
    return std::string();
  };
  // glog (Paddle): "W0120 16:56:34.715462 106570 gpu_resources.cc:119] ".
  const std::string glog = first_line("paddle_h800_cc90_not_supported.log", "W0120 16:56:34.715462");
  ASSERT_FALSE(glog.empty());
  EXPECT_TRUE(strip_log_prefix(glog, 1, none).starts_with("Please NOTE: device: 0")) << strip_log_prefix(glog, 1, none);
  // k9s' box around a pod's log.
  const std::string boxed = first_line("healthy_k8s_vllm_pod_log_box.log", "\xE2\x94\x82 INFO 03-21 20:15:44");
  ASSERT_FALSE(boxed.empty());
  EXPECT_EQ(strip_log_prefix(boxed, 1, none), "INFO 03-21 20:15:44 [monitor.py:33] torch.compile takes 28.77 s in total");
  // An RFC 3339 timestamp as kubectl --timestamps (and TGI's own logger) prints it.
  const std::string stamped = first_line("tgi_220_docker_t4_flashattention_ampere.log", "2024-08-25T13:45:15.509153Z ");
  ASSERT_FALSE(stamped.empty());
  EXPECT_TRUE(strip_log_prefix(stamped, 1, none).starts_with("ERROR warmup{")) << strip_log_prefix(stamped, 1, none);
  EXPECT_FALSE(none.container.known());
}

// The GPU in the forms tools and people print it.
TEST(ExplainFacts, GpuNamesFromDeviceLinesAndProse) {
  struct Case {
    const char* log;
    const char* name;
    int cc;
    bool prose;
  };
  for (const Case& c : {
           Case{"healthy_comfyui_4090_cu128_startup.log", "NVIDIA GeForce RTX 4090", 89, false},  // Device: cuda:0 ... : native
           Case{"comfyui_desktop_gtx1070_cu129.log", "NVIDIA GeForce GTX 1070", 61, false},       // **Name:** cuda:0 ... : cudaMallocAsync
           Case{"gminer_rtx5090_no_kernel.log", "NVIDIA GeForce RTX 5090", 120, false},           // GPU0: ASUS NVIDIA ... 31GB [..]
           Case{"healthy_tf_v100_created_device.log", "Tesla V100-SXM2-32GB", 70, false},         // TF: compute capability: 7.0
           Case{"invokeai_stabilitymatrix_5090_torch241_cu124_json.log", "RTX 5090 FE", 120, true},  // a line that is only a name
           Case{"comfyui_portable_1080ti_cu128_prose.log", "NVIDIA GeForce GTX 1080 Ti", 61, true},  // "- NVIDIA GeForce GTX 1080 Ti"
           Case{"fgnn_3080ti_torch151_cu101_cudnn_exec_failed.log", "GeForce RTX 3080 Ti", 86, true},  // "it is GeForce RTX 3080 Ti."
           Case{"sglang_deepgemm_sm120_unsupported_arch.log", "NVIDIA RTX PRO 6000 Blackwell Server Edition", 120, true},
       }) {
    SCOPED_TRACE(c.log);
    const LogFacts f = facts_of(c.log);
    EXPECT_EQ(f.gpu_name.value, c.name);
    EXPECT_EQ(f.gpu_cc.value, c.cc);
    EXPECT_EQ(f.gpu_cc.origin.prose, c.prose);
  }
  // cuPCL's device query: "GPU : NVIDIA Tegra X2" then "Capbility: 6.2", the capability a tool's word.
  const LogFacts tx2 = facts_of("cupcl_tegra_x2_209.log");
  EXPECT_EQ(tx2.gpu_name.value, "NVIDIA Tegra X2");
  EXPECT_EQ(tx2.gpu_cc.value, 62);
  EXPECT_FALSE(tx2.gpu_cc.origin.prose);
}

// What shows a container (the knowledge table's container_hints), and the
// image advice for a kernel torch lacks there.
TEST(ExplainFacts, ContainersAreSeenAndGetAnImage) {
  // The NGC base image's own warning about the GPU.
  EXPECT_EQ(facts_of("sglang_latest_image_b200_ngc_banner.log").container.origin.line, 1u);
  // k3s, named before the docker command.
  EXPECT_EQ(facts_of("lmcache_vllm_openai_k3s_5090_cu126_image.log").container.value, "'k3s' on line 1");
  // no kernel image in docker compose on a P100: another image, not pip.
  auto f = explain_text(corpus_body("vllm_compose_v023_p100_no_kernel.log"));
  const Finding* n = find(f, "no-kernel-image");
  ASSERT_NE(n, nullptr) << ids(f);
  EXPECT_TRUE(n->fix.starts_with("This log is from a container")) << n->fix;
  EXPECT_NE(n->fix.find("sm_60"), std::string::npos) << n->fix;
}

// The nvidia-cublas-cuNN wheel that ships a missing cuBLAS: NN is the
// library's own major (libcublas.so.11: CUDA 11), not torch's CUDA or "XX".
TEST(ExplainFacts, RuntimeWheelFromTheLibrarysOwnMajor) {
  for (auto [log, wheel] : {std::pair<const char*, const char*>{"ctranslate2_libcublas11_translate.log", "pip install nvidia-cublas-cu11"},
                            {"onnxruntime_paddlenlp_libcublaslt11.log", "pip install nvidia-cublas-cu11"},
                            {"ctranslate2_cublas64_12_dll_windows.log", "pip install nvidia-cublas-cu12"}}) {
    SCOPED_TRACE(log);
    auto f = explain_text(corpus_body(log));
    ASSERT_FALSE(f.empty());
    ASSERT_TRUE(f.front().values.count("runtime_wheel")) << ids(f);
    EXPECT_EQ(f.front().values.at("runtime_wheel"), wheel);
  }
}

// A frozen Windows application's frames are relative to its bundle
// ('File "torch\nn\modules\module.py"'): the first component names the package.
TEST(ExplainFacts, FrozenFramesNameTheirPackage) {
  auto f = explain_text(corpus_body("whisper_xxl_frozen_torch_rtx5070.log"));
  const Finding* n = find(f, "no-kernel-image");
  ASSERT_NE(n, nullptr) << ids(f);
  EXPECT_EQ(n->values.at("failing_package"), "torch");
  EXPECT_EQ(n->values.at("importer"), "torch.nn.modules.rnn");
}

// Versions in markdown, JSON and list forms, and of the packages table's names.
TEST(ExplainFacts, VersionsInMarkdownJsonAndLists) {
  const LogFacts md = facts_of("comfyui_desktop_gtx1070_cu129.log");  // "- **PyTorch Version:** 2.8.0+cu129"
  ASSERT_TRUE(md.versions.count("torch"));
  EXPECT_EQ(md.versions.at("torch").value, "2.8.0+cu129");
  EXPECT_EQ(md.torch_cuda.value, "12.9");
  const LogFacts json = facts_of("invokeai_stabilitymatrix_5090_torch241_cu124_json.log");  // "torch": "2.4.1+cu124"
  ASSERT_TRUE(json.versions.count("torch"));
  EXPECT_EQ(json.versions.at("torch").value, "2.4.1+cu124");
  EXPECT_EQ(json.torch_cuda.value, "12.4");
  EXPECT_EQ(json.versions.count("torchvision"), 0u);
  const LogFacts item = facts_of("comfyui_portable_1080ti_cu128_prose.log");  // "- 2.8.0+cu128"
  ASSERT_TRUE(item.versions.count("torch"));
  EXPECT_EQ(item.versions.at("torch").value, "2.8.0+cu128");
  EXPECT_EQ(item.torch_cuda.value, "12.8");
  const LogFacts cupy = facts_of("cupy_cuda13_gtx1080_nvrtc_invalid_arch.log");
  ASSERT_TRUE(cupy.versions.count("cupy"));
  EXPECT_EQ(cupy.versions.at("cupy").value, "13.6.0");
  const LogFacts trtllm = facts_of("trtllm_019_torch26_pin_5090.log");
  ASSERT_TRUE(trtllm.versions.count("tensorrt-llm"));
  EXPECT_EQ(trtllm.versions.at("tensorrt-llm").value, "0.19.0");
}

// ---- The command ----------------------------------------------------------

TEST(ExplainCommand, ExitCodesAndOutput) {
  auto hit = test::run({"explain", log_path("pytorch_rtx5090.log")});
  EXPECT_EQ(hit.status, 0) << hit.err;
  EXPECT_NE(hit.out.find("pytorch_rtx5090.log:3: error: PyTorch has no GPU code"), std::string::npos) << hit.out;
  EXPECT_NE(hit.out.find("fix:"), std::string::npos);
  EXPECT_NE(hit.out.find("Summary: 2 known problems"), std::string::npos) << hit.out;

  auto none = test::run({"explain", log_path("healthy_sglang.log")});
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.out.find("no known CUDA failure signature"), std::string::npos);

  auto missing = test::run({"explain", "/nonexistent/server.log"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("/nonexistent/server.log: cannot open"), std::string::npos) << missing.err;
}

TEST(ExplainCommand, StandardInputAndJson) {
  auto r = test::run({"explain", "--json", "-"}, {}, slurp(log_path("driver_log_h100.log")));
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["schema"], "smwatch.explain/1");
  EXPECT_EQ(doc["source"], "-");
  ASSERT_GE(doc["findings"].size(), 4u);
  EXPECT_EQ(doc["findings"][0]["id"], "driver-log-no-device-code");
  EXPECT_EQ(doc["findings"][0]["line"], 2);
  auto implicit = test::run({"explain"}, {}, "RuntimeError: CUDA error: invalid device function\n");
  EXPECT_EQ(implicit.status, 0);
  EXPECT_NE(implicit.out.find("standard input:1"), std::string::npos) << implicit.out;
}

TEST(ExplainCommand, SignaturesFileChoice) {
  std::string dir = test::scratch("sigs");
  test::spit(dir + "/mine.json", R"j({"signatures":[{"id":"oom","needles":["out of memory"],"regex":"CUDA out of memory",
    "captures":[],"title":"GPU memory exhausted","cause":"c","fix":"smaller batch"}]})j");
  auto own = test::run({"explain", "--signatures", dir + "/mine.json"}, {}, "torch.OutOfMemoryError: CUDA out of memory.\n");
  EXPECT_EQ(own.status, 0) << own.err;
  EXPECT_NE(own.out.find("GPU memory exhausted"), std::string::npos);
  auto env = test::run({"explain"}, {{"SMWATCH_SIGNATURES", dir + "/mine.json"}}, "CUDA error: invalid device function\n");
  EXPECT_EQ(env.status, 1) << "only the chosen file's signatures apply";
  test::spit(dir + "/bad.json", R"j({"signatures":[{"id":"b","needles":["x"],"regex":"(","captures":[],"title":"t","cause":"c","fix":"f"}]})j");
  auto bad = test::run({"explain", "--signatures", dir + "/bad.json"}, {}, "x\n");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find(dir + "/bad.json: signature 'b': bad regex"), std::string::npos) << bad.err;
  auto list = test::run({"explain", "--list-signatures"});
  EXPECT_EQ(list.status, 0);
  EXPECT_NE(list.out.find("pytorch-unsupported-gpu"), std::string::npos);
}

// A library the log names that exists here is read with the inspector.
TEST(ExplainCommand, NamedLibraryIsReadHere) {
  const std::string so = fs::canonical(SMWATCH_FIXTURE_DIR "/sm80.so").string();
  auto r = test::run({"explain", "--json", "--python", "none"}, {},
                     "OSError: " + so + ": kernel launch failed\n"
                     "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
                     "|   0  NVIDIA GeForce RTX 5090        On  |\n");
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  const std::string cause = doc["findings"][0]["cause"];
  EXPECT_NE(cause.find(so + " (here) holds SASS sm_80, no PTX: nothing for sm_120."), std::string::npos) << cause;
  EXPECT_EQ(doc["context"]["gpu_sm"], "sm_120");
  // The facts the log gave, each with its line and who said it (nvidia-smi's table: a tool).
  EXPECT_EQ(doc["context"]["facts"]["gpu_cc"]["value"], 120) << doc["context"].dump();
  EXPECT_EQ(doc["context"]["facts"]["gpu_cc"]["line"], 3);
  EXPECT_EQ(doc["context"]["facts"]["gpu_cc"]["from"], "tool");
}

// explain answers as it reads: a pipe that stays open (a server that hangs
// after its error, or one that keeps logging) gets its answer before EOF.
TEST(ExplainCommand, AnswersBeforeTheEndOfAPipe) {
  const std::string nki = "RuntimeError: CUDA error: no kernel image is available for execution on the device";
  auto quiet = test::run({"-c", "(echo '" + nki + "'; sleep 6) 2>/dev/null | timeout 3 '" SMWATCH_PATH "' explain"}, {}, "", "/bin/sh");
  EXPECT_EQ(quiet.status, 124) << "the pipe never ended, smwatch was stopped";
  EXPECT_NE(quiet.out.find("[1] standard input:1: error:"), std::string::npos) << quiet.out;
  auto busy = test::run({"-c", "(echo '" + nki + "'; yes 'INFO 05-26 07:50:26 [core.py:396] still running') 2>/dev/null | timeout 3 '" SMWATCH_PATH "' explain"},
                        {}, "", "/bin/sh");
  EXPECT_EQ(busy.status, 124);
  EXPECT_NE(busy.out.find("[1] standard input:1: error:"), std::string::npos) << busy.out.substr(0, 400);
}

// 120 MB of log (short lines, where the old reader needed about 35x the input)
// under a 150 MB address-space limit: the window is bounded.
TEST(ExplainCommand, LongInputInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer runtime reserves terabytes of shadow memory at start-up, which
  // no `ulimit -v` allows: the bound is checked by the plain build's run.
  GTEST_SKIP() << "ulimit -v cannot bound a sanitizer build";
#endif
  auto r = test::run({"-c", "(yes 'INFO worker 3 step 1234 loss 0.5' | head -c 120000000; "
                            "echo 'RuntimeError: CUDA error: invalid device function') | "
                            "(ulimit -v 150000; exec '" SMWATCH_PATH "' explain)"},
                     {}, "", "/bin/sh");
  EXPECT_EQ(r.status, 0) << r.err;
  // 120,000,000 bytes of 33-byte lines: 3,636,363 whole lines, the message ends line 3,636,364.
  EXPECT_NE(r.out.find("standard input:3636364: error:"), std::string::npos) << r.out.substr(0, 400);
}

TEST(ExplainCommand, HelpTeachesWithExamples) {
  auto r = test::run({"explain", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  EXPECT_NE(r.out.find("Exit status: 0"), std::string::npos);
}

// Fallback families (fresh9): a line read by its words ("all_of" groups, any
// order) speaks only where no signature told what failed.
TEST(ExplainFallback, AWordFamilySpeaksOnlyWhereNothingElseDid) {
  // OpenCV's CMake: "CUDA backend for DNN module requires CC 5.3 or higher" under "CMake Error at".
  const std::string opencv = corpus_body("opencv_15930_dnn_cuda_cc53_arch_bin.log");
  auto alone = explain_text(opencv);
  ASSERT_NE(find(alone, "gpu-requirement-not-met"), nullptr) << ids(alone);
  // With a failure a signature knows in the same log, the fallback is silent.
  auto with_known = explain_text(corpus_body("burstormer_19_rtx4090_torch_sm37_sm70.log") + opencv);
  EXPECT_NE(find(with_known, "pytorch-unsupported-gpu"), nullptr) << ids(with_known);
  EXPECT_EQ(find(with_known, "gpu-requirement-not-met"), nullptr) << ids(with_known);
  // Each group must be present: the requirement without a failure word is no finding.
  EXPECT_TRUE(explain_text("This kernel requires compute capability 8.0 or higher.\n").empty());
  EXPECT_NE(find(explain_text("RuntimeError: this kernel requires compute capability 8.0 or higher\n"), "gpu-requirement-not-met"), nullptr);
  // A warning that falls back is no failure.
  EXPECT_TRUE(explain_text("UserWarning: bf16 is not supported on compute capability 7.5, falling back to fp16\n").empty());
}

TEST(ExplainFallback, AllOfGroupsAreChecked) {
  auto parse = [](const std::string& all_of) {
    return SignatureSet::parse(R"j({"signatures":[{"id":"x","needles":["a"],"title":"t","cause":"c","fix":"f","regex":"a","all_of":)j" +
                                   all_of + "}]}",
                               "test.json");
  };
  EXPECT_TRUE(parse(R"([["a","b"],["c"]])").ok());
  for (const char* bad : {"[]", R"(["a"])", R"([[]])", R"([["a",""]])", R"([["a",1]])"}) {
    auto r = parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("all_of"), std::string::npos) << r.error().message;
  }
}

// pytest prints an exception's lines behind "E   ": JAX's multi-line cuDNN check is read through it.
TEST(ExplainFacts, PytestPrefixIsDropped) {
  auto f = explain_text(corpus_body("pixi_scipystack_1_jax_cudnn_8907_min_9100.log"));
  const Finding* w = find(f, "jax-cuda-library-too-old");
  ASSERT_NE(w, nullptr) << ids(f);
  EXPECT_NE(w->title.find("cuDNN"), std::string::npos) << w->title;
}

// The needle index against the plain search it replaced: the built-in
// signatures' needles over every line of the real corpus (and each line's
// every suffix start, where a needle may end the line).
TEST(NeedleIndex, FindsWhatFindFinds) {
  const auto doc = nlohmann::json::parse(SignatureSet::builtin_text());
  std::vector<std::vector<std::string>> needles;
  NeedleIndex index;
  for (const auto& sig : doc["signatures"]) {
    needles.emplace_back();
    for (const auto& n : sig["needles"]) {
      std::string low = n.get<std::string>();
      std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      needles.back().push_back(low);
      index.add(low, static_cast<uint32_t>(needles.size() - 1));
    }
  }
  index.add("zq", 0);  // a needle shorter than the indexed prefix
  needles[0].push_back("zq");
  index.build(needles.size());
  size_t lines = 0, hits = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SMWATCH_CORPUS_DIR)) {
    std::istringstream in(slurp(entry.path().string()));
    for (std::string line; std::getline(in, line);) {
      std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      for (size_t cut : {size_t{0}, line.size() / 2, line.size() > 2 ? line.size() - 2 : 0}) {
        std::string_view text = std::string_view(line).substr(cut);
        const SignatureBits bits = index.scan(text);
        ++lines;
        for (size_t s = 0; s < needles.size(); ++s) {
          bool found = std::any_of(needles[s].begin(), needles[s].end(),
                                   [&](const std::string& n) { return text.find(n) != std::string_view::npos; });
          hits += found;
          ASSERT_EQ(has_bit(bits, s), found) << "signature " << s << " on '" << text << "'";
        }
      }
    }
  }
  EXPECT_GT(lines, 10000u);
  EXPECT_GT(hits, 1000u);
}

}  // namespace
}  // namespace smwatch::cli
