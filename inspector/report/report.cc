#include "smwatch/report.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "smwatch/demangle.h"
#include "smwatch/text.h"

namespace smwatch {
namespace {

const char* color_of(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "\x1b[32m";
    case Verdict::kJit: return "\x1b[33m";
    case Verdict::kPartial: return "\x1b[35m";
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

void json_to_utf8(nlohmann::json& j) {
  if (j.is_string()) {
    to_utf8(j.get_ref<std::string&>());
  } else if (j.is_structured()) {
    for (auto& item : j) json_to_utf8(item);  // keys are fixed names or arch names
  }
}

// What a kernel's fit shows as: "n/a" is code only for other GPUs, which
// the library does not call on this one.
const char* fit_label(ContainerFit fit) {
  switch (fit) {
    case ContainerFit::kSass: return "OK";
    case ContainerFit::kJit: return "JIT";
    case ContainerFit::kNone: return "FAIL";
    default: return "n/a";
  }
}

std::string arch_list(const KernelRow& k) {
  std::string out;
  for (const auto& a : k.sass) out += (out.empty() ? "" : " ") + a.sm_name();
  for (const auto& a : k.ptx) out += (out.empty() ? "" : " ") + std::string("ptx:") + a.compute_name();
  return out;
}

// The file's own name: "libtorch_cuda.so" for ".../torch/lib/libtorch_cuda.so"
// and for "torch.whl!torch/lib/libtorch_cuda.so".
std::string short_name(const FileScan& file) {
  const std::string& p = file.zip_member.empty() ? file.path : file.zip_member;
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string package_title(const PackageGroup& g) {
  return g.dist.name.empty() ? "(files of no known package)" : g.dist.name + " " + g.dist.version;
}

std::string package_fix(const PackageGroup& g, uint16_t cc) {
  return g.dist.name.empty() ? fix_hint(cc) : fix_hint(cc, g.dist.name, g.dist.version);
}

const char* verdict_icon(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "✅ OK";
    case Verdict::kJit: return "⚠️ JIT";
    case Verdict::kPartial: return "🔶 PARTIAL";
    default: return "❌ FAIL";
  }
}

}  // namespace

bool ScanReport::kernels_read() const {
  for (const auto& k : kernels)
    if (!k.empty()) return true;
  return false;
}

int ScanReport::exit_code() const {
  if (unreadable > 0 || damaged > 0) return kExitError;  // the prediction is incomplete
  for (const auto& s : summaries)
    if (s.verdict == Verdict::kFail || (strict && s.verdict == Verdict::kPartial)) return kExitFail;
  return kExitOk;
}

ScanReport judge(TreeScan tree, std::vector<Target> targets, const PackageIndex* packages) {
  ScanReport report;
  report.tree = std::move(tree);
  report.targets = std::move(targets);
  std::vector<uint16_t> ccs;
  for (const auto& t : report.targets) {
    report.summaries.push_back({t});
    ccs.push_back(t.cc);
  }
  for (const auto& file : report.tree.files) {
    if (!file.read_error.empty()) ++report.unreadable;
    if (!file.problems.empty()) ++report.damaged;
    std::vector<FileVerdict> row;
    for (size_t i = 0; i < report.targets.size(); ++i) {
      row.push_back(judge_code(file.containers, report.targets[i].cc));
      if (!file.has_device_code()) continue;
      TargetSummary& s = report.summaries[i];
      s.verdict = worst(s.verdict, row.back().verdict);
      s.kernels_fail += row.back().kernels_none;
      s.kernels_jit += row.back().kernels_jit;
      switch (row.back().verdict) {
        case Verdict::kOk: ++s.ok; break;
        case Verdict::kJit: ++s.jit; break;
        case Verdict::kPartial: ++s.partial; break;
        case Verdict::kFail: ++s.fail; break;
      }
    }
    report.verdicts.push_back(std::move(row));
    report.kernels.push_back(judge_kernels(file.containers, ccs));
  }

  // Group by distribution: a wheel's members by the wheel's name, installed
  // files by the RECORD that lists them.
  std::map<std::pair<std::string, std::string>, size_t> group_of;
  bool any_known = false;
  report.file_package.assign(report.tree.files.size(), -1);
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const FileScan& file = report.tree.files[i];
    if (!file.has_device_code()) continue;
    Distribution dist;
    if (!file.zip_path.empty()) {
      if (auto d = distribution_of_wheel(file.zip_path)) dist = *d;
    } else if (packages != nullptr) {
      if (const Distribution* d = packages->owner_of(file.path)) dist = *d;
    }
    any_known |= !dist.name.empty();
    auto [it, added] = group_of.try_emplace({dist.name, dist.version}, report.packages.size());
    if (added) {
      PackageGroup g;
      g.dist = dist;
      g.verdicts.assign(report.targets.size(), Verdict::kOk);
      g.kernels_fail.assign(report.targets.size(), 0);
      report.packages.push_back(std::move(g));
    }
    PackageGroup& g = report.packages[it->second];
    g.files.push_back(i);
    report.file_package[i] = static_cast<int>(it->second);
    for (size_t t = 0; t < report.targets.size(); ++t) {
      g.verdicts[t] = worst(g.verdicts[t], report.verdicts[i][t].verdict);
      g.kernels_fail[t] += report.verdicts[i][t].kernels_none;
    }
  }
  if (!any_known) {
    report.packages.clear();
    report.file_package.assign(report.tree.files.size(), -1);
  } else {
    // Known packages by name, the files of none last.
    std::vector<size_t> order(report.packages.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto& da = report.packages[a].dist;
      const auto& db = report.packages[b].dist;
      if (da.name.empty() != db.name.empty()) return db.name.empty();
      return std::tie(da.name, da.version) < std::tie(db.name, db.version);
    });
    std::vector<PackageGroup> sorted;
    std::vector<int> new_index(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      new_index[order[i]] = static_cast<int>(i);
      sorted.push_back(std::move(report.packages[order[i]]));
    }
    report.packages = std::move(sorted);
    for (int& p : report.file_package)
      if (p >= 0) p = new_index[static_cast<size_t>(p)];
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
    std::string code = compact_archs(file.containers);
    if (code.size() > kCodeWidth) code = code.substr(0, kCodeWidth - 3) + "...";
    out << line << fmt::format("{:<{}}  {}", code, kCodeWidth, printable(file.path)) << "\n";
  }

