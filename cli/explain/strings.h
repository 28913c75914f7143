// Small string helpers shared by the explain files.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "smwatch/strings.h"

namespace smwatch::cli {

inline std::string lower(std::string_view s) { return smwatch::ascii_lower(s); }

inline bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

}  // namespace smwatch::cli
