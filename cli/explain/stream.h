// The matcher: takes a log in chunks and hands out findings as soon as they
// are recognised.
//
// It streams: ExplainStream keeps only a window of a few lines (each cut at
// kMaxLineBytes), a bounded number of findings and the facts the log gave
// (LogFacts: one value each), and hands each finding out as soon as it is
// recognised. Memory does not grow with the log. It takes untrusted text of
// any size and content, so it is also the entry point the fuzzers link.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "facts.h"
#include "finding.h"
#include "signatures.h"

namespace smwatch::cli {

class ExplainStream {
 public:
  // `on_finding` is called once per new finding, as soon as it is
  // recognised (with what the log has shown so far).
  using Callback = std::function<void(const Finding&)>;
  explicit ExplainStream(const SignatureSet& sigs, Callback on_finding = {}, const PythonEnv* env = nullptr);
  ~ExplainStream();

  void feed(std::string_view bytes);  // any chunking; bytes after the end of input are not expected
  // The input went quiet: match the lines still waiting for their window
  // (multi-line signatures) with what is there, so a hung process's last
  // message is answered without waiting for EOF.
  void idle();
  // End of input: match what is left, release nothing more. Then findings()
  // holds every finding, ordered by line, with values and fixes recomputed
  // from the whole log's facts (a GPU named after the traceback counts).
  void finish();

  const std::vector<Finding>& findings() const { return final_; }
  const LogFacts& facts() const { return facts_; }
  // Read the shared libraries the log names by absolute path, where they
  // exist on this machine, and say what device code they hold (the command
  // does; explain_text and the fuzzers do not touch files).
  void read_libraries(bool on) { read_libraries_ = on; }
  size_t lines() const { return line_no_; }
  size_t dropped_findings() const { return dropped_; }

  struct State;  // explain/stream.cc

 private:
  void push_line(std::string_view line);
  void process_front();
  const SignatureSet& sigs_;
  Callback on_finding_;
  const PythonEnv* env_;
  LogFacts facts_;
  std::unique_ptr<State> st_;
  std::string partial_;
  bool partial_cut_ = false;
  bool read_libraries_ = false;
  size_t line_no_ = 0;  // lines pushed so far
  size_t dropped_ = 0;
  std::vector<Finding> final_;
};

// The matcher with the built-in signatures. Never throws, whatever the input.
std::vector<Finding> explain_text(std::string_view log);

// `smwatch explain --json` (docs/json-schema.md): the findings of one log;
// `source` names it ("-" for standard input).
inline constexpr const char* kExplainSchema = "smwatch.explain/1";
nlohmann::json findings_to_json(const std::vector<Finding>& findings, const std::string& source);

}  // namespace smwatch::cli
