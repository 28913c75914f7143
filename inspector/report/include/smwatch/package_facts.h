// Knowledge about packages that their files do not say: which file a
// package loads on which GPU (sgl-kernel's sm90/ and sm100/ builds), which
// file it picks by torch's CUDA version (bitsandbytes), which code it only
// uses where it was built for (flashinfer's cubins). Kept as data, one
// versioned table (package_facts.json, embedded at build time), each fact
// with its source; docs/package-facts.md describes the format. The judge
// (judge.cc) reads it: a file a fact says is not used on a GPU is N/A there,
// and the verdict names the fact.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smwatch/result.h"

namespace smwatch {

// A set of compute capabilities: "9.0" (exactly), "8.x" (a major), "8.0+"
// (at least).
struct CcPattern {
  uint16_t cc = 0;
  enum class Kind : uint8_t { kExact, kMajor, kAtLeast } kind = Kind::kExact;
  bool matches(uint16_t target_cc) const;
};

struct PackageFact {
  std::string id;        // "sgl-kernel/sm90-common-ops": what verdicts name
  std::string package;   // distribution name as PyPI spells it ("sgl-kernel")
  std::string versions;  // ">=0.3.21,<0.4": the releases it holds for
  std::vector<std::string> files;  // globs on the path inside the package ('*' crosses '/')
  // The effect, one of:
  std::vector<CcPattern> used_on;      // the files are used only on these GPUs
  std::vector<CcPattern> not_used_on;  // the files are never used on these GPUs
  // The files are chosen by the CUDA version torch was built with; the glob's
  // single '*' in the last component is that version without the dot
  // ("libbitsandbytes_cuda*.so": cuda128 for torch built with CUDA 12.8).
  bool chosen_by_torch_cuda = false;
  // The package compiles its kernels for the GPU at first use: shipped
  // device code with nothing for a GPU is not what it runs there.
  bool compiled_at_first_use = false;
  std::string says;    // the fact, in a sentence
  std::string source;  // where it was checked: build file, docs, PR (URL)
  std::string checked; // what was checked against, e.g. "sgl_kernel/load_utils.py of the 0.3.21 wheel"
};

// Reads a facts document (docs/package-facts.md); an error names the fact
// and the field at fault.
Result<std::vector<PackageFact>> parse_package_facts(std::string_view json_text);
// The table built into smscan (inspector/report/package_facts.json).
const std::vector<PackageFact>& builtin_package_facts();

// PEP 440 release comparison, enough for ranges such as ">=0.3.21,<0.4":
// clauses joined by ',', each of >=, >, <=, <, ==, != and a version; a local
// label ("+cu128") and pre/post/dev suffixes beyond the release are ignored.
// An empty range holds for every version.
bool version_in_range(std::string_view version, std::string_view range);
// "12.8" -> "128": how file names spell a CUDA version.
std::string cuda_digits(std::string_view cuda_version);

// Whether `path` (a wheel member or an installed file's path) is one of the
// fact's files: a glob matches the whole path or any tail of it after a '/'.
bool fact_covers_file(const PackageFact& fact, std::string_view path);
// The fact, as `smscan --explain-facts` lists it.
std::string describe_fact(const PackageFact& fact);

}  // namespace smwatch
