#include "locate.h"

#include "knowledge.h"
#include "strings.h"
#include "values.h"

namespace smwatch::cli {

namespace {

// The package a path names: ".../site-packages/<pkg>/..." and its peers.
// Returns the distribution and sets `where` to the part that named it.
std::string package_in_path(std::string_view line, const Knowledge& knowledge, std::string& where,
                            std::string* module = nullptr) {
  for (std::string_view marker : {"site-packages/", "dist-packages/"}) {
    size_t at = line.rfind(marker);
    if (at == std::string_view::npos) continue;
    size_t start = at + marker.size();
    size_t end = start;
    while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_' ||
                                 line[end] == '.' || line[end] == '-'))
      ++end;
    std::string_view top = line.substr(start, end - start);
    if (top.empty() || top.ends_with(".dist-info") || top.ends_with(".egg-info")) continue;
    if (top.ends_with(".py")) top.remove_suffix(3);
    else if (size_t so = top.find(".cpython"); so != std::string_view::npos) top = top.substr(0, so);
    else if (size_t abi = top.find(".abi3"); abi != std::string_view::npos) top = top.substr(0, abi);
    else if (top.ends_with(".so")) top.remove_suffix(3);
    if (top.empty()) continue;
    // The path up to the end of the file name, for display.
    size_t stop = line.find_first_of("\"': ,)", start);
    where = std::string(line.substr(at, (stop == std::string_view::npos ? line.size() : stop) - at));
    if (module) {
      std::string m(line.substr(start, (stop == std::string_view::npos ? line.size() : stop) - start));
      if (m.ends_with(".py")) m.resize(m.size() - 3);
      if (m.ends_with("/__init__")) m.resize(m.size() - 9);
      for (char& c : m)
        if (c == '/') c = '.';
      *module = m;
    }
    return knowledge.dist_of_module(top);
  }
  return {};
}

bool is_frame(const std::string& text) { return contains(text, "File \"") && contains(text, "\", line "); }

// Python's warnings print where they were raised: "<path>.py:<line>: <Category>Warning:".
bool is_warning_location(std::string_view text) {
  for (size_t at = text.find(".py:"); at != std::string_view::npos; at = text.find(".py:", at + 4)) {
    size_t end = at + 4;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == at + 4 || text.substr(end, 2) != ": ") continue;
    const size_t word_end = text.find(':', end + 2);
    if (word_end != std::string_view::npos && text.substr(end + 2, word_end - end - 2).ends_with("Warning")) return true;
  }
  return false;
}

// A package named on a line (a path into site-packages, or a library or
// package name of the knowledge table), not counting traceback frames. A
// warning's location names the package that warned: it counts only for a
// package the knowledge table knows (torch's capability warning), not for
// any library that happened to warn before the failure (traits, gradio).
std::string named_on_line(const std::string& text, const std::string& low, const Knowledge& knowledge, std::string& where) {
  if (is_frame(text)) return {};
  std::string pkg = package_in_path(text, knowledge, where);
  if (!pkg.empty() && !knowledge.find(pkg) && is_warning_location(std::string_view(text).substr(0, kMaxMatchChars)))
    pkg.clear();
  if (pkg.empty()) knowledge.named_on_line(low, pkg, where);
  return pkg;
}

// The first absolute path to a shared library on a line ("/x/libfoo.so",
// "/x/libcudart.so.12"), by a scan from each ".so" back to the path's start:
// linear, where a regex tried every '/' and scanned on (issue 24 item 13).
std::string first_so_path(std::string_view line) {
  auto path_char = [](char c) {
    return !std::isspace(static_cast<unsigned char>(c)) && c != '\'' && c != '"' && c != '(' && c != ')' && c != ':' &&
           c != ',';
  };
  size_t run_start = 0;  // start of the run of path characters the last ".so" was in
  for (size_t at = line.find(".so"); at != std::string_view::npos; at = line.find(".so", at + 1)) {
    size_t end = at + 3;
    while (end + 1 < line.size() && line[end] == '.' && std::isdigit(static_cast<unsigned char>(line[end + 1]))) {
      ++end;
      while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
    }
    if (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) continue;
    // Back over path characters (never further back than the previous ".so"'s run: linear).
    size_t start = at;
    while (start > run_start && path_char(line[start - 1])) --start;
    run_start = at;
    const size_t slash = line.substr(start, at - start).find('/');
    if (slash == std::string_view::npos || at - (start + slash) < 2) continue;
    return std::string(line.substr(start + slash, end - start - slash));
  }
  return {};
}

}  // namespace

