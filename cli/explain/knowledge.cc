#include "knowledge.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "smwatch/python_env.h"
#include "smwatch/row_reader.h"
#include "strings.h"

namespace smwatch::cli {

using nlohmann::json;
using smwatch::RowReader;

namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}
// A normalized distribution name: "flash-attn", "llama-cpp-python".
bool is_dist_name(std::string_view s) {
  return !s.empty() && s.front() != '-' && s.back() != '-' &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool is_lower(std::string_view s) { return !s.empty() && lower(s) == s; }

// "flash-attn" -> "flash[-_]attn": a printed name may use either separator.
std::string version_name_pattern(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '-') out += "[-_]";
    else if (c == '.') out += "\\.";
    else out += c;
  }
  return out;
}

template <class Row, class Read>
Result<std::vector<Row>> read_rows(const json& kn, const char* table, const std::string& where, Read read) {
  std::vector<Row> rows;
  auto it = kn.find(table);
  if (it == kn.end()) return rows;
  if (!it->is_array()) return make_error(where + ": knowledge." + table + " must be a list of rows");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& j = (*it)[i];
    RowReader r(j, where + ": knowledge." + table + "[" + std::to_string(i) + "]");
    if (!j.is_object()) return make_error(r.what() + ": not an object");
    Row row;
    if (!read(r, row)) return make_error(r.error);
    rows.push_back(std::move(row));
  }
  return rows;
}

bool read_release_row(RowReader& r, ReleaseRow& row) {
  if (!r.only({"cc_min", "cc_max", "first", "last", "source"}) || !r.number("cc_min", row.cc_min) ||
      !r.number("cc_max", row.cc_max) || !r.text("first", row.first, false) || !r.text("last", row.last, false) ||
      !r.text("source", row.source, true))
    return false;
  if (row.cc_min > row.cc_max) return r.fail("cc_min is above cc_max");
  if (row.first.empty() == row.last.empty()) return r.fail("needs one of \"first\" (the first release for these GPUs) and \"last\" (the last one)");
  return true;
}

}  // namespace