  // --kernels: every kernel of every file, demangled, with its verdicts.
  constexpr size_t kNameWidth = 240;  // template names run to pages; --json has them whole
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const auto& kernels = report.kernels[i];
    if (kernels.empty()) continue;
    out << "\n" << fmt::format("Kernels of {} ({}):", printable(report.tree.files[i].path), kernels.size()) << "\n";
    std::string head;
    for (const auto& t : report.targets) head += fmt::format("{:<8}", t.sm_name());
    out << "  " << head << fmt::format("{:<{}}  {}", "ARCHITECTURES", kCodeWidth, "KERNEL") << "\n";
    for (const auto& k : kernels) {
      std::string cells;
      for (ContainerFit fit : k.fits) cells += paint(verdict_of(fit), fmt::format("{:<8}", fit_label(fit)));
      std::string archs = arch_list(k);
      if (archs.size() > kCodeWidth) archs = archs.substr(0, kCodeWidth - 3) + "...";
      std::string name = printable(demangle(k.mangled));
      if (name.size() > kNameWidth) name = name.substr(0, kNameWidth - 3) + "...";
      out << "  " << cells << fmt::format("{:<{}}  {}", archs, kCodeWidth, name) << "\n";
    }
  }

  out << "\n"
      << fmt::format("{} file{} with device code, {} without", with_code, with_code == 1 ? "" : "s",
                     report.tree.files_without_device_code);
  if (report.unreadable) out << fmt::format(", {} unreadable", report.unreadable);
  if (report.damaged) out << fmt::format(", {} damaged", report.damaged);
  out << "\n";
  // The first ten files with verdict `v` for target `t`, with their reasons.
  auto list_files = [&](size_t t, Verdict v) {
    size_t shown = 0;
    for (size_t i = 0; i < report.tree.files.size(); ++i) {
      const FileVerdict& fv = report.verdicts[i][t];
      if (!report.tree.files[i].has_device_code() || fv.verdict != v) continue;
      if (++shown > 10) continue;
      out << "       " << printable(report.tree.files[i].path) << ": " << printable(fv.reason) << "\n";
    }
    if (shown > 10) out << fmt::format("       ... and {} more (--json lists all)\n", shown - 10);
  };
  for (size_t t = 0; t < report.targets.size(); ++t) {
    const TargetSummary& s = report.summaries[t];
    out << paint(s.verdict, fmt::format("{:<8}", verdict_name(s.verdict))) << target_title(s.target) << ": ";
    if (with_code == 0) out << "nothing to run";
    else if (s.verdict == Verdict::kOk) out << fmt::format("all {} files have SASS that runs", s.ok);
    else out << fmt::format("{} OK, {} only through PTX JIT, {} partial, {} will fail", s.ok, s.jit, s.partial, s.fail);
    if (report.kernels_read() && (s.kernels_fail > 0 || s.kernels_jit > 0))
      out << fmt::format(" ({} kernels without code for it, {} only through JIT)", s.kernels_fail, s.kernels_jit);
    // An OK over files that could not be read in full is not a promise.
    if (const size_t incomplete = report.unreadable + report.damaged; incomplete > 0)
      out << fmt::format(" - incomplete: {} file{} not read in full (see Problems)", incomplete,
                         incomplete == 1 ? "" : "s");
    out << "\n";
    if (s.fail > 0) {
      out << "     " << fmt::format("{} file{} will fail at the first launch with \"no kernel image is available for execution on the device\":",
                                     s.fail, s.fail == 1 ? "" : "s") << "\n";
      list_files(t, Verdict::kFail);
      out << "     fix: " << fix_hint(s.target.cc) << "\n";
    }
    if (s.partial > 0) {
      out << "     " << fmt::format("{} file{} PARTIAL: some fatbins have code for {}, others were built only for other "
                                     "GPUs. Those kernels fail if called on it; libraries that pick kernels per GPU "
                                     "(cuBLAS, cuDNN...) never call them there. --kernels names them, --strict fails on them:",
                                     s.partial, s.partial == 1 ? " is" : "s are", s.target.sm_name()) << "\n";
      list_files(t, Verdict::kPartial);
    }
    if (s.fail == 0 && s.jit > 0) {
      out << "     note: PTX JIT works but compiles on first use and may run slower than SASS; "
          << "a build with " << s.target.sm_name() << " SASS avoids both\n";
    }
  }
  if (!report.packages.empty()) {
    out << "\nPackages:\n";
    for (const PackageGroup& g : report.packages) {
      std::vector<std::string> ok;
      for (size_t t = 0; t < report.targets.size(); ++t) {
        const std::string sm = report.targets[t].sm_name();
        if (g.verdicts[t] == Verdict::kOk) {
          ok.push_back(sm);
          continue;
        }
        // "torch 2.5.1: FAIL on sm_120 - libtorch_cuda.so: 18978 of 18978 kernels without sm_120 SASS or PTX"
        size_t shown = 0;
        for (size_t i : g.files) {
          const FileVerdict& v = report.verdicts[i][t];
          if (v.verdict != g.verdicts[t]) continue;
          if (++shown > 5) continue;
          out << "  " << paint(g.verdicts[t], fmt::format("{}: {} on {}", printable(package_title(g)), verdict_name(g.verdicts[t]), sm))
              << " - " << printable(short_name(report.tree.files[i])) << ": " << printable(v.reason) << "\n";
        }
        if (shown > 5) out << fmt::format("    ... and {} more files\n", shown - 5);
        if (g.verdicts[t] == Verdict::kFail) out << "    fix: " << printable(package_fix(g, report.targets[t].cc)) << "\n";
      }
      if (!ok.empty()) {
        std::string list;
        for (const auto& sm : ok) list += (list.empty() ? "" : ", ") + sm;
        out << "  " << paint(Verdict::kOk, fmt::format("{}: OK on {}", printable(package_title(g)), list))
            << fmt::format(" ({} file{} with device code)", g.files.size(), g.files.size() == 1 ? "" : "s") << "\n";
      }
    }
  }
  bool noted = false;
  for (const auto& file : report.tree.files) {
    if (file.notes.empty()) continue;
    if (!noted) out << "\nNotes:\n";
    noted = true;
    for (const auto& n : file.notes) out << "  " << printable(file.path) << ": " << printable(n) << "\n";
  }
  bool heading = false;
  for (const auto& file : report.tree.files) {
    if (file.read_error.empty() && file.problems.empty()) continue;
    if (!heading) out << "\nProblems:\n";
    heading = true;
    if (!file.read_error.empty()) out << "  " << printable(file.path) << ": " << printable(file.read_error) << "\n";
    for (const auto& p : file.problems) out << "  " << printable(file.path) << ": " << printable(p) << "\n";
  }
}