bool follow(Trail& trail, const LogLine& pl, const Knowledge& knowledge) {
  const std::string& line = pl.text;
  if (contains(line, "Traceback (most recent call last)")) trail.frames.clear();
  std::string where, module;
  if (is_frame(line)) {
    std::string pkg = package_in_path(line, knowledge, where, &module);
    if (pkg.empty()) {  // a frame outside site-packages: the user's code or a source checkout
      size_t q = line.find("File \"") + 6;
      size_t e = line.find('"', q);
      where = line.substr(q, e - q);
      // A frozen application's frames are relative to its bundle ("torch\nn\modules\module.py"):
      // a first component the packages table knows names the package.
      const size_t first = where.find_first_of("/\\");
      if (first != std::string::npos && first > 0 && where[0] != '.' && where.find(':') == std::string::npos) {
        const std::string dist = knowledge.dist_of_module(where.substr(0, first));
        if (knowledge.find(dist)) {
          pkg = dist;
          module = where.substr(0, where.size() - (where.ends_with(".py") ? 3 : 0));
          for (char& c : module)
            if (c == '/' || c == '\\') c = '.';
        }
      }
    }
    trail.frames.push_back({module, pkg, where, pl.number});
    if (trail.frames.size() > 64) trail.frames.pop_front();
    return false;
  }
  bool hint = false;
  if (std::string pkg = named_on_line(line, pl.low, knowledge, where); !pkg.empty()) {
    trail.hint_package = pkg;
    trail.hint_where = where;
    trail.hint_line = pl.number;
    hint = true;
  }
  if (std::string path = first_so_path(std::string_view(line).substr(0, kMaxMatchChars)); !path.empty()) {
    trail.so_path = std::move(path);
    trail.so_line = pl.number;
  }
  if (size_t at = line.find("torch.ops."); at != std::string::npos) {
    size_t s = at + 10, e = s;
    while (e < line.size() && (std::isalnum(static_cast<unsigned char>(line[e])) || line[e] == '_')) ++e;
    std::string ns = line.substr(s, e - s);
    // torch's own namespaces (aten, prims) run everyone's kernels: they say nothing.
    const PackageRow* owner = knowledge.ops_namespace(ns);
    if (!ns.empty() && !(owner && owner->role == PackageRow::Role::kDispatcher)) {
      trail.ops_ns = ns;
      trail.ops_line = pl.number;
    }
  }
  return hint;
}

void locate(const Trail& trail, const std::deque<LogLine>& window, const std::string& matched, size_t at,
            const Knowledge& knowledge, std::map<std::string, std::string>& values) {
  std::string where;
  std::string pkg = named_on_line(matched, lower(std::string_view(matched).substr(0, kMaxMatchChars)), knowledge, where);
  // The rest of the message's line (a source path compiled into the library,
  // "... no kernel image ... /src/flash-attention/csrc/x.cuh 236"), then the
  // lines right after it, where a C++ error's stack names the library.
  for (size_t k = 0; pkg.empty() && k < window.size(); ++k) pkg = named_on_line(window[k].text, window[k].low, knowledge, where);
  const Trail::Frame* last = nullptr;
  if (!trail.frames.empty() && at - trail.frames.back().line <= kFrameReach) last = &trail.frames.back();
  if (pkg.empty() && !trail.ops_ns.empty() && at - trail.ops_line <= kFrameReach) {
    const PackageRow* owner = knowledge.ops_namespace(trail.ops_ns);
    pkg = owner ? owner->name : std::string();
    where = "torch.ops." + trail.ops_ns;
  }
  if (pkg.empty() && last && !last->package.empty()) {
    pkg = last->package;
    where = last->where;
    // torch's dispatch runs other packages' kernels (and triton compiles
    // them): the nearest caller says whose, when it ships kernels.
    if (knowledge.role_is(pkg, PackageRow::Role::kDispatcher)) {
      for (auto it = trail.frames.rbegin(); it != trail.frames.rend(); ++it) {
        if (it->package.empty() || knowledge.role_is(it->package, PackageRow::Role::kDispatcher) ||
            knowledge.role_is(it->package, PackageRow::Role::kCompiler))
          continue;
        if (knowledge.ships_kernels(it->package)) {
          pkg = it->package;
          where = it->where;
        }
        break;
      }
    }
  }
  if (pkg.empty() && !trail.hint_package.empty() && at - trail.hint_line <= kFrameReach) {
    pkg = trail.hint_package;
    where = trail.hint_where;
  }
  if (!trail.so_path.empty() && at - trail.so_line <= kFrameReach) values["so_path"] = trail.so_path;
  values[value::failing_package] = pkg;
  values[value::failing_where] = where.size() > 200 ? where.substr(0, 200) + "..." : where;
  if (last) {
    values[value::importer] = last->module;
    values[value::importer_package] = last->package;
  }
}

}  // namespace smwatch::cli
