#include "stream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <set>

#include "advice.h"
#include "knowledge.h"
#include "line.h"
#include "locate.h"
#include "signature.h"
#include "smwatch/demangle.h"
#include "smwatch/version.h"
#include "strings.h"

namespace smwatch::cli {

using nlohmann::json;

namespace {

constexpr size_t kMaxTextChars = 400;  // of a matched line, kept for display

struct Record {
  const SignatureSet::Signature* sig;
  Finding f;
  bool released = false;
};

// Coloured logs: drop ANSI CSI sequences (ESC [ ... final byte) so that the
// regexes see the text a person sees.
std::string strip_ansi(std::string_view s) {
  if (s.find('\x1b') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

// A record field as text: a string, a number, or a flat list of them
// ("archs": ["sm_80", "sm_90"], a cmdline). Nested containers are not walked
// (their depth is the log writer's choice, and dump() recurses): "[...]".
std::string json_value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) {
      if (!out.empty()) out += ' ';
      out += item.is_string() ? item.get<std::string>() : item.is_structured() ? std::string("[...]") : item.dump();
    }
    return out;
  }
  return v.is_structured() ? std::string("{...}") : v.dump();
}

// The deepest nesting of brackets in `text` outside JSON strings: a log line
// that nests deeper than any record we read is not parsed as one (the
// parser's values are freed recursively; 10,000 levels overflow the stack).
constexpr size_t kMaxRecordDepth = 32;
bool nests_deeper_than(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

struct ExplainStream::State {
  std::deque<LogLine> window;
  Trail trail;                  // frames, paths and library names of the recent lines
  std::vector<Record> records;  // bounded by kMaxFindings
  std::map<std::string, size_t> by_key;
  std::set<std::string> matched_ids;
  bool unlocated = false;                      // some finding has no failing_package yet
  std::map<std::string, std::string> so_code;  // path -> what it holds (at most 16 read)
};

namespace {
// A finding that another, more telling one contradicts (the generic SGLang
// advice where Triton's ptxas or torch itself is what failed).
bool hidden(const SignatureSet::Signature& sig, const ExplainStream::State& st) {
  return std::any_of(sig.hidden_by.begin(), sig.hidden_by.end(), [&](const std::string& id) { return st.matched_ids.count(id) > 0; });
}
}  // namespace

ExplainStream::ExplainStream(const SignatureSet& sigs, Callback on_finding, const PythonEnv* env)
    : sigs_(sigs), on_finding_(std::move(on_finding)), env_(env), st_(std::make_unique<State>()) {}
ExplainStream::~ExplainStream() = default;

void ExplainStream::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (!partial_cut_) {
      size_t room = kMaxLineBytes - partial_.size();
      if (piece.size() > room) {
        partial_.append(piece.substr(0, room));
        partial_cut_ = true;
      } else {
        partial_.append(piece);
      }
    }
    if (nl == std::string_view::npos) break;
    push_line(partial_);
    partial_.clear();
    partial_cut_ = false;
    bytes.remove_prefix(nl + 1);
  }
}

void ExplainStream::push_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  LogLine pl;
  pl.number = line_no_++;
  pl.text = strip_log_prefix(strip_ansi(line), pl.number + 1, facts_);
  pl.low = lower(std::string_view(pl.text).substr(0, kMaxMatchChars));
  if (pl.low.size() >= sigs_.min_needle_) pl.needles = sigs_.needle_index_.scan(pl.low);  // shorter lines hold none
  st_->window.push_back(std::move(pl));
  while (st_->window.size() >= sigs_.max_lines_) process_front();
}

void ExplainStream::idle() {
  while (!st_->window.empty()) process_front();
}

