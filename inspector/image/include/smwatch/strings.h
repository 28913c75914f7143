// Small string helpers shared by every layer (smscan, the smwatch command,
// package facts): one copy each.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace smwatch {

// ASCII letters in lower case; every other byte, UTF-8 included, unchanged.
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The items with `sep` between them.
inline std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

}  // namespace smwatch
