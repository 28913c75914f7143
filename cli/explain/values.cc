#include "values.h"

namespace smwatch::cli {

namespace {
bool is_literal(const std::string& name) { return name.size() >= 2 && name.front() == '\'' && name.back() == '\''; }
}  // namespace

std::vector<std::string> placeholders(const std::string& tmpl) {
  std::vector<std::string> names;
  for (size_t i = 0; (i = tmpl.find('{', i)) != std::string::npos;) {
    size_t end = tmpl.find('}', i);
    if (end == std::string::npos) break;
    std::string inner = tmpl.substr(i + 1, end - i - 1);
    for (size_t start = 0;;) {
      size_t bar = inner.find('|', start);
      std::string name = inner.substr(start, bar - start);
      if (!is_literal(name)) names.push_back(name);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    i = end + 1;
  }
  return names;
}

std::string expand(const std::string& tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close = open == std::string::npos ? std::string::npos : tmpl.find('}', open);
    if (close == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, open - i);
    std::string inner = tmpl.substr(open + 1, close - open - 1);
    std::string value;
    bool literal = false;
    for (size_t start = 0;;) {
      size_t bar = inner.find('|', start);
      std::string name = inner.substr(start, bar - start);
      if (is_literal(name)) {
        value = name.substr(1, name.size() - 2);
        literal = true;
        break;
      }
      auto it = values.find(name);
      if (it != values.end() && !it->second.empty()) {
        value = it->second;
        break;
      }
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    out += value.empty() && !literal ? "(unknown)" : value;
    i = close + 1;
  }
  return out;
}

}  // namespace smwatch::cli