void ExplainStream::process_front() {
  State& st = *st_;
  if (st.window.empty()) return;
  const Knowledge& knowledge = sigs_.knowledge();
  const LogLine& first = st.window.front();
  const size_t i = first.number;
  // Every fact and position rule looks for at least 3 characters: shorter lines teach nothing.
  if (first.low.size() >= 3) {
    learn_facts(first.text, first.low, i + 1, knowledge, facts_);
    // A C++ error names the library after the message (its stack follows it):
    // findings just before this line that named no package get this one.
    if (follow(st.trail, first, knowledge) && st.unlocated)
      for (auto& r : st.records) {
        auto& v = r.f.values;
        if (!v[value::failing_package].empty() || r.f.line > i || i - r.f.line + 1 > kFrameReach) continue;
        v[value::failing_package] = st.trail.hint_package;
        v[value::failing_where] = st.trail.hint_where;
      }
  }

  // The window: this line and the ones after it that have arrived. Needles
  // hold no line break, so a window without a line holding one cannot match:
  // most lines of a log end here, before any window is built.
  const size_t avail = std::min(st.window.size(), sigs_.max_lines_);
  bool any_needle = false;
  for (size_t k = 0; k < avail && !any_needle; ++k) any_needle = st.window[k].has_needle();
  if (!any_needle) {
    st.window.pop_front();
    return;
  }
  std::string win_low, win_text;
  std::array<size_t, 11> low_end{}, text_end{};  // "lines" is at most 10
  for (size_t k = 0; k < avail; ++k) {
    if (k) {
      win_low += '\n';
      win_text += '\n';
    }
    win_low += st.window[k].low;
    win_text.append(st.window[k].text, 0, kMaxMatchChars);
    low_end[k + 1] = win_low.size();
    text_end[k + 1] = win_text.size();
  }

  struct Hit {
    const SignatureSet::Signature* sig;
    std::map<std::string, std::string> values;
    std::string text;
  };
  std::vector<Hit> here;
  for (size_t index = 0; index < sigs_.signatures_.size(); ++index) {
    const auto& sig = sigs_.signatures_[index];
    const size_t n = std::min(avail, sig->lines);
    std::string_view low(win_low.data(), low_end[n]);
    bool needle = false;  // needles hold no line break: one line of the window holds it
    for (size_t k = 0; k < n && !needle; ++k) needle = has_bit(st.window[k].needles, index);
    if (!needle) continue;
    if (!std::all_of(sig->all_of.begin(), sig->all_of.end(), [&](const std::vector<std::string>& group) {
          return std::any_of(group.begin(), group.end(), [&](const std::string& w) { return contains(low, w); });
        }))
      continue;
    std::string window = win_text.substr(0, text_end[n]);
    std::smatch m;
    try {
      if (!std::regex_search(window, m, sig->re)) continue;
      if (sig->has_unless &&
          std::regex_search(window.substr(0, first.text.size() < kMaxMatchChars ? first.text.size() : kMaxMatchChars), sig->unless))
        continue;
    } catch (const std::regex_error&) {
      continue;  // too complex for this input: skip rather than fail the whole log
    }
    // A window match belongs to the line it starts on; the next window finds the rest.
    if (static_cast<size_t>(m.position(0)) > std::min(first.text.size(), kMaxMatchChars)) continue;
    Hit hit{sig.get(), {}, {}};
    for (size_t g = 0; g < sig->captures.size(); ++g) hit.values[sig->captures[g]] = m[g + 1].matched ? m[g + 1].str() : "";
    if (!sig->json_fields.empty()) {
      size_t brace = first.text.find('{');
      if (brace == std::string::npos || nests_deeper_than(std::string_view(first.text).substr(brace), kMaxRecordDepth)) continue;
      json rec = json::parse(first.text.substr(brace), nullptr, false);
      if (!rec.is_object()) continue;  // looked like a record but is not one
      for (const auto& f : sig->json_fields) hit.values[f] = rec.contains(f) ? json_value_text(rec[f]) : "";
    }
    if (!sig->package.empty() && hit.values[value::package].empty()) hit.values[value::package] = sig->package;
    if (!sig->demangle.empty()) hit.values[value::demangled] = smwatch::demangle(hit.values[sig->demangle]);
    if (!sig->target.empty() && !hit.values[sig->target].empty()) add_target_values(hit.values[sig->target], hit.values);
    locate(st.trail, st.window, m.str(0), i, knowledge, hit.values);
    size_t end_line = static_cast<size_t>(std::count(window.begin(), window.begin() + m.position(0) + m.length(0), '\n'));
    for (size_t k = 0; k <= end_line && k < avail; ++k) {
      const std::string& t = st.window[k].text;
      hit.text += (k == 0 ? "" : "\n") + (t.size() > kMaxTextChars ? t.substr(0, kMaxTextChars) + "..." : t);
    }
    here.push_back(std::move(hit));
  }
  st.window.pop_front();

  // A more specific signature on the same line hides the general one.
  for (const auto& h : here) st.matched_ids.insert(h.sig->id);
  for (auto& h : here) {
    bool superseded = std::any_of(here.begin(), here.end(), [&](const Hit& other) {
      return std::find(other.sig->supersedes.begin(), other.sig->supersedes.end(), h.sig->id) != other.sig->supersedes.end();
    });
    if (superseded) continue;
    std::string key = h.sig->id;
    if (!h.sig->dedupe_set) {
      for (const auto& name : h.sig->captures) key += '\x1f' + h.values[name];
      for (const auto& name : h.sig->json_fields) key += '\x1f' + h.values[name];
    } else {
      for (const auto& name : h.sig->dedupe) key += '\x1f' + h.values[name];
    }
    if (auto it = st.by_key.find(key); it != st.by_key.end()) {
      Finding& f = st.records[it->second].f;
      ++f.count;
      if (f.more_lines.size() < kMaxLinesKept) f.more_lines.push_back(i + 1);
      continue;
    }
    if (st.records.size() >= kMaxFindings) {
      ++dropped_;
      continue;
    }
    st.by_key[key] = st.records.size();
    Record r{h.sig, {}, false};
    r.f.id = h.sig->id;
    r.f.severity = h.sig->severity;
    r.f.line = i + 1;
    r.f.text = std::move(h.text);
    r.f.values = std::move(h.values);
    if (r.f.values[value::failing_package].empty()) st.unlocated = true;
    st.records.push_back(std::move(r));
  }
  // Release what can be told now: a context finding once a failure it explains was seen.
  if (here.empty()) return;
  for (auto& r : st.records) {
    if (r.released || r.sig->fallback) continue;  // a fallback waits for the end of the log
    const auto& req = r.sig->requires_ids;
    if (!req.empty() && std::none_of(req.begin(), req.end(), [&](const std::string& id) { return st.matched_ids.count(id) > 0; }))
      continue;
    if (hidden(*r.sig, st)) continue;
    r.released = true;
    render(*r.sig, r.f, facts_, knowledge, env_, read_libraries_ ? &st.so_code : nullptr);
    if (on_finding_) on_finding_(r.f);
  }
}

