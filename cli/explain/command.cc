// `smwatch explain`: reads each log in chunks into an ExplainStream, prints
// each finding when it is recognised (the log may be a pipe that never
// ends), then a summary; or one JSON document (schema smwatch.explain/1).
#include "command.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>

#include "smwatch/python_env.h"
#include "smwatch/text.h"
#include "stream.h"

namespace smwatch::cli {

namespace {

namespace fs = std::filesystem;

bool read_file(const std::string& path, std::string& out, std::string& error) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = path + ": is a directory (give a log file)";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), {});
  return true;
}

// Signatures: an explicit file must load; an installed one may be broken
// (then the built-in copy is used, with a warning).
const SignatureSet* load_signatures(const std::string& option, SignatureSet& holder, const std::string& exe_dir,
                                    spdlog::logger& log) {
  std::string explicit_file = option;
  if (explicit_file.empty())
    if (const char* env = std::getenv("SMWATCH_SIGNATURES"); env && *env) explicit_file = env;
  auto load = [&](const std::string& path, bool required) -> bool {
    std::string text, error;
    if (!read_file(path, text, error)) {
      if (required) log.error("signatures: {}", error);
      return false;
    }
    auto parsed = SignatureSet::parse(text, path);
    if (!parsed) {
      if (required) log.error("{}", parsed.error().message);
      else log.warn("{} (using the built-in signatures)", parsed.error().message);
      return false;
    }
    holder = std::move(*parsed);
    log.debug("signatures: {} ({} signatures)", path, holder.size());
    return true;
  };
  if (!explicit_file.empty()) return load(explicit_file, true) ? &holder : nullptr;
  std::error_code ec;
  for (const char* rel : {SMWATCH_SIGNATURES_FROM_BIN, "signatures.json"}) {
    fs::path p = fs::path(exe_dir) / rel;
    if (!exe_dir.empty() && fs::is_regular_file(p, ec) && load(p.lexically_normal().string(), false)) return &holder;
  }
  log.debug("signatures: built-in ({} signatures)", SignatureSet::builtin().size());
  return &SignatureSet::builtin();
}

// `smwatch explain` prints each finding when it is recognised (the log may
// be a pipe that never ends), then a summary at the end of each input.
void print_finding(std::ostream& out, size_t n, const std::string& name, const Finding& f, int& stdout_errno) {
  using smwatch::printable;
  // The log's lines and the signatures (--signatures FILE) are outside text.
  out << fmt::format("[{}] {}:{}: {}: {}  ({})\n", n, printable(name), f.line, printable(f.severity),
                     printable(f.title), printable(f.id));
  std::string_view text = f.text;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out << "    | " << printable(text.substr(0, nl)) << "\n";
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  out << "    cause: " << printable(f.cause) << "\n";
  out << "    fix:   " << printable(f.fix) << "\n\n";
  errno = 0;
  if (!out.flush() && stdout_errno == 0) stdout_errno = errno;
}

void print_summary(std::ostream& out, const std::string& name, const ExplainStream& stream,
                   const std::map<std::string, std::string>& printed_fix) {
  using smwatch::printable;
  const auto& findings = stream.findings();
  if (findings.empty()) {
    out << "smwatch explain: no known CUDA failure signature in " << printable(name) << "\n";
    return;
  }
  size_t errors = 0;
  for (const auto& f : findings) errors += f.severity == "error";
  out << fmt::format("Summary: {} known problem{} in {} ({} error{}):\n", findings.size(), findings.size() == 1 ? "" : "s",
                     printable(name), errors, errors == 1 ? "" : "s");
  size_t n = 0;
  for (const auto& f : findings) {
    out << fmt::format("  [{}] line {}: {}\n", ++n, f.line, printable(f.title));
    if (f.count > 1) {
      std::string lines;
      for (size_t l : f.more_lines) lines += " " + std::to_string(l);
      out << fmt::format("      seen {} times (also line{}{}{})\n", f.count, f.more_lines.size() == 1 ? "" : "s", lines,
                         f.count - 1 > f.more_lines.size() ? " ..." : "");
    }
    // What the rest of the log added (a GPU or versions printed after the error).
    auto it = printed_fix.find(f.id + "@" + std::to_string(f.line));
    if (it != printed_fix.end() && it->second != f.fix) out << "      fix, with the whole log read: " << printable(f.fix) << "\n";
  }
  const LogFacts& known = stream.facts();
  std::string facts;
  const std::string& gpu_name = known.gpu_name.value;
  const int gpu_cc = known.gpu_cc.value;
  if (!gpu_name.empty() || gpu_cc)
    facts += "GPU " + (gpu_name.empty() ? std::string() : gpu_name + " ") +
             (gpu_cc ? "(sm_" + std::to_string(gpu_cc) + ")" : std::string());
  for (const auto& [k, v] : versions_with_driver(known)) facts += (facts.empty() ? "" : ", ") + k + " " + v;
  if (!facts.empty()) out << "In this log: " << printable(facts) << "\n";
  if (stream.dropped_findings())
    out << fmt::format("({} more distinct findings were counted but not kept)\n", stream.dropped_findings());
}

