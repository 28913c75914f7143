#include "explain.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "signatures_embed.h"  // generated from cli/signatures.json by embed.cmake
#include "smwatch/arch.h"
#include "smwatch/demangle.h"

namespace smwatch::cli {

using nlohmann::json;

// Regexes see at most this many bytes of a line (or window). libstdc++'s
// std::regex backtracks recursively, so its stack use grows with the input;
// every message we know fits in far less, and a 1 MB line of base64 in a log
// must not crash the explainer.
constexpr size_t kMaxMatchChars = 2000;
constexpr size_t kMaxTextChars = 400;  // of a matched line, kept for display

// Values a "target" capture derives from the GPU table (arch.cc is the one
// source of these facts).
const char* const kTargetValues[] = {"sm", "cc", "gpus", "gpu_desc", "first_cuda", "pytorch_line", "fix_hint"};

struct SignatureSet::Signature {
  std::string id, severity, title, cause, fix;
  std::vector<std::string> needles;  // lower case; one must occur before the regex runs
  std::regex re;
  std::vector<std::string> captures;     // names of groups 1..n
  size_t lines = 1;                      // window: this line and the next lines - 1
  std::string target;                    // value naming a GPU/arch, "" = none
  std::string demangle;                  // value holding a mangled name, "" = none
  std::vector<std::string> json_fields;  // the line holds a JSON record: these fields become values
  std::vector<std::string> requires_ids, supersedes;
  std::vector<std::string> dedupe;  // values that make two matches different findings
  bool dedupe_set = false;          // "dedupe" given ([] folds every match into one)
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Coloured logs: drop ANSI CSI sequences (ESC [ ... final byte) so that the
// regexes see the text a person sees.
std::string strip_ansi(std::string_view s) {
  if (s.find('\x1b') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

// Placeholders in a template: "{name}", or "{first|second|'literal'}" (the
// first non-empty value, or the quoted text). Returns the names, for checking.
std::vector<std::string> placeholders(const std::string& tmpl) {
  std::vector<std::string> names;
  for (size_t i = 0; (i = tmpl.find('{', i)) != std::string::npos;) {
    size_t end = tmpl.find('}', i);
    if (end == std::string::npos) break;
    std::string inner = tmpl.substr(i + 1, end - i - 1);
    for (size_t start = 0;;) {
      size_t bar = inner.find('|', start);
      std::string name = inner.substr(start, bar - start);
      if (!(name.size() >= 2 && name.front() == '\'' && name.back() == '\'')) names.push_back(name);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    i = end + 1;
  }
  return names;
}

std::string expand(const std::string& tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close = open == std::string::npos ? std::string::npos : tmpl.find('}', open);
    if (close == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, open - i);
    std::string inner = tmpl.substr(open + 1, close - open - 1);
    std::string value;
    for (size_t start = 0;;) {
      size_t bar = inner.find('|', start);
      std::string name = inner.substr(start, bar - start);
      if (name.size() >= 2 && name.front() == '\'' && name.back() == '\'') {
        value = name.substr(1, name.size() - 2);
        break;
      }
      auto it = values.find(name);
      if (it != values.end() && !it->second.empty()) {
        value = it->second;
        break;
      }
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    out += value.empty() ? "(unknown)" : value;
    i = close + 1;
  }
  return out;
}

void add_target_values(const std::string& spec, std::map<std::string, std::string>& values) {
  auto target = smwatch::parse_target(spec);
  if (!target) {
    values["sm"] = spec;
    values["gpu_desc"] = spec;
    values["fix_hint"] = "install a build of the failing package that includes code for your GPU's architecture";
    return;
  }
  const GpuGeneration* gen = find_generation(target->cc);
  values["sm"] = target->sm_name();
  values["cc"] = target->cc_string();
  values["gpus"] = gen ? gen->gpus : "";
  values["first_cuda"] = gen ? gen->first_cuda : "";
  values["pytorch_line"] = gen ? gen->pytorch_line : "";
  values["gpu_desc"] = target->sm_name() + " (compute capability " + target->cc_string() +
                       (gen ? std::string(": ") + gen->gpus : std::string()) + ")";
  values["fix_hint"] = fix_hint(target->cc);
}

std::string json_value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {  // "archs": ["sm_80", "sm_90"] or a cmdline
    std::string out;
    for (const auto& item : v) out += (out.empty() ? "" : " ") + json_value_text(item);
    return out;
  }
  return v.dump();
}

std::vector<std::string> string_list(const json& sig, const char* key, const std::string& where,
                                     std::string& error) {
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

struct Match {
  const SignatureSet::Signature* sig;
  size_t line;  // 0-based
  std::string text;
  std::map<std::string, std::string> values;
};

}  // namespace

SignatureSet::SignatureSet() = default;
SignatureSet::~SignatureSet() = default;
SignatureSet::SignatureSet(SignatureSet&&) noexcept = default;
SignatureSet& SignatureSet::operator=(SignatureSet&&) noexcept = default;
size_t SignatureSet::size() const { return signatures_.size(); }

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
  SignatureSet set;
  set.origin_ = origin;
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
    bool icase = j.value("icase", false);
    try {
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (icase) flags |= std::regex::icase;
      sig->re = std::regex(regex, flags);
    } catch (const std::regex_error& e) {
      return make_error(where + ": bad regex: " + e.what());
    }
    std::string error;
    sig->captures = string_list(j, "captures", where, error);
    sig->json_fields = string_list(j, "json", where, error);
    sig->requires_ids = string_list(j, "requires", where, error);
    sig->supersedes = string_list(j, "supersedes", where, error);
    sig->dedupe = string_list(j, "dedupe", where, error);
    sig->dedupe_set = j.contains("dedupe");
    for (auto& n : string_list(j, "needles", where, error)) sig->needles.push_back(lower(n));
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

    // Every name a template or option refers to must be a value this signature produces.
    std::set<std::string> known(sig->captures.begin(), sig->captures.end());
    known.insert(sig->json_fields.begin(), sig->json_fields.end());
    for (const std::string& ref : {sig->target, sig->demangle})
      if (!ref.empty() && !known.count(ref))
        return make_error(where + ": \"" + ref + "\" is not one of its captures or json fields");
    if (!sig->target.empty()) known.insert(std::begin(kTargetValues), std::end(kTargetValues));
    if (!sig->demangle.empty()) known.insert("demangled");
    for (const std::string* tmpl : {&sig->title, &sig->cause, &sig->fix})
      for (const auto& name : placeholders(*tmpl))
        if (!known.count(name)) return make_error(where + ": {" + name + "} names no value of this signature");
    for (const auto& name : sig->dedupe)
      if (!known.count(name)) return make_error(where + ": dedupe value '" + name + "' is not produced");
    set.signatures_.push_back(std::move(sig));
  }
  for (const auto& sig : set.signatures_)
    for (const auto* list : {&sig->requires_ids, &sig->supersedes})
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

std::vector<Finding> SignatureSet::explain(std::string_view log) const {
  // Split into lines (a final line without '\n' counts too).
  std::vector<std::string> lines, lowered;
  for (size_t pos = 0; pos < log.size();) {
    size_t nl = log.find('\n', pos);
    std::string_view line = log.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(strip_ansi(line));
    lowered.push_back(lower(lines.back().substr(0, kMaxMatchChars)));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }

  std::vector<Match> matches;
  std::set<std::string> matched_ids;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<Match> here;
    for (const auto& sig : signatures_) {
      const size_t last = std::min(lines.size(), i + sig->lines);
      std::string window_low = lowered[i];
      for (size_t k = i + 1; k < last; ++k) window_low += "\n" + lowered[k];
      if (std::none_of(sig->needles.begin(), sig->needles.end(),
                       [&](const std::string& n) { return window_low.find(n) != std::string::npos; }))
        continue;
      std::string window = lines[i].substr(0, kMaxMatchChars);
      for (size_t k = i + 1; k < last; ++k) window += "\n" + lines[k].substr(0, kMaxMatchChars);
      window.resize(std::min(window.size(), kMaxMatchChars * sig->lines));
      std::smatch m;
      try {
        if (!std::regex_search(window, m, sig->re)) continue;
      } catch (const std::regex_error&) {
        continue;  // too complex for this input: skip rather than fail the whole log
      }
      // A window match belongs to the line it starts on; the next window finds the rest.
      if (static_cast<size_t>(m.position(0)) > lines[i].size()) continue;
      Match match{sig.get(), i, {}, {}};
      for (size_t g = 0; g < sig->captures.size(); ++g)
        match.values[sig->captures[g]] = m[g + 1].matched ? m[g + 1].str() : "";
      if (!sig->json_fields.empty()) {
        size_t brace = lines[i].find('{');
        json rec = brace == std::string::npos ? json() : json::parse(lines[i].substr(brace), nullptr, false);
        if (!rec.is_object()) continue;  // looked like a record but is not one
        for (const auto& f : sig->json_fields) match.values[f] = rec.contains(f) ? json_value_text(rec[f]) : "";
      }
      if (!sig->demangle.empty()) match.values["demangled"] = smwatch::demangle(match.values[sig->demangle]);
      if (!sig->target.empty() && !match.values[sig->target].empty())
        add_target_values(match.values[sig->target], match.values);
      // The lines the match spans, for display.
      size_t end_line = i + static_cast<size_t>(std::count(window.begin(), window.begin() + m.position(0) + m.length(0), '\n'));
      for (size_t k = i; k <= end_line && k < lines.size(); ++k) {
        std::string t = lines[k].size() > kMaxTextChars ? lines[k].substr(0, kMaxTextChars) + "..." : lines[k];
        match.text += (k == i ? "" : "\n") + t;
      }
      here.push_back(std::move(match));
    }
    // A more specific signature on the same line hides the general one.
    for (const auto& m : here) matched_ids.insert(m.sig->id);
    for (auto& m : here) {
      bool hidden = std::any_of(here.begin(), here.end(), [&](const Match& other) {
        return std::find(other.sig->supersedes.begin(), other.sig->supersedes.end(), m.sig->id) !=
               other.sig->supersedes.end();
      });
      if (!hidden) matches.push_back(std::move(m));
    }
  }

  std::vector<Finding> findings;
  std::map<std::string, size_t> by_key;
  for (auto& m : matches) {
    const auto& req = m.sig->requires_ids;
    if (!req.empty() &&
        std::none_of(req.begin(), req.end(), [&](const std::string& id) { return matched_ids.count(id) > 0; }))
      continue;  // context without the failure it explains
    std::string key = m.sig->id;
    if (!m.sig->dedupe_set) {
      for (const auto& name : m.sig->captures) key += '\x1f' + m.values[name];
      for (const auto& name : m.sig->json_fields) key += '\x1f' + m.values[name];
    } else {
      for (const auto& name : m.sig->dedupe) key += '\x1f' + m.values[name];
    }
    if (auto it = by_key.find(key); it != by_key.end()) {
      Finding& f = findings[it->second];
      ++f.count;
      if (f.more_lines.size() < kMaxLinesKept) f.more_lines.push_back(m.line + 1);
      continue;
    }
    by_key[key] = findings.size();
    Finding f;
    f.id = m.sig->id;
    f.severity = m.sig->severity;
    f.title = expand(m.sig->title, m.values);
    f.cause = expand(m.sig->cause, m.values);
    f.fix = expand(m.sig->fix, m.values);
    f.line = m.line + 1;
    f.text = std::move(m.text);
    f.values = std::move(m.values);
    findings.push_back(std::move(f));
  }
  return findings;
}

std::vector<Finding> explain_text(std::string_view log) { return SignatureSet::builtin().explain(log); }

}  // namespace smwatch::cli
