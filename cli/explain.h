// `smwatch explain`: recognising known CUDA failure signatures in logs.
//
// The signatures are data (cli/signatures.json, schema below); this file is
// the matcher. It takes untrusted text of any size and content, so it is also
// the entry point the fuzzers link (target smwatch_cli_core).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/result.h"

namespace smwatch::cli {

// One recognised problem. Repeats of the same signature with the same values
// (the same traceback printed by 8 workers) are folded into one Finding.
struct Finding {
  std::string id;        // signature id, e.g. "no-kernel-image"
  std::string severity;  // "error", "warning" or "context"
  std::string title;     // one line, values filled in
  std::string cause;
  std::string fix;
  size_t line = 0;                 // 1-based line of the first occurrence
  std::vector<size_t> more_lines;  // later occurrences (at most kMaxLinesKept)
  size_t count = 1;                // occurrences in all
  std::string text;                // the matched line(s), as in the log
  std::map<std::string, std::string> values;  // captures and derived values
};
inline constexpr size_t kMaxLinesKept = 20;

class SignatureSet {
 public:
  // Parses and checks a signatures document: every regex compiles, every
  // {placeholder} names a value the signature can produce, every id referred
  // to exists. `origin` names the document in error messages.
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

  std::vector<Finding> explain(std::string_view log) const;

  struct Signature;  // defined in explain.cc

 private:
  std::vector<std::unique_ptr<Signature>> signatures_;
  std::string origin_;
};

// The matcher with the built-in signatures. Never throws, whatever the input.
std::vector<Finding> explain_text(std::string_view log);

}  // namespace smwatch::cli
