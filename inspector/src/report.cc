#include "smwatch/report.h"

#include <fmt/format.h>

#include <filesystem>

namespace smwatch {
namespace {

const char* color_of(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "\x1b[32m";
    case Verdict::kJit: return "\x1b[33m";
    default: return "\x1b[31;1m";
  }
}

std::string gpus_of(uint16_t cc) {
  const GpuGeneration* gen = find_generation(cc);
  return gen ? gen->gpus : "";
}

std::string target_title(const Target& t) {
  std::string gpus = gpus_of(t.cc);
  return fmt::format("{} (CC {}{}{})", t.sm_name(), t.cc_string(), gpus.empty() ? "" : ": ", gpus);
}

}  // namespace

int ScanReport::exit_code() const {
  if (unreadable > 0 || damaged > 0) return kExitError;  // the prediction is incomplete
  for (const auto& s : summaries)
    if (s.verdict == Verdict::kFail) return kExitFail;
  return kExitOk;
}

ScanReport judge(TreeScan tree, std::vector<Target> targets) {
  ScanReport report;
  report.tree = std::move(tree);
  report.targets = std::move(targets);
  for (const auto& t : report.targets) report.summaries.push_back({t});
  for (const auto& file : report.tree.files) {
    if (!file.read_error.empty()) ++report.unreadable;
    if (!file.problems.empty()) ++report.damaged;
    std::vector<FileVerdict> row;
    for (size_t i = 0; i < report.targets.size(); ++i) {
      row.push_back(judge_file(file, report.targets[i].cc));
      if (!file.has_device_code()) continue;
      TargetSummary& s = report.summaries[i];
      s.verdict = worst(s.verdict, row.back().verdict);
      switch (row.back().verdict) {
        case Verdict::kOk: ++s.ok; break;
        case Verdict::kJit: ++s.jit; break;
        case Verdict::kFail: ++s.fail; break;
      }
    }
    report.verdicts.push_back(std::move(row));
  }
  return report;
}

void print_table(std::ostream& out, const ScanReport& report, const TableStyle& style) {
  constexpr size_t kCodeWidth = 44;
  auto paint = [&](Verdict v, const std::string& text) {
    return style.color ? std::string(color_of(v)) + text + "\x1b[0m" : text;
  };
  size_t with_code = 0;
  for (const auto& f : report.tree.files) with_code += f.has_device_code();

  // Header: one verdict column per target.
  std::string header;
  for (const auto& t : report.targets) header += fmt::format("{:<8}", t.sm_name());
  header += fmt::format("{:<{}}  {}", "DEVICE CODE", kCodeWidth, "FILE");
  if (with_code > 0) out << header << "\n";
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const FileScan& file = report.tree.files[i];
    if (!file.has_device_code()) continue;
    std::string line;
    for (const auto& v : report.verdicts[i]) line += paint(v.verdict, fmt::format("{:<8}", verdict_name(v.verdict)));
    std::string code = compact_archs(file);
    if (code.size() > kCodeWidth) code = code.substr(0, kCodeWidth - 3) + "...";
    out << line << fmt::format("{:<{}}  {}", code, kCodeWidth, file.path) << "\n";
  }

  out << "\n"
      << fmt::format("{} file{} with device code, {} without", with_code, with_code == 1 ? "" : "s",
                     report.tree.files_without_device_code);
  if (report.unreadable) out << fmt::format(", {} unreadable", report.unreadable);
  if (report.damaged) out << fmt::format(", {} damaged", report.damaged);
  out << "\n";
  for (size_t t = 0; t < report.targets.size(); ++t) {
    const TargetSummary& s = report.summaries[t];
    out << paint(s.verdict, fmt::format("{:<5}", verdict_name(s.verdict))) << target_title(s.target) << ": ";
    if (with_code == 0) out << "nothing to run";
    else if (s.verdict == Verdict::kOk) out << fmt::format("all {} files have SASS that runs", s.ok);
    else out << fmt::format("{} OK, {} only through PTX JIT, {} will fail", s.ok, s.jit, s.fail);
    out << "\n";
    if (s.fail > 0) {
      out << "     " << fmt::format("{} file{} will fail at the first launch with \"no kernel image is available for execution on the device\":",
                                     s.fail, s.fail == 1 ? "" : "s") << "\n";
      size_t shown = 0;
      for (size_t i = 0; i < report.tree.files.size(); ++i) {
        const FileVerdict& v = report.verdicts[i][t];
        if (!report.tree.files[i].has_device_code() || v.verdict != Verdict::kFail) continue;
        if (++shown > 10) continue;
        out << "       " << report.tree.files[i].path << ": " << v.reason << "\n";
      }
      if (shown > 10) out << fmt::format("       ... and {} more (--json lists all)\n", shown - 10);
      out << "     fix: " << fix_hint(s.target.cc) << "\n";
    } else if (s.jit > 0) {
      out << "     note: PTX JIT works but compiles on first use and may run slower than SASS; "
          << "a build with " << s.target.sm_name() << " SASS avoids both\n";
    }
  }
  bool heading = false;
  for (const auto& file : report.tree.files) {
    if (file.read_error.empty() && file.problems.empty()) continue;
    if (!heading) out << "\nProblems:\n";
    heading = true;
    if (!file.read_error.empty()) out << "  " << file.path << ": " << file.read_error << "\n";
    for (const auto& p : file.problems) out << "  " << file.path << ": " << p << "\n";
  }
}

