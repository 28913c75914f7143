// One recognised problem of a log, as `smwatch explain` reports it.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace smwatch::cli {

// Repeats of the same signature with the same values (the same traceback
// printed by 8 workers) are folded into one Finding.
struct Finding {
  std::string id;        // signature id, e.g. "no-kernel-image"
  std::string severity;  // "error", "warning" or "context"
  std::string title;     // one line, values filled in
  std::string cause;
  std::string fix;
  size_t line = 0;                 // 1-based line of the first occurrence
  std::vector<size_t> more_lines;  // later occurrences (at most kMaxLinesKept)
  size_t count = 1;                // occurrences in all
  std::string text;                // the matched line(s), as in the log
  std::map<std::string, std::string> values;  // captures and derived values (explain/values.h)
};
inline constexpr size_t kMaxLinesKept = 20;
inline constexpr size_t kMaxLineBytes = 64 * 1024;  // a longer line is kept cut (counted whole)
inline constexpr size_t kMaxFindings = 256;         // distinct findings kept; more are counted only

}  // namespace smwatch::cli