// One entry of the document's "files" array.
nlohmann::json file_to_json(const ScanReport& report, size_t i) {
  using nlohmann::json;
  const FileScan& file = report.tree.files[i];
  json f = {{"path", file.path}, {"format", format_name(file.format)}, {"size", file.size}};
  if (std::string utf8 = file.path; to_utf8(utf8)) {  // not UTF-8: "path" gets U+FFFD, the exact bytes in hex
    f["path"] = utf8;
    std::string hex;
    for (unsigned char c : file.path) hex += fmt::format("{:02x}", c);
    f["path_hex"] = hex;
  }
  if (!file.read_error.empty()) f["error"] = file.read_error;
  f["problems"] = file.problems;
  if (!file.notes.empty()) f["notes"] = file.notes;
  if (!file.zip_path.empty()) f["zip"] = {{"path", file.zip_path}, {"member", file.zip_member}};
  if (!report.file_package.empty() && report.file_package[i] >= 0) {
    const auto& d = report.packages[static_cast<size_t>(report.file_package[i])].dist;
    f["package"] = d.name.empty() ? json(nullptr) : json{{"name", d.name}, {"version", d.version}};
  }
  if (file.has_device_code()) {
    f["archs"] = compact_archs(file.containers);
    json containers = json::array();
    for (const auto& c : file.containers) {
      json images = json::array();
      for (const auto& img : c.images) {
        json j = {{"kind", img.kind == CodeKind::kSass ? "sass" : img.kind == CodeKind::kPtx ? "ptx" : "lto-ir"},
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
                            {"embedded", c.embedded},
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
      if (v.by_kernel) {
        auto& j = verdicts[report.targets[t].sm_name()];
        j["kernels"] = v.kernels;
        j["kernels_jit"] = v.kernels_jit;
        j["kernels_fail"] = v.kernels_none;
        j["kernels_not_for_gpu"] = v.kernels_not_for_gpu;
      }
    }
    f["verdicts"] = std::move(verdicts);
    if (!report.kernels[i].empty()) {
      json kernels = json::array();
      for (const auto& k : report.kernels[i]) {
        json sass = json::array(), ptx = json::array(), kv = json::object();
        for (const auto& a : k.sass) sass.push_back(a.sm_name());
        for (const auto& a : k.ptx) ptx.push_back(a.compute_name());
        for (size_t t = 0; t < report.targets.size(); ++t) kv[report.targets[t].sm_name()] = fit_label(k.fits[t]);
        kernels.push_back({{"name", demangle(k.mangled)},
                           {"mangled", k.mangled},
                           {"sass", std::move(sass)},
                           {"ptx", std::move(ptx)},
                           {"verdicts", std::move(kv)}});
      }
      f["kernels"] = std::move(kernels);
    }
  }
  json_to_utf8(f);
  return f;
}

// The document without its "files" (the part that grows with the tree).
nlohmann::json to_json_without_files(const ScanReport& report) {
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
  json packages = json::array();
  for (const PackageGroup& g : report.packages) {
    json paths = json::array(), verdicts = json::object();
    for (size_t i : g.files) paths.push_back(report.tree.files[i].path);
    for (size_t t = 0; t < report.targets.size(); ++t) {
      json v = {{"verdict", verdict_name(g.verdicts[t])}};
      if (report.kernels_read()) v["kernels_fail"] = g.kernels_fail[t];
      if (g.verdicts[t] == Verdict::kFail) v["fix"] = package_fix(g, report.targets[t].cc);
      verdicts[report.targets[t].sm_name()] = std::move(v);
    }
    packages.push_back({{"name", g.dist.name.empty() ? json(nullptr) : json(g.dist.name)},
                        {"version", g.dist.name.empty() ? json(nullptr) : json(g.dist.version)},
                        {"files", std::move(paths)},
                        {"verdicts", std::move(verdicts)}});
  }
  doc["packages"] = std::move(packages);
  json per_target = json::object();
  for (const auto& s : report.summaries) {
    json j = {{"verdict", verdict_name(s.verdict)}, {"ok", s.ok}, {"jit", s.jit}, {"partial", s.partial}, {"fail", s.fail}};
    if (report.kernels_read()) {
      j["kernels_jit"] = s.kernels_jit;
      j["kernels_fail"] = s.kernels_fail;
    }
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
  json_to_utf8(doc);
  return doc;
}

nlohmann::json to_json(const ScanReport& report) {
  nlohmann::json doc = to_json_without_files(report);
  nlohmann::json files = nlohmann::json::array();
  for (size_t i = 0; i < report.tree.files.size(); ++i) files.push_back(file_to_json(report, i));
  doc["files"] = std::move(files);
  return doc;
}

void print_json(std::ostream& out, const ScanReport& report) {
  // The text of to_json(report).dump(2), but each file's object is built,
  // written and dropped in turn: memory stays flat however many files (a
  // --kernels document of a big tree is hundreds of MB as a DOM). nlohmann's
  // objects keep their keys sorted, so "files" sits where the placeholder's
  // empty array is printed.
  nlohmann::json doc = to_json_without_files(report);
  doc["files"] = nlohmann::json::array();
  const std::string text = doc.dump(2);
  const std::string placeholder = "\n  \"files\": []";
  const size_t at = text.find(placeholder);
  if (at == std::string::npos || report.tree.files.empty()) {
    out << text << "\n";
    return;
  }
  out << std::string_view(text).substr(0, at) << "\n  \"files\": [";
  for (size_t i = 0; i < report.tree.files.size(); ++i) {
    const std::string entry = file_to_json(report, i).dump(2);
    out << (i == 0 ? "\n    " : ",\n    ");
    // Indented two levels, as it sits in the array (newlines inside strings are escaped).
    for (size_t from = 0, nl; from < entry.size(); from = nl + 1) {
      nl = std::min(entry.find('\n', from), entry.size());
      out << std::string_view(entry).substr(from, nl - from);
      if (nl < entry.size()) out << "\n    ";
    }
  }
  out << "\n  ]" << std::string_view(text).substr(at + placeholder.size()) << "\n";
}

int exit_after_stdout(const char* program, int rc, int first_errno) {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return rc;
  // Again for the reason: an earlier failed write leaves its bytes buffered.
  const int err = errno != 0 ? errno : first_errno != 0 ? first_errno : (std::fflush(stdout), errno);
  std::fprintf(stderr, "%s: error: cannot write to standard output: %s\n", program,
               err != 0 ? std::strerror(err) : "write failed");
  return kExitError;
}

void print_cuobjdump_list(std::ostream& out, const FileScan& file) {
  // cuobjdump names images "<stem>.<n>.<arch>.cubin|ptx", counting ELF and PTX
  // images separately through the whole file; a bare cubin is "<stem>.<arch>.cubin".
  namespace fs = std::filesystem;
  // A zip member is named by its own file name, as cuobjdump names the extracted file.
  const fs::path path(file.zip_member.empty() ? file.path : file.zip_member);
  const std::string stem = path.filename().stem().string();
  size_t elf = 0, ptx = 0;
  auto print_images = [&](const FatbinContainer& c) {
    if (c.embedded) return;  // found outside the fatbin sections: cuobjdump does not list these
    for (const auto& img : c.images) {
      if (img.kind == CodeKind::kSass) {
        // The family suffix is not part of an ELF image's name (sm_100f SASS is plain sm_100 code).
        std::string arch = "sm_" + std::to_string(img.arch.number) +
                           (img.arch.variant == ArchVariant::kArchSpecific ? "a" : "");
        ++elf;
        if (file.format == FileFormat::kCubin)
          out << fmt::format("ELF file {:>4}: {}.{}.cubin\n", elf, printable(stem), arch);
        else
          out << fmt::format("ELF file {:>4}: {}.{}.{}.cubin\n", elf, printable(stem), elf, arch);
      } else if (img.kind == CodeKind::kPtx) {  // cuobjdump's lists leave LTO-IR out
        ++ptx;
        out << fmt::format("PTX file {:>4}: {}.{}.sm_{}{}.ptx\n", ptx, printable(stem), ptx, img.arch.number, img.arch.suffix());
      }
    }
  };
  if (file.format == FileFormat::kPtx) return;  // cuobjdump: "does not contain device code"
  if (file.format == FileFormat::kArchive) {
    const std::string abs = fs::absolute(path).lexically_normal().string();
    for (size_t m = 0; m < file.members.size(); ++m) {
      out << "\nmember " << printable(abs) << ":" << printable(file.members[m]) << ":\n";
      for (const auto& c : file.containers)
        if (c.member_index == static_cast<int>(m)) print_images(c);
    }
    return;
  }
  for (const auto& c : file.containers) print_images(c);
}

void print_markdown(std::ostream& out, const ScanReport& report) {
  // GitHub comments take 65536 characters: long lists are cut, --json has all.
  constexpr size_t kMaxRows = 100;
  size_t with_code = 0;
  for (const auto& f : report.tree.files) with_code += f.has_device_code();
  Verdict overall = Verdict::kOk;
  for (const auto& s : report.summaries) overall = worst(overall, s.verdict);
  out << "### smscan: " << verdict_icon(overall) << "\n\n";
  out << fmt::format("{} file{} with device code, {} without", with_code, with_code == 1 ? "" : "s",
                     report.tree.files_without_device_code);
  if (report.unreadable) out << fmt::format(", **{} unreadable**", report.unreadable);
  if (report.damaged) out << fmt::format(", **{} damaged**", report.damaged);
  out << ".\n\n| Target | GPUs | Verdict | Files OK / JIT / PARTIAL / FAIL |" << (report.kernels_read() ? " Kernels without code |" : "")
      << "\n|---|---|---|---|" << (report.kernels_read() ? "---|" : "") << "\n";
  for (const auto& s : report.summaries) {
    out << fmt::format("| `{}` | {} | {} | {} / {} / {} / {} |", s.target.sm_name(), escape_md(gpus_of(s.target.cc)),
                       verdict_icon(s.verdict), s.ok, s.jit, s.partial, s.fail);
    if (report.kernels_read()) out << fmt::format(" {} |", s.kernels_fail);
    out << "\n";
  }
  if (!report.packages.empty()) {
    out << "\n| Package |";
    for (const auto& t : report.targets) out << " `" << t.sm_name() << "` |";
    out << "\n|---|";
    for (size_t t = 0; t < report.targets.size(); ++t) out << "---|";
    out << "\n";
    for (const auto& g : report.packages) {
      out << "| " << escape_md(package_title(g)) << " |";
      for (size_t t = 0; t < report.targets.size(); ++t) {
        out << " " << verdict_icon(g.verdicts[t]);
        if (g.kernels_fail[t] > 0) out << fmt::format(" ({} kernels)", g.kernels_fail[t]);
        out << " |";
      }
      out << "\n";
    }
  }
  for (size_t t = 0; t < report.targets.size(); ++t) {
    const TargetSummary& s = report.summaries[t];
    if (s.fail == 0) continue;
    out << "\n**Fails on `" << s.target.sm_name() << "`** (\"no kernel image is available for execution on the device\"):\n\n";
    size_t shown = 0;
    for (size_t i = 0; i < report.tree.files.size(); ++i) {
      const FileVerdict& v = report.verdicts[i][t];
      if (!report.tree.files[i].has_device_code() || v.verdict != Verdict::kFail) continue;
      if (++shown > kMaxRows) continue;
      out << "- `" << escape_md(report.tree.files[i].path) << "`: " << escape_md(v.reason) << "\n";
    }
    if (shown > kMaxRows) out << fmt::format("- ... and {} more\n", shown - kMaxRows);
    // One fix per failing package when files are grouped, else the general one.
    bool per_package = false;
    for (const auto& g : report.packages) {
      if (g.verdicts[t] != Verdict::kFail) continue;
      per_package = true;
      out << "\nFix for " << escape_md(package_title(g)) << ": " << escape_md(package_fix(g, s.target.cc)) << "\n";
    }
    if (!per_package) out << "\nFix: " << escape_md(fix_hint(s.target.cc)) << "\n";
  }
  bool heading = false;
  for (const auto& file : report.tree.files) {
    if (file.read_error.empty() && file.problems.empty()) continue;
    if (!heading) out << "\n<details><summary>Problems</summary>\n\n";
    heading = true;
    if (!file.read_error.empty()) out << "- `" << escape_md(file.path) << "`: " << escape_md(file.read_error) << "\n";
    for (const auto& p : file.problems) out << "- `" << escape_md(file.path) << "`: " << escape_md(p) << "\n";
  }
  if (heading) out << "\n</details>\n";
  out << "\n<sub>smscan " << kVersion << "</sub>\n";
}

void print_html(std::ostream& out, const ScanReport& report) {
  // Kernel lists of big libraries run to tens of thousands of rows; the page
  // stays usable with this many per file (--json has every one).
  constexpr size_t kMaxKernelRows = 5000;
  auto cell = [](Verdict v, const std::string& text, const std::string& title) {
    const char* cls = v == Verdict::kOk ? "ok" : v == Verdict::kJit ? "jit" : v == Verdict::kPartial ? "partial" : "fail";
    return fmt::format("<td class=\"v {}\" title=\"{}\">{}</td>", cls, escape_html(title), escape_html(text));
  };
  size_t with_code = 0;
  for (const auto& f : report.tree.files) with_code += f.has_device_code();
  Verdict overall = Verdict::kOk;
  for (const auto& s : report.summaries) overall = worst(overall, s.verdict);

  out << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smscan report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.sub{color:#59636e;margin-bottom:16px}
table{border-collapse:collapse;margin:6px 0 12px}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}
td.v{font-weight:600;text-align:center;white-space:nowrap;width:64px}
.ok{background:#dafbe1;color:#116329}.jit{background:#fff8c5;color:#7d4e00}.partial{background:#fbefff;color:#6e40c9}.fail{background:#ffebe9;color:#a40e26}
.na{background:#f6f8fa;color:#818b98}
tr.pkg td{background:#eef1f4;font-weight:600}
td.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;word-break:break-all}
td.archs{font-family:ui-monospace,monospace;font-size:12px;color:#59636e}
details{margin:2px 0} summary{cursor:pointer;color:#0969da}
table.k td{font-size:12px;word-break:normal} table.k td.archs{min-width:140px}
table.k td.name{font-family:ui-monospace,monospace;overflow-wrap:anywhere;max-width:900px}
.fix{background:#f6f8fa;border-left:4px solid #0969da;padding:6px 10px;margin:6px 0}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700}
.problems li{font-family:ui-monospace,monospace;font-size:12.5px}
.why{font:12.5px/1.4 system-ui,sans-serif;color:#59636e;word-break:normal}
</style></head><body>
)";
  out << "<h1>smscan report <span class=\"badge "
      << (overall == Verdict::kOk ? "ok" : overall == Verdict::kJit ? "jit" : overall == Verdict::kPartial ? "partial" : "fail") << "\">" << verdict_name(overall)
      << "</span></h1>\n";
  out << fmt::format("<div class=\"sub\">{} file{} with device code, {} without{}{} &middot; smscan {}</div>\n",
                     with_code, with_code == 1 ? "" : "s", report.tree.files_without_device_code,
                     report.unreadable ? fmt::format(", {} unreadable", report.unreadable) : "",
                     report.damaged ? fmt::format(", {} damaged", report.damaged) : "", kVersion);

  out << "<h2>Targets</h2>\n<table><tr><th>Target</th><th>GPUs</th><th>Verdict</th><th>Files OK / JIT / PARTIAL / FAIL</th>"
      << (report.kernels_read() ? "<th>Kernels without code</th>" : "") << "</tr>\n";
  for (const auto& s : report.summaries) {
    out << "<tr><td>" << s.target.sm_name() << " (CC " << s.target.cc_string() << ")</td><td>"
        << escape_html(gpus_of(s.target.cc)) << "</td>"
        << cell(s.verdict, verdict_name(s.verdict), "") << fmt::format("<td>{} / {} / {} / {}</td>", s.ok, s.jit, s.partial, s.fail);
    if (report.kernels_read()) out << "<td>" << s.kernels_fail << "</td>";
    out << "</tr>\n";
  }
  out << "</table>\n";
  for (const auto& s : report.summaries) {
    if (s.fail == 0) continue;
    bool per_package = false;
    for (const auto& g : report.packages) {
      const size_t t = static_cast<size_t>(&s - report.summaries.data());
      if (g.verdicts[t] != Verdict::kFail) continue;
      per_package = true;
      out << "<div class=\"fix\"><b>Fix for " << escape_html(package_title(g)) << " on " << s.target.sm_name()
          << ":</b> " << escape_html(package_fix(g, s.target.cc)) << "</div>\n";
    }
    if (!per_package)
      out << "<div class=\"fix\"><b>Fix for " << s.target.sm_name() << ":</b> " << escape_html(fix_hint(s.target.cc))
          << "</div>\n";
  }

  // The matrix: one row per file (grouped by package when known), one
  // column per target; a file's kernels fold out below its name.
  out << "<h2>Files</h2>\n<table><tr>";
  for (const auto& t : report.targets) out << "<th>" << t.sm_name() << "</th>";
  out << "<th>Device code</th><th>File</th></tr>\n";
  auto file_row = [&](size_t i) {
    const FileScan& file = report.tree.files[i];
    out << "<tr>";
    for (size_t t = 0; t < report.targets.size(); ++t) {
      const FileVerdict& v = report.verdicts[i][t];
      out << cell(v.verdict, verdict_name(v.verdict), v.reason);
    }
    // Inside a package group a wheel member is named by its path in the wheel.
    const bool grouped = !report.packages.empty() && !file.zip_member.empty();
    out << "<td class=\"archs\">" << escape_html(compact_archs(file.containers)) << "</td><td class=\"path\" title=\""
        << escape_html(file.path) << "\">" << escape_html(grouped ? file.zip_member : file.path);
    for (size_t t = 0; t < report.targets.size(); ++t) {
      const FileVerdict& v = report.verdicts[i][t];
      if (v.verdict != Verdict::kOk)
        out << "<div class=\"why\">" << report.targets[t].sm_name() << ": " << escape_html(v.reason) << "</div>";
    }
    const auto& kernels = report.kernels[i];
    if (!kernels.empty()) {
      size_t failing = 0;
      for (const auto& k : kernels)
        for (ContainerFit f : k.fits) {
          if (f == ContainerFit::kNone) {
            ++failing;
            break;
          }
        }
      out << fmt::format("<details><summary>{} kernels, {} failing on some target</summary><table class=\"k\"><tr>",
                         kernels.size(), failing);
      for (const auto& t : report.targets) out << "<th>" << t.sm_name() << "</th>";
      out << "<th>Architectures</th><th>Kernel</th></tr>\n";
      size_t shown = 0;
      for (const auto& k : kernels) {
        if (++shown > kMaxKernelRows) break;
        out << "<tr>";
        for (ContainerFit f : k.fits) {
          if (f == ContainerFit::kNotForThisGpu)
            out << "<td class=\"v na\" title=\"only architecture-specific code for other GPUs\">n/a</td>";
          else
            out << cell(verdict_of(f), fit_label(f), "");
        }
        out << "<td class=\"archs\">" << escape_html(arch_list(k)) << "</td><td class=\"name\" title=\""
            << escape_html(k.mangled) << "\">" << escape_html(demangle(k.mangled)) << "</td></tr>\n";
      }
      out << "</table>";
      if (kernels.size() > kMaxKernelRows)
        out << fmt::format("<small>{} more kernels: see smscan --kernels --json</small>", kernels.size() - kMaxKernelRows);
      out << "</details>";
    }
    out << "</td></tr>\n";
  };
  if (!report.packages.empty()) {
    for (const auto& g : report.packages) {
      out << "<tr class=\"pkg\">";
      for (size_t t = 0; t < report.targets.size(); ++t) out << cell(g.verdicts[t], verdict_name(g.verdicts[t]), "");
      out << fmt::format("<td colspan=\"2\">{} &middot; {} file{}</td></tr>\n", escape_html(package_title(g)),
                         g.files.size(), g.files.size() == 1 ? "" : "s");
      for (size_t i : g.files) file_row(i);
    }
  } else {
    for (size_t i = 0; i < report.tree.files.size(); ++i)
      if (report.tree.files[i].has_device_code()) file_row(i);
  }
  out << "</table>\n";

  bool heading = false;
  for (const auto& file : report.tree.files) {
    std::vector<std::string> lines;
    if (!file.read_error.empty()) lines.push_back(file.read_error);
    for (const auto& p : file.problems) lines.push_back(p);
    for (const auto& n : file.notes) lines.push_back("note: " + n);
    if (lines.empty()) continue;
    if (!heading) out << "<h2>Problems and notes</h2>\n<ul class=\"problems\">\n";
    heading = true;
    for (const auto& l : lines) out << "<li>" << escape_html(file.path) << ": " << escape_html(l) << "</li>\n";
  }
  if (heading) out << "</ul>\n";
  out << "</body></html>\n";
}

}  // namespace smwatch
