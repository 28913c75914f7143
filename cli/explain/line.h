// A line of the log as the matcher keeps it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "needles.h"

namespace smwatch::cli {

struct LogLine {
  std::string text;         // ANSI and log prefixes dropped, at most kMaxLineBytes
  std::string low;          // lower case, first kMaxMatchChars
  size_t number = 0;        // 0-based
  SignatureBits needles;    // the signatures with a needle in it (none: no window starting here can match)

  bool has_needle() const {
    return std::any_of(needles.begin(), needles.end(), [](uint64_t w) { return w != 0; });
  }
};

// Regexes see at most this many bytes of a line (or window). libstdc++'s
// std::regex backtracks recursively, so its stack use grows with the input;
// every message we know fits in far less, and a 1 MB line of base64 in a log
// must not crash the explainer.
inline constexpr size_t kMaxMatchChars = 2000;

}  // namespace smwatch::cli
