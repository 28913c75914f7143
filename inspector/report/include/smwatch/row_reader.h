// Reads one row of a data table (signatures.json's knowledge, the package
// facts' tables): each field checked, the first fault kept with the row
// named ("knowledge.packages[3] 'flash-attn': needs a string \"source\"").
// Used by every reader of such tables, so that they refuse bad rows alike.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace smwatch {

class RowReader {
 public:
  RowReader(const nlohmann::json& row, std::string what) : row_(row), what_(std::move(what)) {}
  const std::string& what() const { return what_; }
  std::string error;

  bool fail(const std::string& message) {
    if (error.empty()) error = what_ + ": " + message;
    return false;
  }
  bool text(const char* key, std::string& out, bool required) {
    auto it = row_.find(key);
    if (it == row_.end()) return !required || fail(std::string("needs a string \"") + key + "\"");
    if (!it->is_string() || it->get<std::string>().empty()) return fail(std::string("\"") + key + "\" must be a non-empty string");
    out = it->get<std::string>();
    return true;
  }
  bool flag(const char* key, bool& out) {
    auto it = row_.find(key);
    if (it == row_.end()) return true;
    if (!it->is_boolean()) return fail(std::string("\"") + key + "\" must be true or false");
    out = it->get<bool>();
    return true;
  }
  bool number(const char* key, int& out) {
    auto it = row_.find(key);
    if (it == row_.end() || !it->is_number_integer() || it->get<long long>() < 10 || it->get<long long>() > 999)
      return fail(std::string("needs \"") + key + "\", a compute capability as digits (75, 120)");
    out = it->get<int>();
    return true;
  }
  // A list of strings, each accepted by `valid` (described by `kind`).
  template <class Valid>
  bool list(const char* key, std::vector<std::string>& out, Valid valid, const char* kind) {
    auto it = row_.find(key);
    if (it == row_.end()) return true;
    if (!it->is_array()) return fail(std::string("\"") + key + "\" must be a list of " + kind);
    for (const auto& item : *it) {
      if (!item.is_string() || !valid(item.get<std::string>()))
        return fail(std::string("\"") + key + "\" must hold " + kind + " only; not " + item.dump());
      out.push_back(item.get<std::string>());
    }
    return true;
  }
  // Every key of the row is one of `known` (a misspelt key is an error, not ignored).
  bool only(std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : row_.items())
      if (std::find(known.begin(), known.end(), key) == known.end()) return fail("unknown field \"" + key + "\"");
    return true;
  }

 private:
  const nlohmann::json& row_;
  std::string what_;
};

}  // namespace smwatch
