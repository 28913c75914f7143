// `smwatch explain`: recognising known CUDA failure signatures in logs.
//
// The signatures are data (cli/signatures.json, schema below); this file is
// the matcher. It takes untrusted text of any size and content, so it is also
// the entry point the fuzzers link (target smwatch_cli_core).
//
// The matcher streams: ExplainStream takes the log in chunks of any size,
// keeps only a window of a few lines (each cut at kMaxLineBytes), a bounded
// number of findings and a bounded summary of what the log said about the
// stack (LogContext), and hands each finding out as soon as it is recognised.
// Memory does not grow with the log.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/python_env.h"
#include "smwatch/result.h"

namespace smwatch::cli {

// One recognised problem. Repeats of the same signature with the same values
// (the same traceback printed by 8 workers) are folded into one Finding.
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
  std::map<std::string, std::string> values;  // captures and derived values
};
inline constexpr size_t kMaxLinesKept = 20;
inline constexpr size_t kMaxLineBytes = 64 * 1024;  // a longer line is kept cut (counted whole)
inline constexpr size_t kMaxFindings = 256;         // distinct findings kept; more are counted only

// What the whole log says about the stack, gathered line by line: the GPU,
// versions printed anywhere (pip lists, collect_env, nvidia-smi, banners),
// and the packages named by paths and frames. Bounded: a fixed set of keys.
struct LogContext {
  std::string gpu_name;  // "NVIDIA GeForce RTX 5090"
  int gpu_cc = 0;        // 120; 0 = unknown
  size_t gpu_line = 0;
  std::map<std::string, std::string> versions;  // "torch" -> "2.6.0+cu126", "driver" -> "570.86", "driver_cuda" -> "12.8"
  std::string torch_cuda;                       // "12.6" (from +cu126 or "CUDA used to build PyTorch")
  bool gpu_from_prose = false;                  // the GPU was named in prose ("GPU: RTX 3060"), not by a tool
  // The log comes from a container (a compose prefix "vllm-1  | ", docker
  // commands, an image name, a container's root prompt): the fix is another
  // image, not pip. container_why says what showed it.
  bool container = false;
  std::string container_why;
};

// PythonEnv, query_python_env and dist_name live in inspector/files (smwatch/python_env.h).
using smwatch::PythonEnv;
using smwatch::dist_name;
using smwatch::query_python_env;

class SignatureSet {
 public:
  // Parses and checks a signatures document: every regex compiles, every
  // {placeholder} names a value the signature can produce, every id referred
  // to exists. `origin` names the document in error messages.
  static Result<SignatureSet> parse(std::string_view json_text, const std::string& origin);
  // The copy of cli/signatures.json compiled into the program.
  static const SignatureSet& builtin();
  static std::string_view builtin_text();

  SignatureSet();
  ~SignatureSet();
  SignatureSet(SignatureSet&&) noexcept;
  SignatureSet& operator=(SignatureSet&&) noexcept;

  size_t size() const;
  std::vector<std::string> ids() const;
  const std::string& origin() const { return origin_; }
  const nlohmann::json& knowledge() const;  // the document's "knowledge" object ({} when none)

  // The whole log at once (an ExplainStream fed once); findings by line.
  std::vector<Finding> explain(std::string_view log, const PythonEnv* env = nullptr) const;

  struct Signature;  // defined in explain.cc

 private:
  friend class ExplainStream;
  std::vector<std::unique_ptr<Signature>> signatures_;
  std::string origin_;
  size_t max_lines_ = 1;
  size_t min_needle_ = static_cast<size_t>(-1);  // shortest needle (lower case bytes)
  // The document's "knowledge" object: what the fixes are made of (which
  // TensorRT, Triton and PyTorch builds cover which GPUs, which PTX
  // instructions are arch-specific), each row with its source.
  std::shared_ptr<const nlohmann::json> knowledge_;
};

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
  // from the whole log's context (a GPU named after the traceback counts).
  void finish();

  const std::vector<Finding>& findings() const { return final_; }
  const LogContext& context() const { return ctx_; }
  // Read the shared libraries the log names by absolute path, where they
  // exist on this machine, and say what device code they hold (the command
  // does; explain_text and the fuzzers do not touch files).
  void read_libraries(bool on) { read_libraries_ = on; }
  size_t lines() const { return line_no_; }
  size_t dropped_findings() const { return dropped_; }

  struct State;  // defined in explain.cc

 private:
  void push_line(std::string_view line);
  void process_front(bool partial_window);
  const SignatureSet& sigs_;
  Callback on_finding_;
  const PythonEnv* env_;
  LogContext ctx_;
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
