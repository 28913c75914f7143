#include "smwatch/package_facts.h"

#include <fnmatch.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

#include "package_facts_embed.h"
#include "smwatch/strings.h"

namespace smwatch {

bool CcPattern::matches(uint16_t target_cc) const {
  switch (kind) {
    case Kind::kExact: return target_cc == cc;
    case Kind::kMajor: return target_cc / 10 == cc / 10;
    default: return target_cc >= cc;
  }
}

namespace {

using nlohmann::json;

// "9.0", "8.x", "8.0+".
std::optional<CcPattern> parse_cc(std::string_view text) {
  CcPattern p;
  if (text.ends_with("+")) {
    p.kind = CcPattern::Kind::kAtLeast;
    text.remove_suffix(1);
  }
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 != text.size()) return std::nullopt;
  unsigned major = 0;
  if (std::from_chars(text.data(), text.data() + dot, major).ptr != text.data() + dot || major > 99)
    return std::nullopt;
  const char minor = text[dot + 1];
  if (minor == 'x' && p.kind == CcPattern::Kind::kExact) {
    p.kind = CcPattern::Kind::kMajor;
    p.cc = static_cast<uint16_t>(major * 10);
  } else if (minor >= '0' && minor <= '9') {
    p.cc = static_cast<uint16_t>(major * 10 + (minor - '0'));
  } else {
    return std::nullopt;
  }
  return p;
}

// The release numbers of a version: "0.3.21.post1+cu128" -> {0, 3, 21}.
std::vector<unsigned> release_of(std::string_view v) {
  std::vector<unsigned> parts;
  while (!v.empty() && (v.front() == 'v' || v.front() == ' ')) v.remove_prefix(1);
  while (!v.empty()) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc()) break;
    parts.push_back(n);
    v.remove_prefix(static_cast<size_t>(end - v.data()));
    if (v.empty() || v.front() != '.') break;
    v.remove_prefix(1);
  }
  while (parts.size() > 1 && parts.back() == 0) parts.pop_back();  // 0.4 == 0.4.0
  return parts;
}

int compare_versions(std::string_view a, std::string_view b) {
  const auto ra = release_of(a), rb = release_of(b);
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

// Calls `holds(op, version)` for each comma-separated clause of a version
// range (">=0.3.21,<0.4"); true when every call is.
template <typename Holds>
bool every_clause(std::string_view range, Holds holds) {
  while (!range.empty()) {
    const size_t comma = range.find(',');
    std::string_view clause = range.substr(0, comma);
    while (!clause.empty() && clause.front() == ' ') clause.remove_prefix(1);
    size_t op = 0;
    while (op < clause.size() && std::string_view("<>=!").find(clause[op]) != std::string_view::npos) ++op;
    if (!holds(clause.substr(0, op), clause.substr(op))) return false;
    if (comma == std::string_view::npos) break;
    range.remove_prefix(comma + 1);
  }
  return true;
}

bool valid_range(std::string_view range) {
  return every_clause(range, [](std::string_view o, std::string_view v) {
    return (o == ">=" || o == ">" || o == "<=" || o == "<" || o == "==" || o == "!=") && !release_of(v).empty();
  });
}

std::string cc_text(const CcPattern& p) {
  const std::string base = std::to_string(p.cc / 10) + ".";
  switch (p.kind) {
    case CcPattern::Kind::kExact: return base + std::to_string(p.cc % 10);
    case CcPattern::Kind::kMajor: return base + "x";
    default: return base + std::to_string(p.cc % 10) + "+";
  }
}

Result<std::vector<CcPattern>> cc_list(const json& fact, const char* field, const std::string& where) {
  std::vector<CcPattern> out;
  if (!fact.contains(field)) return out;
  const json& list = fact[field];
  if (!list.is_array() || list.empty()) return make_error(where + ": '" + field + "' must be a non-empty list");
  for (const auto& item : list) {
    auto p = item.is_string() ? parse_cc(item.get<std::string>()) : std::nullopt;
    if (!p) return make_error(where + ": '" + field + "': " + item.dump() + " is not a compute capability such as \"9.0\", \"8.x\" or \"8.0+\"");
    out.push_back(*p);
  }
  return out;
}

}  // namespace

