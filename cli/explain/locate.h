// Where the failing code is: the traceback frames, torch.ops namespaces,
// paths and library names of the lines before (and right after) a match,
// told as the distribution they belong to.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <string>

#include "line.h"

namespace smwatch::cli {

class Knowledge;

// What the recent lines named; bounded (64 frames, one of everything else).
struct Trail {
  struct Frame {
    std::string module, package, where;
    size_t line;  // 0-based
  };
  std::deque<Frame> frames;  // since the last "Traceback (most recent call last)"
  std::string hint_package, hint_where;  // the last package a line named (not a frame)
  size_t hint_line = 0;
  std::string ops_ns;  // the last torch.ops namespace that is not torch's own
  size_t ops_line = 0;
  std::string so_path;  // the last shared library a line named by absolute path
  size_t so_line = 0;
};
inline constexpr size_t kFrameReach = 60;  // a frame or path further back than this many lines says nothing

// Reads a line into the trail. Returns true when it named a package outside
// a traceback frame (a C++ error names its library after the message).
bool follow(Trail& trail, const LogLine& line, const Knowledge& knowledge);

// The failing package for a match on line `at` (0-based) whose matched text
// is `matched`; `after` holds the lines of the window after the match's
// first one. Sets failing_package, failing_where, importer,
// importer_package, so_path.
void locate(const Trail& trail, const std::deque<LogLine>& window, const std::string& matched, size_t at,
            const Knowledge& knowledge, std::map<std::string, std::string>& values);

}  // namespace smwatch::cli