// Reads one log (a file or "-") into the stream: in chunks, never the whole
// log at once; when a pipe goes quiet, the lines still waiting are matched.
bool stream_log(const std::string& file, ExplainStream& stream, std::string& error) {
  int fd = 0;
  if (file != "-") {
    std::error_code ec;
    if (fs::is_directory(file, ec)) {
      error = file + ": is a directory (give a log file)";
      return false;
    }
    fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = file + ": cannot open: " + std::strerror(errno);
      return false;
    }
  }
  std::vector<char> buf(64 * 1024);
  bool ok = true;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 500);
    if (ready == 0) {
      stream.idle();
      continue;
    }
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      error = (file == "-" ? std::string("standard input") : file) + ": read error: " + std::strerror(errno);
      ok = false;
      break;
    }
    if (n == 0) break;
    stream.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  if (fd != 0) close(fd);
  stream.finish();
  return ok;
}

}  // namespace

int run_explain(const ExplainOptions& options, spdlog::logger& log, int& stdout_errno) {
  const std::vector<std::string>& files = options.files;
  const bool json = options.json, list = options.list;
  const std::string &signatures_option = options.signatures, &python_option = options.python, &exe_dir = options.exe_dir;
  SignatureSet holder;
  const SignatureSet* sigs = load_signatures(signatures_option, holder, exe_dir, log);
  if (sigs == nullptr) return 2;
  if (sigs->size() == 0) {
    log.error("no signatures loaded: {}", sigs->origin());
    return 2;
  }
  if (list) {
    auto doc = nlohmann::json::parse(sigs == &SignatureSet::builtin()
                                         ? std::string(SignatureSet::builtin_text())
                                         : [&] { std::string t, e; read_file(sigs->origin(), t, e); return t; }(),
                                     nullptr, false);
    std::cout << "signatures from " << smwatch::printable(sigs->origin()) << ":\n";
    if (doc.is_object())
      for (const auto& s : doc["signatures"]) {
        errno = 0;
        std::cout << "  " << smwatch::printable(s.value("id", "")) << " (" << smwatch::printable(s.value("severity", "error"))
                  << "): " << smwatch::printable(s.value("title", "")) << "\n";
        // The list outgrows stdio's buffer: keep the first write's reason for main's message.
        if (!std::cout && stdout_errno == 0) stdout_errno = errno;
      }
    return 0;
  }
  std::optional<PythonEnv> env;
  // The environment smwatch is installed in, else python3 on PATH (python_env.h).
  const smwatch::PythonChoice choice = smwatch::choose_python(python_option);
  const std::string& python = choice.python;
  if (!python.empty() && python != "none") {
    auto got = query_python_env(python);
    if (got) env = std::move(*got);
    else if (!python_option.empty()) {
      log.error("--python: {}", got.error().message);
      return 2;
    } else {
      log.debug("no Python environment: {}", got.error().message);
    }
  }
  bool recognised = false, failed = false;
  nlohmann::json docs = nlohmann::json::array();
  for (const auto& file : files) {
    const std::string name = file == "-" ? "standard input" : file;
    size_t n = 0;
    std::map<std::string, std::string> printed_fix;
    ExplainStream stream(
        *sigs,
        [&](const Finding& f) {
          if (json) return;
          print_finding(std::cout, ++n, name, f, stdout_errno);
          printed_fix[f.id + "@" + std::to_string(f.line)] = f.fix;
        },
        env ? &*env : nullptr);
    stream.read_libraries(true);
    std::string error;
    if (!stream_log(file, stream, error)) {
      log.error("{}", smwatch::printable(error));
      failed = true;
      if (stream.lines() == 0) continue;
    }
    recognised = recognised || !stream.findings().empty();
    if (json) {
      auto doc = findings_to_json(stream.findings(), file);
      const LogFacts& facts = stream.facts();
      doc["context"] = {{"gpu", facts.gpu_name.value},
                        {"gpu_sm", facts.gpu_cc.value ? "sm_" + std::to_string(facts.gpu_cc.value) : ""},
                        {"versions", versions_with_driver(facts)}, {"torch_cuda", facts.torch_cuda.value},
                        {"facts", facts_to_json(facts)}, {"lines", stream.lines()},
                        {"python", env ? env->python : ""}};
      docs.push_back(std::move(doc));
    } else {
      print_summary(std::cout, name, stream, printed_fix);
    }
  }
  if (env && !json)
    std::cout << "(installed packages from " << smwatch::printable(python) << ": " << smwatch::printable(choice.origin)
              << ")\n";
  if (json) {
    auto out = docs.size() == 1 ? docs[0] : nlohmann::json{{"schema", kExplainSchema}, {"logs", docs}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  if (failed) return 2;
  return recognised ? 0 : 1;
}

}  // namespace smwatch::cli