Result<Knowledge> Knowledge::parse(const json& kn, const std::string& where) {
  Knowledge k;
  if (!kn.is_object()) return make_error(where + ": \"knowledge\" must be an object");
  static constexpr std::string_view kTables[] = {"packages", "container_hints", "cuda_related_words", "tensorrt",
                                                 "triton_ptxas", "arch_specific_instructions"};
  for (const auto& [key, value] : kn.items())
    if (std::find(std::begin(kTables), std::end(kTables), key) == std::end(kTables))
      return make_error(where + ": knowledge has no table \"" + key + "\"");

  const json no_rows = json::array();
  auto table = kn.find("packages");
  if (table != kn.end() && !table->is_array()) return make_error(where + ": knowledge.packages must be a list of rows");
  const json& rows = table == kn.end() ? no_rows : *table;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string at = where + ": knowledge.packages[" + std::to_string(i) + "]";
    if (!rows[i].is_object()) return make_error(at + ": not an object");
    PackageRow row;
    if (RowReader n(rows[i], at); !n.text("name", row.name, true)) return make_error(n.error);
    RowReader r(rows[i], at + " '" + row.name + "'");
    if (!r.only({"name", "role", "kernels", "cuda_related", "modules", "ops_namespaces", "version_names", "libraries",
                 "mentions", "bundled_tools", "runtime", "app", "serving_note", "source"}))
      return make_error(r.error);
    if (!r.text("source", row.source, true)) return make_error(r.error);
    if (row.name.find(' ') == std::string::npos && !is_dist_name(row.name))
      return make_error(r.what() + ": \"name\" must be a distribution name as pip normalizes it (lower case, '-'), "
                                   "or a phrase with spaces for code no pip name installs");
    std::string role;
    if (!r.text("role", role, false) || !r.text("bundled_tools", row.bundled_tools, false) || !r.text("app", row.app, false) ||
        !r.text("serving_note", row.serving_note, false) ||
        !r.flag("kernels", row.kernels) || !r.flag("cuda_related", row.cuda_related) ||
        !r.list("modules", row.modules, is_identifier, "Python module names") ||
        !r.list("ops_namespaces", row.ops_namespaces, is_identifier, "torch.ops namespace names") ||
        !r.list("version_names", row.version_names,
                [](const std::string& s) { return is_lower(s) && s.find('_') == std::string::npos &&
                                                  std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; }); },
                "lower case names ('-' between words: it matches '_' too)") ||
        !r.list("mentions", row.mentions, is_lower, "lower case texts"))
      return make_error(r.error);
    if (role == "dispatcher") row.role = PackageRow::Role::kDispatcher;
    else if (role == "compiler") row.role = PackageRow::Role::kCompiler;
    else if (!role.empty()) return make_error(r.what() + ": \"role\" must be dispatcher or compiler");
    if (auto it = rows[i].find("libraries"); it != rows[i].end()) {
      if (!it->is_array()) return make_error(r.what() + ": \"libraries\" must be a list of {\"needle\", \"where\"}");
      for (const auto& lib : *it) {
        RowReader l(lib, r.what() + ": a library");
        PackageRow::Library entry;
        if (!lib.is_object() || !l.only({"needle", "where"}) || !l.text("needle", entry.needle, true) || !l.text("where", entry.where, true))
          return make_error(l.error.empty() ? r.what() + ": \"libraries\" must hold {\"needle\", \"where\"} objects" : l.error);
        if (!is_lower(entry.needle)) return make_error(r.what() + ": library needle '" + entry.needle + "' must be lower case (lines are matched lower-cased)");
        row.libraries.push_back(std::move(entry));
      }
    }
    if (auto it = rows[i].find("runtime"); it != rows[i].end()) {
      RowReader rt(*it, r.what() + ": \"runtime\"");
      if (!it->is_object() || !rt.only({"library", "install"}) || !rt.text("library", row.runtime_library, true) ||
          !rt.text("install", row.runtime_install, true))
        return make_error(rt.error.empty() ? rt.what() + ": must be {\"library\", \"install\"}" : rt.error);
      for (size_t at = 0; (at = row.runtime_install.find('{', at)) != std::string::npos; ++at) {
        const std::string name = row.runtime_install.substr(at + 1, row.runtime_install.find('}', at) - at - 1);
        if (name != "torch_cuda_major" && name != "soname_major" && name != "library")
          return make_error(rt.what() + ": {" + name + "} is not one of {torch_cuda_major}, {soname_major}, {library}");
      }
    }
    const size_t index = k.packages_.size();
    if (!k.by_name_.emplace(row.name, index).second) return make_error(r.what() + ": the name is used by two rows");
    auto claim = [&](std::map<std::string, size_t, std::less<>>& map, const std::string& key, const char* kind) {
      auto [it, fresh] = map.emplace(key, index);
      if (fresh || it->second == index) return true;
      return r.fail(std::string(kind) + " '" + key + "' already belongs to '" + k.packages_[it->second].name + "'");
    };
    for (const auto& m : row.modules)
      if (!claim(k.by_module_, m, "module")) return make_error(r.error);
    for (const auto& ns : row.ops_namespaces)
      if (!claim(k.by_ops_namespace_, ns, "torch.ops namespace")) return make_error(r.error);
    for (const auto& v : row.version_names)
      if (!claim(k.by_version_name_, dist_name(v), "version name")) return make_error(r.error);
    k.packages_.push_back(std::move(row));
  }

  // A line names the package of its most specific evidence: library and
  // source names first, then bare names, the dispatcher's (torch, which runs
  // everyone's kernels) last; rows in table order.
  for (bool dispatcher : {false, true})
    for (bool mentions : {false, true})
      for (size_t i = 0; i < k.packages_.size(); ++i) {
        const PackageRow& row = k.packages_[i];
        if ((row.role == PackageRow::Role::kDispatcher) != dispatcher) continue;
        if (!mentions)
          for (const auto& lib : row.libraries) k.line_needles_.push_back({lib.needle, lib.where, i});
        else
          for (const auto& m : row.mentions) k.line_needles_.push_back({m, m, i});
      }

  // The version pattern: every version name, longest first (a name that is
  // the start of another, "jax" and "jaxlib", must not stop it).
  std::vector<std::string> names;
  for (const auto& row : k.packages_) names.insert(names.end(), row.version_names.begin(), row.version_names.end());
  std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::string alternation;
  for (const auto& n : names) alternation += (alternation.empty() ? "" : "|") + version_name_pattern(n);
  if (alternation.empty()) alternation = "(?!)";
  k.version_regex_ = std::regex(
      R"((?:^|[^A-Za-z0-9_./-])()" + alternation +
          R"()(?: API server)?(?:\s+version)?["'*]{0,2}(?:==|\s*[:=]\s*|\s+|-)["'*]{0,2}\s{0,2}v?(\d+\.\d+(?:\.\d+)*(?:\.?(?:post|dev|rc)\d+)*(?:\+[A-Za-z0-9.]+)?)(?![\w.+]))",
      std::regex::ECMAScript | std::regex::optimize | std::regex::icase);
  // Needles: each name's first word, which any spelling of it contains; a
  // needle that holds another adds nothing.
  std::set<std::string> words;
  for (const auto& n : names) words.insert(n.substr(0, n.find('-')));
  for (const auto& w : words)
    if (std::none_of(words.begin(), words.end(), [&](const std::string& o) { return o != w && w.find(o) != std::string::npos; }))
      k.version_needles_.push_back(w);

  // Texts matched on lower-cased lines (or names), each with its source.
  auto read_text_row = [](RowReader& r, TextRow& row) {
    return r.only({"text", "source"}) && r.text("text", row.text, true) && r.text("source", row.source, true) &&
           (is_lower(row.text) || r.fail("\"text\" must be lower case (it is matched lower-cased); not '" + row.text + "'"));
  };
  for (auto [table, out] : {std::pair<const char*, std::vector<std::string>*>{"container_hints", &k.container_hints_},
                            {"cuda_related_words", &k.cuda_words_}}) {
    auto got = read_rows<TextRow>(kn, table, where, read_text_row);
    if (!got) return make_error(got.error().message);
    for (auto& row : *got) out->push_back(std::move(row.text));
  }
  for (const auto& row : k.packages_) {
    if (!row.cuda_related) continue;
    k.cuda_words_.push_back(lower(row.name));
    for (const auto& m : row.modules) k.cuda_words_.push_back(lower(m));
    k.cuda_words_.insert(k.cuda_words_.end(), row.version_names.begin(), row.version_names.end());
  }

  for (auto [table, out] : {std::pair<const char*, std::vector<ReleaseRow>*>{"tensorrt", &k.tensorrt_}, {"triton_ptxas", &k.triton_ptxas_}}) {
    auto got = read_rows<ReleaseRow>(kn, table, where, read_release_row);
    if (!got) return make_error(got.error().message);
    *out = std::move(*got);
  }
  auto instructions = read_rows<InstructionRow>(kn, "arch_specific_instructions", where, [](RowReader& r, InstructionRow& row) {
    return r.only({"prefix", "only", "source"}) && r.text("prefix", row.prefix, true) && r.text("only", row.only, true) &&
           r.text("source", row.source, true);
  });
  if (!instructions) return make_error(instructions.error().message);
  k.instructions_ = std::move(*instructions);
  return k;
}