Result<std::vector<PackageFact>> parse_package_facts(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("package facts: not a JSON object");
  if (doc.value("schema", "") != "smwatch.package-facts/2")
    return make_error("package facts: schema is not \"smwatch.package-facts/2\"");
  if (!doc.contains("facts") || !doc["facts"].is_array()) return make_error("package facts: no \"facts\" list");
  std::vector<PackageFact> facts;
  for (size_t i = 0; i < doc["facts"].size(); ++i) {
    const json& f = doc["facts"][i];
    std::string where = fmt::format("package facts: fact {}", i);
    if (!f.is_object()) return make_error(where + ": not an object");
    PackageFact fact;
    auto text = [&](const char* field, std::string& out, bool required) -> bool {
      if (!f.contains(field)) return !required;
      if (!f[field].is_string() || f[field].get<std::string>().empty()) return false;
      out = f[field].get<std::string>();
      return true;
    };
    if (!text("id", fact.id, true)) return make_error(where + ": needs an \"id\"");
    where += " (" + fact.id + ")";
    for (const char* field : {"package", "versions", "says", "source"}) {
      std::string* out = std::string_view(field) == "package"    ? &fact.package
                         : std::string_view(field) == "versions" ? &fact.versions
                         : std::string_view(field) == "says"     ? &fact.says
                                                                 : &fact.source;
      if (!text(field, *out, true)) return make_error(where + ": needs a non-empty \"" + field + "\"");
    }
    if (!text("checked", fact.checked, false)) return make_error(where + ": \"checked\" must be text");
    if (!valid_range(fact.versions))
      return make_error(where + ": \"versions\": '" + fact.versions + "' is not a range such as \">=0.3.21,<0.4\"");
    if (!f.contains("files") || !f["files"].is_array() || f["files"].empty())
      return make_error(where + ": needs a non-empty \"files\" list");
    for (const auto& g : f["files"]) {
      if (!g.is_string() || g.get<std::string>().empty()) return make_error(where + ": \"files\" holds a non-text");
      fact.files.push_back(g.get<std::string>());
    }
    auto used = cc_list(f, "used_on", where);
    if (!used) return used.error();
    auto not_used = cc_list(f, "not_used_on", where);
    if (!not_used) return not_used.error();
    fact.used_on = std::move(*used);
    fact.not_used_on = std::move(*not_used);
    fact.chosen_by_torch_cuda = f.value("chosen_by_torch_cuda", false);
    fact.compiled_at_first_use = f.value("compiled_at_first_use", false);
    const int effects = !fact.used_on.empty() + !fact.not_used_on.empty() + fact.chosen_by_torch_cuda +
                        fact.compiled_at_first_use;
    if (effects != 1)
      return make_error(where + ": needs exactly one effect: used_on, not_used_on, chosen_by_torch_cuda or "
                                "compiled_at_first_use");
    if (fact.chosen_by_torch_cuda)
      for (const auto& g : fact.files)
        if (std::count(g.begin(), g.end(), '*') != 1 || g.find('/', g.find('*')) != std::string::npos)
          return make_error(where + ": chosen_by_torch_cuda needs each glob to have one '*', in its file name");
    for (const auto& other : facts)
      if (other.id == fact.id) return make_error(where + ": the id is used twice");
    facts.push_back(std::move(fact));
  }
  return facts;
}

const std::vector<PackageFact>& builtin_package_facts() {
  // Checked by the tests (package_facts_test): the embedded table parses.
  static const std::vector<PackageFact> facts = [] {
    auto parsed = parse_package_facts(kBuiltinPackageFacts);
    return parsed ? std::move(*parsed) : std::vector<PackageFact>{};
  }();
  return facts;
}

bool version_in_range(std::string_view version, std::string_view range) {
  return every_clause(range, [&](std::string_view o, std::string_view v) {
    const int c = compare_versions(version, v);
    return o == ">=" ? c >= 0 : o == ">" ? c > 0 : o == "<=" ? c <= 0 : o == "<" ? c < 0
         : o == "==" ? c == 0 : o == "!=" ? c != 0 : false;
  });
}

std::string cuda_digits(std::string_view cuda_version) {
  std::string out;
  for (char c : cuda_version.substr(0, cuda_version.find_first_not_of("0123456789.")))
    if (c != '.') out += c;
  return out;
}

bool fact_covers_file(const PackageFact& fact, std::string_view path) {
  const std::string p(path);
  for (const auto& glob : fact.files) {
    // The whole path, or a tail after a '/': installed files are matched by
    // their absolute path, wheel members by their path in the wheel.
    for (size_t from = 0; from != std::string::npos;) {
      if (fnmatch(glob.c_str(), p.c_str() + from, 0) == 0) return true;
      const size_t slash = p.find('/', from);
      from = slash == std::string::npos ? slash : slash + 1;
    }
  }
  return false;
}

std::string describe_fact(const PackageFact& fact) {
  std::string effect;
  auto ccs = [](const std::vector<CcPattern>& list) {
    std::vector<std::string> items;
    for (const auto& p : list) items.push_back(cc_text(p));
    return join(items, ", ");
  };
  if (!fact.used_on.empty()) effect = "used only on CC " + ccs(fact.used_on);
  else if (!fact.not_used_on.empty()) effect = "not used on CC " + ccs(fact.not_used_on);
  else if (fact.chosen_by_torch_cuda) effect = "chosen by torch's CUDA version";
  else effect = "compiled at first use";
  return fmt::format("{}: {} {}, files {}: {}. {}\n    source: {}{}", fact.id, fact.package, fact.versions,
                     join(fact.files, " "), effect, fact.says, fact.source,
                     fact.checked.empty() ? "" : "\n    checked: " + fact.checked);
}

}  // namespace smwatch