nlohmann::json to_json(const ScanReport& report) {
  using nlohmann::json;
  json doc;
  doc["schema"] = kScanSchema;
  doc["tool"] = {{"name", "smscan"}, {"version", kVersion}};
  json targets = json::array();
  for (const auto& t : report.targets) {
    const GpuGeneration* gen = find_generation(t.cc);
    targets.push_back({{"arch", t.sm_name()},
                       {"cc", t.cc_string()},
                       {"label", t.label},
                       {"gpus", gen ? gen->gpus : ""},
                       {"first_cuda", gen ? gen->first_cuda : ""}});
  }
  doc["targets"] = targets;
  json files = json::array();
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const FileScan& file = report.tree.files[i];
    json f = {{"path", file.path}, {"format", format_name(file.format)}, {"size", file.size}};
    if (!file.read_error.empty()) f["error"] = file.read_error;
    f["problems"] = file.problems;
    if (file.has_device_code()) {
      f["archs"] = compact_archs(file);
      json containers = json::array();
      for (const auto& c : file.containers) {
        json images = json::array();
        for (const auto& img : c.images) {
          json j = {{"kind", img.kind == CodeKind::kSass ? "sass" : "ptx"},
                    {"arch", img.kind == CodeKind::kSass ? img.arch.sm_name() : img.arch.compute_name()},
                    {"compression", compression_name(img.compression)},
                    {"offset", img.offset},
                    {"header_size", img.header_size},
                    {"payload_size", img.payload_size},
                    {"stored_size", img.stored_size},
                    {"uncompressed_size", img.uncompressed_size},
                    {"flags", img.flags}};
          if (img.kind == CodeKind::kPtx) j["ptx_isa"] = img.ptx_isa();
          if (img.kernels_read) j["kernels"] = img.kernels;
          images.push_back(std::move(j));
        }
        containers.push_back({{"offset", c.offset},
                              {"defines_kernels", c.kernels == FatbinContainer::Kernels::kNone   ? json(false)
                                                  : c.kernels == FatbinContainer::Kernels::kSome ? json(true)
                                                                                                 : json(nullptr)},
                              {"size", c.size},
                              {"section", c.section},
                              {"member", c.member},
                              {"images", std::move(images)}});
      }
      f["containers"] = std::move(containers);
      json verdicts = json::object();
      for (size_t t = 0; t < report.targets.size(); ++t) {
        const FileVerdict& v = report.verdicts[i][t];
        verdicts[report.targets[t].sm_name()] = {{"verdict", verdict_name(v.verdict)},
                                                 {"reason", v.reason},
                                                 {"fatbins_sass", v.containers_sass},
                                                 {"fatbins_jit", v.containers_jit},
                                                 {"fatbins_none", v.containers_none},
                                                 {"fatbins_not_for_gpu", v.containers_not_for_gpu}};
      }
      f["verdicts"] = std::move(verdicts);
    }
    files.push_back(std::move(f));
  }
  doc["files"] = std::move(files);
  json per_target = json::object();
  for (const auto& s : report.summaries) {
    json j = {{"verdict", verdict_name(s.verdict)}, {"ok", s.ok}, {"jit", s.jit}, {"fail", s.fail}};
    if (s.fail > 0) j["fix"] = fix_hint(s.target.cc);
    per_target[s.target.sm_name()] = std::move(j);
  }
  size_t with_code = 0;
  for (const auto& f : report.tree.files) with_code += f.has_device_code();
  doc["summary"] = {{"files_with_device_code", with_code},
                    {"files_without_device_code", report.tree.files_without_device_code},
                    {"files_unreadable", report.unreadable},
                    {"files_damaged", report.damaged},
                    {"targets", std::move(per_target)}};
  doc["exit_code"] = report.exit_code();
  return doc;
}

void print_cuobjdump_list(std::ostream& out, const FileScan& file) {
  // cuobjdump names images "<stem>.<n>.<arch>.cubin|ptx", counting ELF and PTX
  // images separately through the whole file; a bare cubin is "<stem>.<arch>.cubin".
  namespace fs = std::filesystem;
  const fs::path path(file.path);
  const std::string stem = path.filename().stem().string();
  size_t elf = 0, ptx = 0;
  auto print_images = [&](const FatbinContainer& c) {
    for (const auto& img : c.images) {
      if (img.kind == CodeKind::kSass) {
        // The family suffix is not part of an ELF image's name (sm_100f SASS is plain sm_100 code).
        std::string arch = "sm_" + std::to_string(img.arch.number) +
                           (img.arch.variant == ArchVariant::kArchSpecific ? "a" : "");
        ++elf;
        if (file.format == FileFormat::kCubin)
          out << fmt::format("ELF file {:>4}: {}.{}.cubin\n", elf, stem, arch);
        else
          out << fmt::format("ELF file {:>4}: {}.{}.{}.cubin\n", elf, stem, elf, arch);
      } else {
        ++ptx;
        out << fmt::format("PTX file {:>4}: {}.{}.sm_{}{}.ptx\n", ptx, stem, ptx, img.arch.number, img.arch.suffix());
      }
    }
  };
  if (file.format == FileFormat::kPtx) return;  // cuobjdump: "does not contain device code"
  if (file.format == FileFormat::kArchive) {
    const std::string abs = fs::absolute(path).lexically_normal().string();
    for (size_t m = 0; m < file.members.size(); ++m) {
      out << "\nmember " << abs << ":" << file.members[m] << ":\n";
      for (const auto& c : file.containers)
        if (c.member_index == static_cast<int>(m)) print_images(c);
    }
    return;
  }
  for (const auto& c : file.containers) print_images(c);
}

}  // namespace smwatch
