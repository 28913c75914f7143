// smscan: predicts, per target GPU, which files of a tree will fail with
// "no kernel image is available for execution on the device".
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>

#include "smwatch/container_image.h"
#include "smwatch/native.h"
#include "smwatch/packages.h"
#include "smwatch/python_env.h"
#include "smwatch/report.h"
#include "smwatch/scan.h"
#include "smwatch/text.h"

namespace {

constexpr const char* kDescription = R"(smscan - find CUDA device code that cannot run on a GPU, before anything runs.

Reads every fatbin, cubin and PTX image in shared libraries, executables,
static archives, bare fatbins/cubins, .ptx files, and wheels/zips (read in
memory, never extracted), and judges per target GPU:
  OK       SASS (machine code) for the GPU is present
  JIT      only PTX can serve it: works, but compiles on first launch
  PARTIAL  the file's main code serves the GPU, some fatbins were built only
           for other GPUs: their kernels fail if called there (libraries that
           pick kernels per GPU, such as cuBLAS and cuDNN, do not call them)
  FAIL     nothing in the file can run on it, or its main code has nothing
           for it: launches fail with "no kernel image is available for
           execution on the device"
  N/A      not for this GPU: built only for other GPUs on purpose ('a'/'f'
           code), or a package fact says the package does not use it there
A package or wheel takes the verdict of its worst file (N/A counts least).
Package facts (which file a package loads on which GPU, or by torch's CUDA
version) come from a versioned table with sources: --explain-facts. Device code is also
found outside the .nv_fatbin section (cuFFT keeps thousands of fatbins in its
data); --list shows only what cuobjdump lists.

Examples:
  smscan ~/.venv/lib/python3.12/site-packages/torch        # default target
  smscan -t "RTX 5090",H100 /usr/local/cuda/lib64          # two GPUs, two columns
  smscan --json -t sm_120 libfoo.so > report.json
  smscan --list libtorch_cuda.so      # same lines as cuobjdump --list-elf --list-ptx
  smscan --kernels -t sm_90,sm_120 libflash.so   # every kernel, demangled, per target
  smscan torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl    # a wheel, before installing it
  smscan --python .venv/bin/python --html report.html     # an environment, by package
  smscan --python                     # the environment smscan is installed in, else python3 on PATH
  smscan --format markdown site-packages > comment.md     # for a CI comment

Installed files are grouped by the Python distribution that installed them
(*.dist-info/RECORD), wheel members by the wheel's name.

PTX is JIT-compiled only by a driver that knows its ISA version. With
--driver 12.8 (a CUDA version) or --driver 570.86 (a driver version), or on
this machine's GPUs (native targets, which ask the driver), PTX newer than
the driver serves no GPU, and the driver to install is named.

Container images: smscan IMAGE, where IMAGE is a docker-archive tar (docker
save, skopeo), an oci-archive tar, or an OCI layout directory (DIR, or DIR:TAG
when it holds several). Its layers are read in memory and applied in order;
paths are those inside the image, files are grouped by the RECORDs of its
Pythons, and fixes name the image. One image per run.

Targets (--target, comma-separated or repeated): sm_120, 120, 12.0, sm_90a,
compute_80, GPU names ("RTX 5090", H100, B200, GB10, A100, ...), or "native"
for the GPUs of this machine. Default: native when a GPU is present, else sm_120.

Exit status: 0 every target is OK, JIT or PARTIAL; 1 some target FAILs (or,
with --strict, is PARTIAL);
2 usage error, or a file could not be read (the rest is still scanned and reported).)";

