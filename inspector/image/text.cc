#include "smwatch/text.h"

#include <cstdio>

namespace smwatch {
namespace {

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  return buf;
}

uint32_t code_point(std::string_view s, size_t n) {
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i])); };
  switch (n) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// Code points a terminal acts on instead of showing.
bool is_control(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

size_t utf8_sequence(std::string_view s) {
  if (s.empty()) return 0;
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

bool to_utf8(std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = utf8_sequence(std::string_view(s).substr(i));
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return false;
  std::string out = s.substr(0, i);
  while (i < s.size()) {
    const size_t n = utf8_sequence(std::string_view(s).substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  s = std::move(out);
  return true;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = utf8_sequence(text.substr(i));
    if (n == 0) {  // not UTF-8: a lone 0x9B is a CSI to many terminals
      out += hex_byte(static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    const uint32_t cp = code_point(text.substr(i), n);
    if (is_control(cp)) {
      if (cp < 0x100) {
        out += hex_byte(static_cast<unsigned char>(cp));
      } else {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
        out += buf;
      }
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

namespace {

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return printable(out);
}

}  // namespace

std::string escape_md(std::string_view text) {
  // Not _ (inside words GitHub does not read it as emphasis: error names such
  // as CUDA_ERROR_NO_BINARY_FOR_GPU stay readable in the raw text), nor ( )
  // (a link needs the ] before them, which is escaped).
  constexpr std::string_view kMarkdownSyntax = "\\`*{}[]<>#+!|~&";
  std::string out;
  for (char c : one_line(text)) {
    if (kMarkdownSyntax.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string md_code(std::string_view text) {
  std::string out = "`";
  for (char c : one_line(text)) {
    if (c == '|') out += "\\|";
    else if (c == '`') out += '\'';
    else out += c;
  }
  return out + "`";
}

std::string escape_html(std::string_view text) {
  std::string out;
  for (char c : printable(text)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace smwatch
