// smwatch: runs programs with the CUDA watch shim, merges its reports, explains
// CUDA failure logs, and checks this machine (docs/smwatch-command.md).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "doctor.h"
#include "explain/command.h"
#include "report/render.h"
#include "run.h"
#include "smwatch/arch.h"
#include "smwatch/native.h"
#include "smwatch/report.h"
#include "smwatch/text.h"

namespace {

namespace fs = std::filesystem;
using smwatch::cli::Format;

constexpr const char* kDescription = R"(smwatch - find which library and kernel has no code for your GPU, and what to install instead.

Subcommands (smwatch SUBCOMMAND --help for each):
  run      run a command with libsmwatch.so preloaded; summarise every failing kernel
  report   merge the JSONL reports of `run` (many processes, many machines)
  explain  recognise known CUDA failures in a log or traceback, with cause and fix
  doctor   this machine's GPUs and driver, and the CUDA packages of smwatch's Python environment

Examples:
  smwatch run -- python -m sglang.launch_server --model-path Qwen/Qwen2.5-7B
  smwatch run -t sm_120,B200 --report ./reports -- python train.py
  smwatch report --html -o report.html ./reports node2-reports/
  python serve.py 2>&1 | tee server.log; smwatch explain server.log
  smwatch doctor)";

constexpr const char* kRunHelp = R"(Run COMMAND with libsmwatch.so preloaded and print one summary of every process it started.

The shim writes one JSON Lines report per process into the report directory
(SMWATCH_REPORT); LD_PRELOAD is inherited, so workers and subprocesses are
followed too. At the end smwatch merges all reports of the directory and prints
(on stderr) per process: modules loaded, failed calls with kernel, library,
architectures it holds and the fix; and, for --targets, the kernels that would
fail on those GPUs. The reports are kept.

Examples:
  smwatch run -- python -c 'import torch; torch.ones(1, device="cuda")'
  smwatch run -t "RTX 5090",sm_100 -- python -m vllm.entrypoints.openai.api_server ...
  smwatch run --report /tmp/r -- ./my_cuda_app && smwatch report --html -o r.html /tmp/r

The library is found next to smwatch (../lib/libsmwatch.so, ./libsmwatch.so, or
the build tree's shim/libsmwatch.so) or in $SMWATCH_LIB.
Exit status: COMMAND's own; 128+N when signal N ended it; 126 COMMAND cannot be
executed; 127 COMMAND not found; 125 smwatch itself failed (nothing was run).)";

constexpr const char* kReportHelp = R"(Merge the JSONL reports of `smwatch run` (files, or directories searched for *.jsonl)
into one summary. A cut-off last line (the process crashed) and garbage lines are
skipped with a warning that names file:line.

Examples:
  smwatch report /tmp/smwatch-run-Ab12Cd
  smwatch report --markdown node*/reports > summary.md
  smwatch report --html -o report.html reports/
  smwatch report --json reports/ | jq '.failures[] | .source'

Exit status: 2 something could not be read (named on stderr; the rest is still
summarised) or no report record was found; else 1 failures, or kernels missing
for a what-if target; else 0.)";

constexpr const char* kExplainHelp = R"(Read a crash log, traceback or server log (FILE, or standard input) and recognise
known CUDA failure signatures: PyTorch's GPU warnings (the capability range read),
"no kernel image is available", invalid device function, PTX/driver mismatches
(CUDA errors 35, 200, 209, 218, 221, 222), Triton/ptxas/LLVM that do not know the
GPU, NCCL and cuBLAS errors, FlashAttention's and flashinfer's architecture checks,
missing CUDA libraries, bitsandbytes' CPU fallback, Python version mismatches,
SGLang/flashinfer context, and smwatch's own JSONL records. For each: the line, the
cause, and a concrete fix naming the package and its replacement, read from the
whole log (paths, frames, versions, the GPU). Streams: each finding is printed as
soon as it is recognised, in bounded memory, so a pipe from a running server works.

Examples:
  smwatch explain server.log
  python serve.py 2>&1 | smwatch explain
  kubectl logs -f pod/sglang-0 | smwatch explain --json -
  smwatch explain --python ~/venvs/serve/bin/python crash.log
  smwatch explain --list-signatures

--python PY checks versions against that interpreter's installed packages (default:
the Python smwatch is installed with; none: skip). Signatures come from
signatures.json (--signatures, $SMWATCH_SIGNATURES, or share/smwatch/signatures.json
next to the installation; else the built-in copy).
Exit status: 0 something was recognised; 1 nothing recognised; 2 error (unreadable
input or signatures file, or a --python that cannot be asked).)";

constexpr const char* kDoctorHelp = R"(Check this machine: the GPUs and their compute capability, the driver and the
newest CUDA it supports, and every library with device code in the site-packages
of a Python environment, judged for this machine's GPUs (with no GPU: sm_120 as a
what-if). Ends with a verdict and the fix.