void ExplainStream::finish() {
  if (!partial_.empty()) {
    push_line(partial_);
    partial_.clear();
    partial_cut_ = false;
  }
  idle();
  // A fallback speaks only where no other finding told what failed.
  const bool told = std::any_of(st_->records.begin(), st_->records.end(), [](const Record& r) {
    return r.released && !r.sig->fallback && r.sig->severity != "context";
  });
  for (auto& r : st_->records) {
    if (!r.sig->fallback || r.released || told || hidden(*r.sig, *st_)) continue;
    r.released = true;
    render(*r.sig, r.f, facts_, sigs_.knowledge(), env_, read_libraries_ ? &st_->so_code : nullptr);
    if (on_finding_) on_finding_(r.f);
  }
  final_.clear();
  for (auto& r : st_->records) {
    if (!r.released) continue;
    if (hidden(*r.sig, *st_)) continue;
    render(*r.sig, r.f, facts_, sigs_.knowledge(), env_, read_libraries_ ? &st_->so_code : nullptr);
    final_.push_back(r.f);
  }
  std::stable_sort(final_.begin(), final_.end(), [](const Finding& a, const Finding& b) { return a.line < b.line; });
}

std::vector<Finding> SignatureSet::explain(std::string_view log, const PythonEnv* env) const {
  ExplainStream stream(*this, {}, env);
  stream.feed(log);
  stream.finish();
  return stream.findings();
}

std::vector<Finding> explain_text(std::string_view log) { return SignatureSet::builtin().explain(log); }

json findings_to_json(const std::vector<Finding>& findings, const std::string& source) {
  json list = json::array();
  for (const auto& f : findings) {
    list.push_back({{"id", f.id},       {"severity", f.severity}, {"title", f.title},   {"cause", f.cause},
                    {"fix", f.fix},     {"line", f.line},         {"more_lines", f.more_lines},
                    {"count", f.count}, {"text", f.text},         {"values", f.values}});
  }
  return {{"schema", kExplainSchema}, {"tool", {{"name", "smwatch"}, {"version", kVersion}}}, {"source", source},
          {"findings", std::move(list)}};
}

}  // namespace smwatch::cli
