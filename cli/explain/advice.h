// The values of a finding made from the log's facts, the knowledge tables,
// the GPU table and the Python environment, and the finding's text from its
// signature's templates. Where a fact is missing the values say so rather
// than guess.
#pragma once

#include <map>
#include <string>

#include "facts.h"
#include "finding.h"
#include "signatures.h"

namespace smwatch::cli {

// The values a "target" capture (sm_120, 12.0, RTX 5090) derives from the GPU table.
void add_target_values(const std::string& spec, std::map<std::string, std::string>& values);

// Fills the finding's derived values and its title, cause and fix. Called
// when the finding is first told and again with the whole log's facts.
// `so_code` caches what named libraries hold; null: read no files.
void render(const SignatureSet::Signature& sig, Finding& f, const LogFacts& facts, const Knowledge& knowledge,
            const PythonEnv* env, std::map<std::string, std::string>* so_code);

}  // namespace smwatch::cli
