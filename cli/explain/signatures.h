// The known failure signatures of `smwatch explain` (cli/signatures.json,
// schema smwatch.signatures/2) and the knowledge their fixes are made of.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "finding.h"
#include "needles.h"
#include "smwatch/python_env.h"
#include "smwatch/result.h"

namespace smwatch::cli {

class Knowledge;

// PythonEnv, query_python_env and dist_name live in inspector/files (smwatch/python_env.h).
using smwatch::PythonEnv;
using smwatch::dist_name;
using smwatch::query_python_env;

inline constexpr const char* kSignaturesSchema = "smwatch.signatures/2";

class SignatureSet {
 public:
  // Parses and checks a signatures document: every regex compiles, every
  // {placeholder} names a value the signature can produce, every id referred
  // to exists, every knowledge table is well formed. A document without
  // "knowledge" uses the built-in one. `origin` names the document in errors.
  static Result<SignatureSet> parse(std::string_view json_text, const std::string& origin);
  // The copy of cli/signatures.json compiled into the program.
  static const SignatureSet& builtin();
  static std::string_view builtin_text();

  SignatureSet();
  ~SignatureSet();
  SignatureSet(SignatureSet&&) noexcept;
  SignatureSet& operator=(SignatureSet&&) noexcept;

  size_t size() const;
  std::vector<std::string> ids() const;
  const std::string& origin() const { return origin_; }
  // What the fixes are made of: packages and the names that show them in a
  // log, which builds cover which GPUs, each row with its source.
  const Knowledge& knowledge() const;

  // The whole log at once (an ExplainStream fed once); findings by line.
  std::vector<Finding> explain(std::string_view log, const PythonEnv* env = nullptr) const;

  struct Signature;  // explain/signature.h

 private:
  friend class ExplainStream;
  std::vector<std::unique_ptr<Signature>> signatures_;
  std::string origin_;
  size_t max_lines_ = 1;
  size_t min_needle_ = static_cast<size_t>(-1);  // shortest needle (lower case bytes)
  NeedleIndex needle_index_;                     // every needle, by signature index
  std::shared_ptr<const Knowledge> knowledge_;
};

}  // namespace smwatch::cli