The environment: --python; else $SMWATCH_PYTHON (`python -m smwatch doctor` sets
it); else the one smwatch is installed in (a venv's bin/, activated or not); else
python3 on PATH. The output says which.

Examples:
  smwatch doctor
  smwatch doctor --python ~/venvs/serve/bin/python -t sm_100
  smwatch doctor --path /opt/app/lib --json

Exit status: 0 everything can run; 1 something will fail (or the driver is too
old for a GPU); 2 nothing could be scanned.)";

std::shared_ptr<spdlog::logger> g_log;

// The reason the first write to standard output failed, kept for main's
// message: output flushed as it goes (explain) fails long before the end.
int g_stdout_errno = 0;

int cmd_report(const std::vector<std::string>& paths, Format format, const std::string& output) {
  smwatch::cli::MergedReport report = smwatch::cli::read_reports(paths);
  for (const auto& p : report.problems)
    g_log->warn("{}{}: {}", smwatch::printable(p.file), p.line ? ":" + std::to_string(p.line) : "", smwatch::printable(p.reason));
  if (report.garbage_lines) g_log->warn("{} garbage line{} skipped", report.garbage_lines, report.garbage_lines == 1 ? "" : "s");
  if (report.processes.empty()) g_log->error("no report records found in {}", smwatch::printable(fmt::format("{}", fmt::join(paths, ", "))));
  if (output.empty() || output == "-") {
    smwatch::cli::render_report(std::cout, report, format);
  } else {
    std::ofstream out(output, std::ios::trunc);
    if (!out) {
      g_log->error("cannot write {}: {}", smwatch::printable(output), std::strerror(errno));
      return 2;
    }
    smwatch::cli::render_report(out, report, format);
    if (!out.flush()) {
      g_log->error("cannot write {}", smwatch::printable(output));
      return 2;
    }
    std::cerr << "smwatch: wrote " << smwatch::printable(output) << "\n";
  }
  return report.exit_code();
}

int cmd_run(const std::vector<std::string>& command, const std::string& targets_spec, const std::string& report_option,
            bool quiet, const std::string& exe_dir) {
  if (command.empty()) {
    g_log->error("no command given: smwatch run [options] -- COMMAND [ARGS...]");
    return 125;
  }
  smwatch::cli::ShimSearch shim = smwatch::cli::find_shim(exe_dir);
  if (shim.path.empty()) {
    std::string tried;
    for (const auto& t : shim.tried) tried += "\n  " + t;
    g_log->error("{}; looked at:{}\nBuild the shim (target smwatch_shim) or set SMWATCH_LIB=/path/to/libsmwatch.so", smwatch::printable(shim.error), smwatch::printable(tried));
    return 125;
  }
  std::vector<std::pair<std::string, std::string>> env;
  std::string preload, error;
  if (!smwatch::cli::prepend_preload(shim.path, std::getenv("LD_PRELOAD"), preload, error)) {
    g_log->error("{}", smwatch::printable(error));
    return 125;
  }
  env.emplace_back("LD_PRELOAD", preload);
  if (!targets_spec.empty()) {
    auto targets = smwatch::resolve_targets({targets_spec}, [] { return smwatch::native_targets(); });
    if (!targets) {
      g_log->error("--targets: {}", smwatch::printable(targets.error().message));
      return 125;
    }
    std::string list;
    for (const auto& t : *targets) list += (list.empty() ? "" : ",") + t.sm_name();
    env.emplace_back("SMWATCH_TARGETS", list);
  }
  std::string dir = report_option;
  std::error_code ec;
  if (dir.empty()) {
    dir = smwatch::cli::make_report_dir(error);
    if (dir.empty()) {
      g_log->error("{}", error);
      return 125;
    }
  } else {
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
      g_log->error("--report {}: cannot create the directory: {}", smwatch::printable(dir), ec ? ec.message() : "not a directory");
      return 125;
    }
    dir = fs::absolute(dir).lexically_normal().string();  // the command may change directory
    size_t old = 0;
    for (const auto& e : fs::directory_iterator(dir, ec)) old += e.path().extension() == ".jsonl";
    if (old) g_log->warn("{} already holds {} report file{}: they are part of the summary", smwatch::printable(dir), old, old == 1 ? "" : "s");
  }
  env.emplace_back("SMWATCH_REPORT", dir);
  if (!quiet) std::cerr << "smwatch: preloading " << smwatch::printable(shim.path) << "; reports go to " << smwatch::printable(dir) << "\n";

  int status = smwatch::cli::run_child(command, env, error);
  if (!error.empty()) g_log->error("{}", smwatch::printable(error));

  smwatch::cli::MergedReport report = smwatch::cli::read_reports({dir});
  if (!quiet) {
    std::cerr << "\n";
    smwatch::cli::render_report(std::cerr, report, Format::kText);
    std::cerr << "\nsmwatch: reports kept in " << smwatch::printable(dir) << " (smwatch report --html -o report.html " << smwatch::printable(dir) << ")\n";
    if (status >= 128 && status < 128 + 65) std::cerr << "smwatch: the command was ended by signal " << status - 128 << "\n";
  }
  return status;
}