int smscan_main(int argc, char** argv) {
  CLI::App app{kDescription, "smscan"};
  app.get_formatter()->column_width(30);
  std::vector<std::string> paths, target_specs;
  bool json = false, list = false, kernels = false, quiet = false, verbose = false, no_progress = false,
       strict = false;
  std::string color = "auto";
  unsigned threads = 0;
  std::string format = "table", html_file, markdown_file, python, driver_spec, torch_cuda;
  bool explain_facts = false;
  app.add_option("PATH", paths, "directories, .so, .a, executables, fatbins, cubins, .ptx files, .whl/.zip, or one container image");
  app.add_option("-t,--target", target_specs, "GPUs to judge for (see above); repeatable")->allow_extra_args(false);
  app.add_flag("--json", json, "print the report as JSON (schema: docs/json-schema.md); same as --format json");
  app.add_option("--format", format, "what to print: table, json, markdown")
      ->check(CLI::IsMember({"table", "json", "markdown"}));
  app.add_option("--html", html_file, "also write a self-contained HTML report to FILE");
  app.add_option("--markdown", markdown_file, "also write a Markdown summary (for a CI comment) to FILE");
  auto* python_option = app.add_option("--python", python,
                                       "scan the site-packages of this Python interpreter, by package; alone: the "
                                       "environment smscan is installed in, else python3 on PATH")
                           ->expected(0, 1);
  app.add_option("--driver", driver_spec,
                 "the driver the code will run on: a CUDA version (12.8) or a Linux driver version (570.86); "
                 "PTX newer than it cannot be JIT-compiled (default: this machine's, when the targets are native)");
  app.add_flag("--list", list, "list every image like cuobjdump --list-elf --list-ptx");
  app.add_flag("--kernels", kernels, "judge kernel by kernel and list every kernel (decompresses all images)");
  app.add_flag("--explain-facts", explain_facts,
               "after the report, list the package facts used, with versions and sources; alone: every fact known");
  app.add_option("--torch-cuda", torch_cuda,
                 "the CUDA version torch is built with (e.g. 12.8), for facts such as bitsandbytes'; default: the "
                 "installed torch's (--python)")
      ->check([](const std::string& v) {
        return !v.empty() && v.find_first_not_of("0123456789.") == std::string::npos ? "" : "a version such as 12.8";
      });
  app.add_flag("--strict", strict, "exit 1 on PARTIAL too (kernels that fail if called on a target)");
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

  if (json) format = "json";
  // Installed distributions: site-packages of --python, and any directory
  // with *.dist-info at or above a scanned path.
  if (python_option->count() > 0) {
    const smwatch::PythonChoice choice = smwatch::choose_python(python);
    python = choice.python;
    if (!quiet) std::cerr << "smscan: --python: " << python << ": " << choice.origin << "\n";
    auto dirs = smwatch::python_site_packages(python);
    if (!dirs) {
      log->error("{}", smwatch::printable(dirs.error().message));
      return smwatch::kExitError;
    }
    for (const auto& d : *dirs) {
      log->debug("--python: {}", smwatch::printable(d));
      paths.push_back(d);
    }
  }
  if (explain_facts && paths.empty()) {
    std::cout << "Package facts known to smscan " << smwatch::kVersion << " (docs/package-facts.md):\n";
    for (const auto& f : smwatch::builtin_package_facts()) std::cout << "  " << smwatch::describe_fact(f) << "\n";
    return smwatch::kExitOk;
  }
  if (paths.empty()) {
    log->error("nothing to scan: name files or directories, or --python PATH (see --help)");
    return smwatch::kExitError;
  }
  // A container image is scanned alone: its files, packages and fixes are its own.
  smwatch::ImageSummary image;
  std::optional<smwatch::ImageScan> image_scan;
  for (const auto& p : paths) {
    if (!smwatch::looks_like_image(p)) continue;
    if (paths.size() > 1 || python_option->count() > 0) {
      log->error("{}: a container image is scanned on its own: one image per run, without --python",
                 smwatch::printable(p));
      return smwatch::kExitError;
    }
    smwatch::ScanOptions image_options;
    image_options.kernels = kernels;
    image_options.probe_kernels = !list;
    image_options.embedded = !list;
    image_scan = smwatch::scan_image(p, image_options, threads);
    if (!image_scan->read_error.empty() || !image_scan->problems.empty()) {
      smwatch::FileScan self;  // the image's own damage, reported and counted like a file's
      self.path = p;
      self.read_error = image_scan->read_error;
      self.problems = std::move(image_scan->problems);
      image_scan->tree.files.insert(image_scan->tree.files.begin(), std::move(self));
    }
    image = std::move(image_scan->summary);
  }
  // Which installed distribution owns each file (all RECORDs of the
  // environment: about a second for a large one, so not for --list).
  smwatch::PackageIndex packages;
  for (const auto& dir : list || image_scan ? std::vector<std::string>{} : smwatch::find_site_dirs(paths)) {
    std::vector<std::string> problems;
    packages.add_site_packages(dir, problems);
    for (const auto& p : problems) log->warn("{}", smwatch::printable(p));
  }

  // Targets are resolved before the scan so a typo fails fast; --list needs
  // none, and asking the driver for "native" costs a cuInit (about a second).
  std::vector<smwatch::Target> targets;
  smwatch::Driver driver;
  if (!driver_spec.empty()) {
    auto parsed = smwatch::parse_driver(driver_spec);
    if (!parsed) {
      log->error("{}", smwatch::printable(parsed.error().message));
      return smwatch::kExitError;
    }
    driver = *parsed;
  }
  if (!list) {
    // No --target: this machine's GPUs, else the default (resolve_targets).
    // Asking for them also says which driver runs the code here.
    auto resolved = smwatch::resolve_targets(target_specs, [&] {
      const smwatch::NativeInfo native = smwatch::query_native_gpus();
      if (driver_spec.empty() && !native.gpus.empty())
        driver = smwatch::driver_from_cuda_version(native.driver_version, "this machine's, CUDA " +
                                                                              smwatch::cuda_version_name(native.driver_version));
      return smwatch::native_targets(native);
    });
    if (!resolved) {
      log->error("{}", smwatch::printable(resolved.error().message));
      return smwatch::kExitError;
    }
    targets = std::move(*resolved);
    if (target_specs.empty()) log->debug("default target: {}", targets.front().sm_name());
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
  options.probe_kernels = !list;  // a listing needs the headers only
  options.embedded = !list;       // and lists only what cuobjdump lists
  smwatch::TreeScan tree =
      image_scan ? std::move(image_scan->tree) : smwatch::scan_paths(paths, options, threads, progress);
  for (const auto& file : tree.files) {
    // Paths, member and kernel names, and messages quoting them, are outside text.
    if (!file.read_error.empty()) log->error("{}: {}", smwatch::printable(file.path), smwatch::printable(file.read_error));
    for (const auto& p : file.problems) log->warn("{}: {}", smwatch::printable(file.path), smwatch::printable(p));
  }

  if (list) {
    size_t listed = 0;
    for (const auto& file : tree.files) listed += file.has_device_code() || !file.members.empty();
    for (const auto& file : tree.files) {
      if (!file.has_device_code() && file.members.empty()) continue;
      if (listed > 1) std::cout << "\n# " << smwatch::printable(file.path) << "\n";
      smwatch::print_cuobjdump_list(std::cout, file);
    }
    size_t unreadable = 0;
    for (const auto& file : tree.files) unreadable += !file.read_error.empty() || !file.problems.empty();
    return unreadable ? smwatch::kExitError : smwatch::kExitOk;  // unreadable or damaged, as without --list
  }

  if (driver.known()) log->debug("driver: {}", smwatch::printable(driver.label));
  smwatch::JudgeOptions judge_options;
  judge_options.packages = image_scan ? &image_scan->packages : &packages;
  judge_options.torch_cuda = torch_cuda.empty() ? image.torch_cuda : torch_cuda;  // an image's torch says its own
  judge_options.driver = driver;
  smwatch::ScanReport report = smwatch::judge(std::move(tree), std::move(targets), judge_options);
  report.strict = strict;
  report.image = std::move(image);
  auto write_file = [&](const std::string& file, auto&& print) {
    std::ofstream f(file, std::ios::trunc);
    if (f) print(f);
    if (!f) {
      log->error("{}: cannot write: {}", smwatch::printable(file), std::strerror(errno));
      return false;
    }
    return true;
  };
  bool written = true;
  if (!html_file.empty()) written &= write_file(html_file, [&](std::ostream& o) { smwatch::print_html(o, report); });
  if (!markdown_file.empty())
    written &= write_file(markdown_file, [&](std::ostream& o) { smwatch::print_markdown(o, report); });
  if (format == "json") {
    smwatch::print_json(std::cout, report);
  } else if (format == "markdown") {
    smwatch::print_markdown(std::cout, report);
  } else {
    smwatch::TableStyle style;
    style.color = color == "always" || (color == "auto" && isatty(STDOUT_FILENO));
    smwatch::print_table(std::cout, report, style);
  }
  if (explain_facts) {
    std::ostream& out = format == "table" ? std::cout : std::cerr;  // JSON and Markdown stay documents
    out << "\nPackage facts used" << (report.torch_cuda.empty() ? "" : " (torch's CUDA: " + report.torch_cuda + ")")
        << ":" << (report.facts_used.empty() ? " none" : "") << "\n";
    for (const auto& f : report.facts_used) out << "  " << smwatch::printable(smwatch::describe_fact(f)) << "\n";
  }
  return written ? report.exit_code() : smwatch::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  // Big transient buffers (a fatbin container copied out of a stream, a
  // decompressed image) are mapped and given back when freed: glibc's
  // sliding threshold otherwise moves them into the arenas, which keep them
  // (smscan IMAGE of bench/bench_image.sh's image: peak RSS 216 MiB, 138
  // with this; the heap at its peak is about 110 MiB either way).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  // A report that did not reach standard output is not a report: exit 2.
  return smwatch::exit_after_stdout("smscan", smscan_main(argc, argv));
}
