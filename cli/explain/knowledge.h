// What the fixes of `smwatch explain` (and doctor's list of CUDA packages)
// are made of: the "knowledge" object of signatures.json, parsed and checked
// once. Every list of package names the code uses derives from its tables;
// none is kept in C++.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/result.h"

namespace smwatch::cli {

// One row of the packages table: a distribution, or (pip: false) code that no
// pip name installs as such (a bundled or source-built copy, a family of
// NVIDIA wheels), with the names that show it in a log.
struct PackageRow {
  std::string name;  // the distribution ("flash-attn"), or what to call it ("llama.cpp (ggml-cuda)")
  bool pip = true;
  // torch dispatches other packages' kernels, triton compiles them: their
  // frames, namespaces and libraries say whose kernel failed only last.
  enum class Role { kNone, kDispatcher, kCompiler };
  Role role = Role::kNone;
  bool kernels = false;       // ships its own CUDA kernels (a torch frame it called ran one of them)
  bool cuda_related = false;  // doctor lists it among the CUDA packages
  std::vector<std::string> modules;         // top-level Python modules it installs ("flash_attn")
  std::vector<std::string> ops_namespaces;  // torch.ops namespaces it registers ("_vllm_fa2_C")
  std::vector<std::string> version_names;   // what a log prints before its version ("pytorch"); '-' also matches '_'
  struct Library {
    std::string needle;  // lower case text on a log line ("libbitsandbytes_cuda")
    std::string where;   // how the finding names the place ("libbitsandbytes_cuda*.so")
  };
  std::vector<Library> libraries;    // library or source names: the most specific evidence on a line
  std::vector<std::string> mentions;  // bare names that name it on a line, read after every row's libraries
  std::string bundled_tools;          // where its wheel keeps the CUDA tools it runs ("triton/backends/nvidia/bin")
  std::string app;                    // the application whose releases bundle this code ("Ollama"): the fix is one of its releases
  std::string serving_note;           // when its kernel fails under a server: why the server's switches do not avoid it
  std::string runtime_library;        // the CUDA library family this wheel ships ("libcudnn")
  std::string runtime_install;        // how to install it: {torch_cuda_major} {soname_major} {library}
  std::string source;                 // where each of these facts is shown: the package's own files, a corpus log
};

// The first or last release of a tool for a GPU range; PTX instructions that
// only an 'a' target has. (Which PyTorch builds include which GPUs is the
// inspector's: smwatch/package_fix.h.)
struct ReleaseRow {
  int cc_min = 0, cc_max = 0;
  std::string first, last, source;  // one of first (the first release for the GPUs) and last (the last one)
};
struct TextRow {
  std::string text, source;  // a lower case text ("docker run") and where it is seen
};
struct InstructionRow {
  std::string prefix, only, source;  // "wgmma", "sm_90a"
};

class Knowledge {
 public:
  // Checks every table; an error names `where`, the table and the row.
  static Result<Knowledge> parse(const nlohmann::json& knowledge, const std::string& where);

  const std::vector<PackageRow>& packages() const { return packages_; }
  const PackageRow* find(std::string_view name) const;

  // Python module (its first component) -> the distribution that installs it.
  std::string dist_of_module(std::string_view module) const;
  // torch.ops namespace -> the row that registers it (nullptr: unknown).
  const PackageRow* ops_namespace(std::string_view ns) const;
  // The package a log line (lower case) names by a library or a bare name;
  // false when it names none.
  bool named_on_line(std::string_view low, std::string& package, std::string& where) const;
  bool role_is(std::string_view package, PackageRow::Role role) const;
  bool ships_kernels(std::string_view package) const;
  // A name a pip command can install (not a bundled copy or a family).
  bool installable(std::string_view package) const;

  // "name version" as pip lists, collect_env, banners and ==pins print it,
  // also quoted or bold ("\"torch\": \"2.4.1\"", "**PyTorch Version:** 2.8.0"):
  // group 1 the name, group 2 the version. The name alternation comes from
  // the version_names of the packages table.
  const std::regex& version_regex() const { return version_regex_; }
  // Lower case texts one of which any version_regex() match contains.
  const std::vector<std::string>& version_needles() const { return version_needles_; }
  // The package a printed name stands for ("PyTorch" -> "torch"), "" if none.
  std::string version_key(std::string_view printed) const;

  // Texts that show that a log comes from a container, in the order they are
  // named as the reason.
  const std::vector<std::string>& container_hints() const { return container_hints_; }
  // The pip command for the wheel that ships `library` ("libcudnn_adv.so.9"),
  // "" when no row ships it.
  std::string runtime_install(const std::string& library, const std::string& torch_cuda_major,
                              const std::string& soname_major) const;
  // A path to a tool (ptxas) inside `package`'s own copy of the CUDA tools
  // (Windows' backslashes, also doubled as Python prints them, count as '/').
  bool bundled_tool(std::string_view package, std::string_view path) const;
  // doctor: a distribution name is CUDA-related (matched loosely: for display).
  bool cuda_related(std::string_view dist) const;

  const std::vector<ReleaseRow>& tensorrt() const { return tensorrt_; }
  const std::vector<ReleaseRow>& triton_ptxas() const { return triton_ptxas_; }
  const std::vector<InstructionRow>& arch_specific_instructions() const { return instructions_; }

 private:
  std::vector<PackageRow> packages_;
  std::map<std::string, size_t, std::less<>> by_name_, by_module_, by_ops_namespace_, by_version_name_;
  struct Needle {
    std::string text, where;
    size_t row;
  };
  std::vector<Needle> line_needles_;  // libraries, then mentions, then the dispatcher's: the order they are tried in
  std::regex version_regex_;
  std::vector<std::string> version_needles_;
  std::vector<std::string> container_hints_;
  std::vector<std::string> cuda_words_;  // lower case
  std::vector<ReleaseRow> tensorrt_, triton_ptxas_;
  std::vector<InstructionRow> instructions_;
};

}  // namespace smwatch::cli
