// Small string helpers shared by the explain files.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace smwatch::cli {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

}  // namespace smwatch::cli