const PackageRow* Knowledge::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &packages_[it->second];
}

std::string Knowledge::dist_of_module(std::string_view module) const {
  const std::string_view top = module.substr(0, module.find('.'));
  if (auto it = by_module_.find(top); it != by_module_.end()) return packages_[it->second].name;
  return dist_name(top);
}

const PackageRow* Knowledge::ops_namespace(std::string_view ns) const {
  auto it = by_ops_namespace_.find(ns);
  return it == by_ops_namespace_.end() ? nullptr : &packages_[it->second];
}

namespace {

// A name followed by its version ("xformers==0.0.28", "\"xformers\": \"0.0.28\"",
// "xformers 0.0.28", "xformers-0.0.28"): a listing of what is installed or
// required, which says nothing about whose code failed.
bool version_follows(std::string_view low, size_t end) {
  size_t p = end;
  auto skip = [&](std::string_view chars) {
    while (p < low.size() && chars.find(low[p]) != std::string_view::npos) ++p;
  };
  skip("\"'*");
  const size_t before = p;
  skip(" \t=:<>~!");
  bool separated = p > before;
  if (!separated && p < low.size() && low[p] == '-') ++p, separated = true;
  if (!separated) return false;
  skip(" \t\"'*");
  if (p < low.size() && low[p] == 'v') ++p;
  // digits, a dot, a digit: a version, not "xformers 2 times"
  size_t d = p;
  while (d < low.size() && std::isdigit(static_cast<unsigned char>(low[d]))) ++d;
  return d > p && d + 1 < low.size() && low[d] == '.' && std::isdigit(static_cast<unsigned char>(low[d + 1]));
}

}  // namespace