int smwatch_main(int argc, char** argv) {
  CLI::App app{kDescription, "smwatch"};
  app.get_formatter()->column_width(32);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "say more on stderr");
  app.set_version_flag("--version", std::string("smwatch ") + smwatch::kVersion);

  auto* run = app.add_subcommand("run", kRunHelp);
  std::string targets, report_dir;
  bool quiet = false;
  run->add_option("-t,--targets", targets, "what-if GPUs, comma-separated: sm_120, 12.0, \"RTX 5090\", B200, native (this machine's GPUs)...");
  run->add_option("--report", report_dir, "report directory (default: a new /tmp/smwatch-run-XXXXXX, kept)");
  run->add_flag("-q,--quiet", quiet, "print no summary (the reports are still written)");
  run->prefix_command();  // everything from COMMAND on belongs to COMMAND
  run->footer("Usage: smwatch run [OPTIONS] -- COMMAND [ARGS...]");

  auto* report = app.add_subcommand("report", kReportHelp);
  std::vector<std::string> report_paths;
  bool as_json = false, as_markdown = false, as_html = false;
  std::string output;
  report->add_option("PATH", report_paths, "report files or directories")->required();
  auto* j = report->add_flag("--json", as_json, "print JSON (schema smwatch.report/1)");
  auto* m = report->add_flag("--markdown", as_markdown, "print Markdown");
  auto* h = report->add_flag("--html", as_html, "print a self-contained HTML page (use with -o)");
  j->excludes(m)->excludes(h);
  m->excludes(h);
  report->add_option("-o,--output", output, "write to FILE instead of standard output");

  auto* explain = app.add_subcommand("explain", kExplainHelp);
  std::vector<std::string> logs;
  bool explain_json = false, list_signatures = false;
  std::string signatures;
  explain->add_option("FILE", logs, "log files; - or nothing: standard input");
  explain->add_flag("--json", explain_json, "print the findings as JSON (schema smwatch.explain/1)");
  explain->add_option("--signatures", signatures, "use this signatures.json instead of the installed/built-in one");
  explain->add_flag("--list-signatures", list_signatures, "list the known signatures and exit");
  std::string explain_python;
  explain->add_option("--python", explain_python,
                      "check versions against this interpreter's packages (default: the Python smwatch is installed with; none: skip)");

  auto* doctor = app.add_subcommand("doctor", kDoctorHelp);
  smwatch::cli::DoctorOptions doctor_options;
  doctor->add_option("--python", doctor_options.python,
                     "Python interpreter whose packages to scan (default: the environment smwatch is installed in, "
                     "else python3 on PATH)");
  doctor->add_option("--path", doctor_options.extra_paths, "more files or directories to scan; repeatable");
  doctor->add_option("-t,--target", doctor_options.targets, "more GPUs to judge for (what-if), as for smscan -t (names, numbers, native); repeatable");
  doctor->add_flag("--json", doctor_options.json, "print JSON instead of text");

  // `smwatch run [OPTIONS] -- COMMAND...`: everything after the first "--"
  // is the command, whatever it looks like. Split it off before CLI11 sees
  // it (CLI11 2.1 hands words after "--" to the top-level app, not to run).
  std::vector<std::string> after_dashes;
  bool has_dashes = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--") continue;
    if (std::none_of(argv + 1, argv + i, [](const char* a) { return std::string_view(a) == "run"; })) break;
    has_dashes = true;
    after_dashes.assign(argv + i + 1, argv + argc);
    argc = i;
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  g_log = spdlog::stderr_color_mt("smwatch");
  g_log->set_pattern("smwatch: %^%l%$: %v");
  g_log->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  const std::string exe_dir = smwatch::cli::self_exe_dir();

  if (*run) {
    std::vector<std::string> command = run->remaining();  // COMMAND given without "--"
    if (has_dashes) {
      if (!command.empty()) {
        g_log->error("unexpected words before \"--\": {} (smwatch run [OPTIONS] -- COMMAND [ARGS...])", fmt::join(command, " "));
        return 125;
      }
      command = after_dashes;
    }
    return cmd_run(command, targets, report_dir, quiet, exe_dir);
  }
  if (*report) {
    Format format = as_json ? Format::kJson : as_markdown ? Format::kMarkdown : as_html ? Format::kHtml : Format::kText;
    return cmd_report(report_paths, format, output);
  }
  if (*explain) {
    if (logs.empty()) logs.push_back("-");
    return smwatch::cli::run_explain({logs, explain_json, list_signatures, signatures, explain_python, exe_dir}, *g_log,
                                     g_stdout_errno);
  }
  if (*doctor) return smwatch::cli::run_doctor(std::cout, doctor_options, exe_dir);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Every subcommand: output that did not reach standard output is an error.
  const int rc = smwatch_main(argc, argv);  // first: it may set g_stdout_errno
  return smwatch::exit_after_stdout("smwatch", rc, g_stdout_errno);
}
