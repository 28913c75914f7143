#include "signatures.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "knowledge.h"
#include "signature.h"
#include "signatures_embed.h"  // generated from cli/signatures.json by embed.cmake
#include "strings.h"

namespace smwatch::cli {

using nlohmann::json;

namespace {

std::vector<std::string> string_list(const json& sig, const char* key, const std::string& where, std::string& error) {
  std::vector<std::string> out;
  if (!sig.contains(key)) return out;
  const json& v = sig[key];
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) {
    error = where + ": \"" + key + "\" must be a string or a list of strings";
    return out;
  }
  for (const auto& item : v) {
    if (!item.is_string()) {
      error = where + ": \"" + key + "\" must hold strings only";
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string derive_names() {
  std::string out;
  for (const auto& d : kDerives) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

}  // namespace

SignatureSet::SignatureSet() = default;
SignatureSet::~SignatureSet() = default;
SignatureSet::SignatureSet(SignatureSet&&) noexcept = default;
SignatureSet& SignatureSet::operator=(SignatureSet&&) noexcept = default;
size_t SignatureSet::size() const { return signatures_.size(); }

const Knowledge& SignatureSet::knowledge() const {
  static const Knowledge kNone;
  return knowledge_ ? *knowledge_ : kNone;
}

std::vector<std::string> SignatureSet::ids() const {
  std::vector<std::string> out;
  for (const auto& s : signatures_) out.push_back(s->id);
  return out;
}

Result<SignatureSet> SignatureSet::parse(std::string_view json_text, const std::string& origin) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return make_error(origin + ": not valid JSON");
  if (!doc.is_object() || !doc.contains("signatures") || !doc["signatures"].is_array())
    return make_error(origin + ": expected an object with a \"signatures\" list");
  if (doc.contains("schema") && doc["schema"] != kSignaturesSchema)
    return make_error(origin + ": \"schema\" must be \"" + kSignaturesSchema + "\" (this smwatch reads no other)");
  SignatureSet set;
  set.origin_ = origin;
  if (doc.contains("knowledge")) {
    auto knowledge = Knowledge::parse(doc["knowledge"], origin);
    if (!knowledge) return make_error(knowledge.error().message);
    set.knowledge_ = std::make_shared<const Knowledge>(std::move(*knowledge));
  } else {
    set.knowledge_ = builtin().knowledge_;
  }
  std::set<std::string> ids;
  size_t index = 0;
  for (const auto& j : doc["signatures"]) {
    ++index;
    std::string where = origin + ": signature " + std::to_string(index);
    if (!j.is_object()) return make_error(where + ": not an object");
    auto text = [&](const char* key, bool required, std::string& out) -> bool {
      if (!j.contains(key)) return !required;
      if (!j[key].is_string()) return false;
      out = j[key].get<std::string>();
      return true;
    };
    auto sig = std::make_unique<Signature>();
    if (!text("id", true, sig->id) || sig->id.empty()) return make_error(where + ": needs a string \"id\"");
    where = origin + ": signature '" + sig->id + "'";
    if (!ids.insert(sig->id).second) return make_error(where + ": id used twice");
    std::string regex;
    for (auto [key, out] : {std::pair<const char*, std::string*>{"title", &sig->title},
                            {"cause", &sig->cause},
                            {"fix", &sig->fix},
                            {"regex", &regex}}) {
      if (!text(key, true, *out) || out->empty()) return make_error(where + ": needs a non-empty string \"" + key + "\"");
    }
    sig->severity = "error";
    if (!text("severity", false, sig->severity) ||
        (sig->severity != "error" && sig->severity != "warning" && sig->severity != "context"))
      return make_error(where + ": \"severity\" must be error, warning or context");
    // An unbounded lazy quantifier before a literal ("(.+?) which is") makes
    // std::regex scan to the end of the line from every start: quadratic on
    // near-miss lines. Such a signature says how far it looks ({0,120}?).
    size_t lazy = regex.find("*?");
    if (lazy == std::string::npos) lazy = regex.find("+?");
    if (lazy != std::string::npos && !(lazy > 0 && regex[lazy - 1] == '\\'))
      return make_error(where + ": an unbounded lazy quantifier ('" + regex.substr(lazy, 2) +
                        "'); bound it, e.g. {0,120}? (std::regex backtracks: unbounded is quadratic on near-miss lines)");
    // A lookahead repeated per character ("(?:(?! - )[^:]){0,120}") runs a
    // whole sub-matcher at every character: one such pattern made near-miss
    // lines 250x slower than plain text. Check the captured text in code.
    if (regex.find("(?:(?!") != std::string::npos || regex.find("(?:(?=") != std::string::npos)
      return make_error(where + ": a lookahead repeated per character ('(?:(?!...'); "
                        "std::regex starts a new matcher at each character, so near-miss lines crawl");
    bool icase = j.value("icase", false);
    try {
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (icase) flags |= std::regex::icase;
      sig->re = std::regex(regex, flags);
    } catch (const std::regex_error& e) {
      return make_error(where + ": bad regex: " + e.what());
    }
    std::string unless;
    if (!text("unless", false, unless)) return make_error(where + ": \"unless\" must be a regex string");
    if (!unless.empty()) {
      try {
        sig->unless = std::regex(unless, std::regex::ECMAScript | std::regex::optimize | std::regex::icase);
        sig->has_unless = true;
      } catch (const std::regex_error& e) {
        return make_error(where + ": bad \"unless\" regex: " + e.what());
      }
    }
    std::string derive;
    if (!text("derive", false, derive)) return make_error(where + ": \"derive\" must be one of " + derive_names());
    const DeriveInfo* derive_info = nullptr;
    if (!derive.empty()) {
      for (const auto& d : kDerives)
        if (d.name == derive) derive_info = &d;
      if (!derive_info) return make_error(where + ": \"derive\" must be one of " + derive_names());
      sig->derive = derive_info->kind;
    }
    std::string error;
    sig->captures = string_list(j, "captures", where, error);
    sig->json_fields = string_list(j, "json", where, error);
    sig->requires_ids = string_list(j, "requires", where, error);
    sig->supersedes = string_list(j, "supersedes", where, error);
    sig->hidden_by = string_list(j, "hidden_by", where, error);
    if (!text("package", false, sig->package)) return make_error(where + ": \"package\" must be a string");
    sig->dedupe = string_list(j, "dedupe", where, error);
    sig->dedupe_set = j.contains("dedupe");
    for (auto& n : string_list(j, "needles", where, error)) sig->needles.push_back(lower(n));
    if (j.contains("all_of")) {
      if (!j["all_of"].is_array() || j["all_of"].empty())
        return make_error(where + ": \"all_of\" must be a list of word lists");
      for (const auto& group : j["all_of"]) {
        std::vector<std::string> words;
        if (group.is_array())
          for (const auto& w : group)
            if (w.is_string() && !w.get<std::string>().empty()) words.push_back(lower(w.get<std::string>()));
        if (words.empty() || words.size() != group.size())
          return make_error(where + ": each \"all_of\" group must be a non-empty list of non-empty strings");
        sig->all_of.push_back(std::move(words));
      }
    }
    if (j.contains("fallback") && !j["fallback"].is_boolean()) return make_error(where + ": \"fallback\" must be true or false");
    sig->fallback = j.value("fallback", false);
    if (!error.empty()) return make_error(error);
    if (sig->needles.empty())
      return make_error(where + ": needs \"needles\" (literal text, one of which every match contains: "
                                "it keeps the regexes off the lines that cannot match)");
    if (sig->captures.size() != sig->re.mark_count())
      return make_error(where + ": the regex has " + std::to_string(sig->re.mark_count()) + " groups but " +
                        std::to_string(sig->captures.size()) + " \"captures\" names");
    if (j.contains("lines")) {
      if (!j["lines"].is_number_unsigned() || j["lines"].get<size_t>() < 1 || j["lines"].get<size_t>() > 10)
        return make_error(where + ": \"lines\" must be 1 to 10");
      sig->lines = j["lines"].get<size_t>();
    }
    if (!text("target", false, sig->target) || !text("demangle", false, sig->demangle))
      return make_error(where + ": \"target\" and \"demangle\" name one value");

    // Every name a template or option refers to must be a value this
    // signature produces (explain/values.h lists those that are not its own).
    std::set<std::string> known(sig->captures.begin(), sig->captures.end());
    known.insert(sig->json_fields.begin(), sig->json_fields.end());
    for (const std::string& ref : {sig->target, sig->demangle})
      if (!ref.empty() && !known.count(ref))
        return make_error(where + ": \"" + ref + "\" is not one of its captures or json fields");
    if (!sig->target.empty()) known.insert(std::begin(kTargetValues), std::end(kTargetValues));
    if (!sig->demangle.empty()) known.insert(value::demangled);
    known.insert(std::begin(kFindingValues), std::end(kFindingValues));
    if (derive_info) known.insert(derive_info->values.begin(), derive_info->values.end());
    for (const std::string* tmpl : {&sig->title, &sig->cause, &sig->fix})
      for (const auto& name : placeholders(*tmpl))
        if (!known.count(name))
          return make_error(where + ": {" + name + "} names no value of this signature" +
                            (derive_info ? std::string() : " (a derive's values need that \"derive\")"));
    for (const auto& name : sig->dedupe)
      if (!known.count(name)) return make_error(where + ": dedupe value '" + name + "' is not produced");
    set.max_lines_ = std::max(set.max_lines_, sig->lines);
    for (const auto& n : sig->needles) set.min_needle_ = std::min(set.min_needle_, n.size());
    set.signatures_.push_back(std::move(sig));
  }
  for (uint32_t i = 0; i < set.signatures_.size(); ++i)
    for (const auto& n : set.signatures_[i]->needles) set.needle_index_.add(n, i);
  set.needle_index_.build(set.signatures_.size());
  for (const auto& sig : set.signatures_)
    for (const auto* list : {&sig->requires_ids, &sig->supersedes, &sig->hidden_by})
      for (const auto& id : *list)
        if (!ids.count(id)) return make_error(origin + ": signature '" + sig->id + "' refers to unknown id '" + id + "'");
  return set;
}

std::string_view SignatureSet::builtin_text() { return kBuiltinSignatures; }

const SignatureSet& SignatureSet::builtin() {
  // Checked by tests/cli/explain_test.cc; an empty set here would be a build bug.
  static const SignatureSet set = [] {
    auto parsed = parse(kBuiltinSignatures, "built-in signatures.json");
    if (parsed) return std::move(*parsed);
    SignatureSet empty;
    empty.origin_ = parsed.error().message;  // shown by smwatch explain
    return empty;
  }();
  return set;
}

}  // namespace smwatch::cli