bool Knowledge::named_on_line(std::string_view low, std::string& package, std::string& where) const {
  for (const auto& n : line_needles_)
    for (size_t at = low.find(n.text); at != std::string_view::npos; at = low.find(n.text, at + 1)) {
      if (version_follows(low, at + n.text.size())) continue;
      package = packages_[n.row].name;
      where = n.where;
      return true;
    }
  return false;
}

bool Knowledge::role_is(std::string_view package, PackageRow::Role role) const {
  const PackageRow* row = find(package);
  return row && row->role == role;
}

bool Knowledge::ships_kernels(std::string_view package) const {
  const PackageRow* row = find(package);
  return row && row->kernels;
}

bool Knowledge::installable(std::string_view package) const { return package.find(' ') == std::string_view::npos; }

std::string Knowledge::version_key(std::string_view printed) const {
  auto it = by_version_name_.find(dist_name(printed));
  return it == by_version_name_.end() ? std::string() : packages_[it->second].name;
}

std::string Knowledge::runtime_install(const std::string& library, const std::string& torch_cuda_major,
                                       const std::string& soname_major) const {
  for (const auto& row : packages_) {
    if (row.runtime_library.empty()) continue;
    // Windows names the same library without "lib": cublas64_12.dll.
    const bool windows = library.ends_with(".dll") && row.runtime_library.starts_with("lib") &&
                         library.starts_with(row.runtime_library.substr(3));
    if (!library.starts_with(row.runtime_library) && !windows) continue;
    std::string out;
    const std::string& t = row.runtime_install;
    for (size_t i = 0; i < t.size();) {
      if (t[i] != '{') {
        out += t[i++];
        continue;
      }
      const size_t close = t.find('}', i);
      const std::string name = t.substr(i + 1, close - i - 1);
      out += name == "torch_cuda_major" ? torch_cuda_major : name == "soname_major" ? soname_major : library;
      i = close + 1;
    }
    return out;
  }
  return {};
}

bool Knowledge::bundled_tool(std::string_view package, std::string_view path) const {
  const PackageRow* row = find(package);
  if (!row || row->bundled_tools.empty()) return false;
  std::string normalized;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '\\') {
      normalized += path[i];
      continue;
    }
    normalized += '/';
    while (i + 1 < path.size() && path[i + 1] == '\\') ++i;
  }
  return normalized.find(row->bundled_tools) != std::string::npos;
}

bool Knowledge::cuda_related(std::string_view dist) const {
  const std::string name = lower(dist);
  return std::any_of(cuda_words_.begin(), cuda_words_.end(), [&](const std::string& w) { return name.find(w) != std::string::npos; });
}

}  // namespace smwatch::cli
