// One signature of a SignatureSet, as the parser checked it.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "signatures.h"
#include "values.h"

namespace smwatch::cli {

struct SignatureSet::Signature {
  std::string id, severity, title, cause, fix;
  std::vector<std::string> needles;  // lower case; one must occur before the regex runs
  std::regex re;
  std::regex unless;  // a line (window) matching this is not a match (e.g. a WARNING line)
  bool has_unless = false;
  Derive derive = Derive::kNone;         // C++ reading of the values (explain/values.h)
  std::vector<std::string> captures;     // names of groups 1..n
  size_t lines = 1;                      // window: this line and the next lines - 1
  std::string target;                    // value naming a GPU/arch, "" = none
  std::string demangle;                  // value holding a mangled name, "" = none
  std::vector<std::string> json_fields;  // the line holds a JSON record: these fields become values
  std::vector<std::string> requires_ids, supersedes;
  std::vector<std::string> hidden_by;  // not reported when one of these matched anywhere in the log
  std::string package;                 // the distribution whose message this is (value "package" when none captured)
  std::vector<std::string> dedupe;     // values that make two matches different findings
  bool dedupe_set = false;             // "dedupe" given ([] folds every match into one)
  // A family told by its words, not one wording: the window must hold a word
  // of every group (lower case), e.g. a failure word, a GPU word and a
  // requirement word, in any order. Checked before the regex.
  std::vector<std::vector<std::string>> all_of;
  // Said only when nothing else in the log was: a generic reading of a line
  // whose exact wording no signature knows.
  bool fallback = false;
};

}  // namespace smwatch::cli
