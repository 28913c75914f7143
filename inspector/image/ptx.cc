#include "smwatch/ptx.h"

#include <cctype>
#include <charconv>

namespace smwatch {
namespace {

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.';
}

// The directive's argument: the word after `directive` at a line start.
std::string_view word_after(std::string_view line, std::string_view directive) {
  if (!line.starts_with(directive)) return {};
  line.remove_prefix(directive.size());
  if (line.empty() || (line.front() != ' ' && line.front() != '\t')) return {};
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  size_t end = 0;
  while (end < line.size() && (is_ident_char(line[end]) || line[end] == ',')) ++end;
  return line.substr(0, end);
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

bool looks_like_ptx(std::string_view text) {
  std::string_view head = text.substr(0, 8192);
  return head.find(".version") != std::string_view::npos && head.find(".target") != std::string_view::npos;
}

Result<PtxInfo> read_ptx(std::string_view text) {
  PtxInfo info;
  bool have_version = false, have_target = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim_left(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '/') continue;
    if (!have_version) {
      if (auto v = word_after(line, ".version"); !v.empty()) {
        unsigned major = 0, minor = 0;
        size_t dot = v.find('.');
        auto r1 = std::from_chars(v.data(), v.data() + (dot == std::string_view::npos ? v.size() : dot), major);
        if (dot != std::string_view::npos) std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor);
        if (r1.ec == std::errc() && major < 100 && minor < 100) {
          info.isa_major = static_cast<uint16_t>(major);
          info.isa_minor = static_cast<uint16_t>(minor);
          have_version = true;
        }
        continue;
      }
    }
    if (!have_target) {
      if (auto t = word_after(line, ".target"); !t.empty()) {
        auto arch = parse_arch(t.substr(0, t.find(',')));
        if (arch) {
          info.target = *arch;
          have_target = true;
        }
        continue;
      }
    }
    // ".visible .entry name(" or ".entry name (" or ".weak .entry ...".
    size_t entry = line.find(".entry");
    if (entry == std::string_view::npos) continue;
    std::string_view prefix = line.substr(0, entry);
    if (prefix.find_first_not_of(" \t.visibleweakextern") != std::string_view::npos) continue;
    std::string_view rest = trim_left(line.substr(entry + 6));
    if (rest.size() == line.size() - entry - 6) continue;  // ".entryfoo"
    size_t end = 0;
    while (end < rest.size() && is_ident_char(rest[end])) ++end;
    if (end > 0) info.kernels.emplace_back(rest.substr(0, end));
  }
  if (!have_version) return make_error("PTX without a .version directive");
  if (!have_target) return make_error("PTX without a .target directive");
  return info;
}

}  // namespace smwatch
