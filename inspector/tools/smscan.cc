// smscan: predicts, per target GPU, which files of a tree will fail with
// "no kernel image is available for execution on the device".
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "smwatch/native.h"
#include "smwatch/report.h"
#include "smwatch/scan.h"

namespace {

constexpr const char* kDescription = R"(smscan - find CUDA device code that cannot run on a GPU, before anything runs.

Reads every fatbin, cubin and PTX image in shared libraries, executables,
static archives, bare fatbins/cubins and .ptx files, and judges per target GPU:
  OK    SASS (machine code) for the GPU is present
  JIT   only PTX can serve it: works, but compiles on first launch
  FAIL  nothing can run: "no kernel image is available for execution on the device"

Examples:
  smscan ~/.venv/lib/python3.12/site-packages/torch        # default target
  smscan -t "RTX 5090",H100 /usr/local/cuda/lib64          # two GPUs, two columns
  smscan --json -t sm_120 libfoo.so > report.json
  smscan --list libtorch_cuda.so      # same lines as cuobjdump --list-elf --list-ptx

Targets (--target, comma-separated or repeated): sm_120, 120, 12.0, sm_90a,
compute_80, GPU names ("RTX 5090", H100, B200, GB10, A100, ...), or "native"
for the GPUs of this machine. Default: native when a GPU is present, else sm_120.

Exit status: 0 every target is OK or JIT; 1 some target FAILs;
2 usage error, or a file could not be read (the rest is still scanned and reported).)";

std::vector<smwatch::Target> resolve_targets(const std::vector<std::string>& specs, std::string& error) {
  std::vector<smwatch::Target> targets;
  auto add = [&](const smwatch::Target& t) {
    for (const auto& have : targets)
      if (have.cc == t.cc) return;
    targets.push_back(t);
  };
  for (const auto& spec : specs) {
    std::string_view rest = spec;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string item(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item.empty()) continue;
      if (item == "native") {
        smwatch::NativeInfo native = smwatch::query_native_gpus();
        if (native.gpus.empty()) {
          error = "--target native: " + native.error;
          return {};
        }
        for (const auto& gpu : native.gpus) add({gpu.cc, gpu.name});
        continue;
      }
      auto target = smwatch::parse_target(item);
      if (!target) {
        error = target.error().message;
        return {};
      }
      add(*target);
    }
  }
  return targets;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "smscan"};
  app.get_formatter()->column_width(30);
  std::vector<std::string> paths, target_specs;
  bool json = false, list = false, kernels = false, quiet = false, verbose = false, no_progress = false;
  std::string color = "auto";
  unsigned threads = 0;
  app.add_option("PATH", paths, "directories, .so, .a, executables, fatbins, cubins, .ptx files")->required();
  app.add_option("-t,--target", target_specs, "GPUs to judge for (see above); repeatable")->allow_extra_args(false);
  app.add_flag("--json", json, "print the report as JSON (schema: docs/json-schema.md)");
  app.add_flag("--list", list, "list every image like cuobjdump --list-elf --list-ptx");
  app.add_flag("--kernels", kernels, "also decompress images and read kernel names (JSON output)");
  app.add_option("-j,--threads", threads, "files scanned at once (default: all cores)");
  app.add_option("--color", color, "colour verdicts: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_flag("--no-progress", no_progress, "never show progress on stderr");
  app.add_flag("-q,--quiet", quiet, "only errors on stderr");
  app.add_flag("-v,--verbose", verbose, "say what is being read");
  app.set_version_flag("--version", std::string("smscan ") + smwatch::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : smwatch::kExitError;
  }

  auto log = spdlog::stderr_color_mt("smscan");
  log->set_pattern("smscan: %^%l%$: %v");
  log->set_level(quiet ? spdlog::level::err : verbose ? spdlog::level::debug : spdlog::level::warn);

  if (target_specs.empty()) {
    smwatch::NativeInfo native = smwatch::query_native_gpus();
    target_specs.push_back(native.gpus.empty() ? "sm_120" : "native");
    log->debug("default target: {} ({})", target_specs.back(), native.gpus.empty() ? native.error : "GPU present");
  }
  std::string error;
  std::vector<smwatch::Target> targets = resolve_targets(target_specs, error);
  if (targets.empty()) {
    log->error("{}", error.empty() ? "no target" : error);
    return smwatch::kExitError;
  }

  const bool show_progress = !no_progress && !quiet && isatty(STDERR_FILENO);
  auto progress = [&](const smwatch::ScanProgress& p) {
    if (!show_progress) return;
    std::cerr << fmt::format("\r\x1b[Kscanning: {}/{} files, {:.1f} MiB", p.files_done, p.files_total,
                             p.bytes_done / 1048576.0)
              << (p.files_done == p.files_total ? "\r\x1b[K" : "") << std::flush;
  };
  smwatch::ScanOptions options;
  options.kernels = kernels;
  smwatch::TreeScan tree = smwatch::scan_paths(paths, options, threads, progress);
  for (const auto& file : tree.files) {
    if (!file.read_error.empty()) log->error("{}: {}", file.path, file.read_error);
    for (const auto& p : file.problems) log->warn("{}: {}", file.path, p);
  }

  if (list) {
    size_t listed = 0;
    for (const auto& file : tree.files) listed += file.has_device_code() || !file.members.empty();
    for (const auto& file : tree.files) {
      if (!file.has_device_code() && file.members.empty()) continue;
      if (listed > 1) std::cout << "\n# " << file.path << "\n";
      smwatch::print_cuobjdump_list(std::cout, file);
    }
    size_t unreadable = 0;
    for (const auto& file : tree.files) unreadable += !file.read_error.empty();
    return unreadable ? smwatch::kExitError : smwatch::kExitOk;
  }

  smwatch::ScanReport report = smwatch::judge(std::move(tree), std::move(targets));
  if (json) {
    std::cout << smwatch::to_json(report).dump(2) << "\n";
  } else {
    smwatch::TableStyle style;
    style.color = color == "always" || (color == "auto" && isatty(STDOUT_FILENO));
    smwatch::print_table(std::cout, report, style);
  }
  return report.exit_code();
}
