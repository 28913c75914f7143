// The JSON document (docs/json-schema.md), whole or streamed file by file.
#include "smwatch/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "render_common.h"
#include "smwatch/demangle.h"
#include "smwatch/text.h"

namespace smwatch {

using namespace render;

namespace {

void json_to_utf8(nlohmann::json& j) {
  if (j.is_string()) {
    to_utf8(j.get_ref<std::string&>());
  } else if (j.is_structured()) {
    for (auto& item : j) json_to_utf8(item);  // keys are fixed names or arch names
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
      if (!v.fact.empty()) verdicts[report.targets[t].sm_name()]["fact"] = v.fact;
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
      if (g.verdicts[t] == Verdict::kFail) v["fix"] = package_fix(report, g, t);
      verdicts[report.targets[t].sm_name()] = std::move(v);
    }
    packages.push_back({{"name", g.dist.name.empty() ? json(nullptr) : json(g.dist.name)},
                        {"version", g.dist.name.empty() ? json(nullptr) : json(g.dist.version)},
                        {"files", std::move(paths)},
                        {"verdicts", std::move(verdicts)}});
  }
  doc["packages"] = std::move(packages);
  // The package facts that decided verdicts (docs/package-facts.md).
  json facts = json::array();
  for (const PackageFact& f : report.facts_used)
    facts.push_back({{"id", f.id}, {"package", f.package}, {"versions", f.versions}, {"says", f.says},
                     {"source", f.source}, {"checked", f.checked}});
  doc["package_facts"] = std::move(facts);
  if (!report.torch_cuda.empty()) doc["torch_cuda"] = report.torch_cuda;
  json per_target = json::object();
  for (const auto& s : report.summaries) {
    const size_t t = static_cast<size_t>(&s - report.summaries.data());
    json j = {{"verdict", verdict_name(s.verdict)}, {"ok", s.ok}, {"jit", s.jit}, {"partial", s.partial}, {"fail", s.fail}, {"not_for_gpu", s.not_for_gpu}};
    if (report.kernels_read()) {
      j["kernels_jit"] = s.kernels_jit;
      j["kernels_fail"] = s.kernels_fail;
    }
    if (s.fail > 0) j["fix"] = target_fix(report, t);
    per_target[s.target.sm_name()] = std::move(j);
  }
  const size_t with_code = files_with_device_code(report);
  doc["summary"] = {{"files_with_device_code", with_code},
                    {"files_without_device_code", report.tree.files_without_device_code},
                    {"files_unreadable", report.unreadable},
                    {"files_damaged", report.damaged},
                    {"targets", std::move(per_target)}};
  if (!report.image.empty()) {
    const ImageSummary& image = report.image;
    json libraries = json::array();
    for (const auto& lib : image.cuda_libraries)
      libraries.push_back({{"path", lib.path}, {"component", lib.component}, {"version", lib.version},
                           {"package", lib.package.empty() ? json(nullptr) : json(lib.package)}});
    doc["image"] = {{"name", image.name},
                    {"manifest", image.manifest},
                    {"layers", image.layers},
                    {"site_packages", image.site_dirs},
                    {"distributions", image.distributions},
                    {"torch", image.torch_version.empty()
                                  ? json(nullptr)
                                  : json{{"version", image.torch_version},
                                         {"cuda", image.torch_cuda.empty() ? json(nullptr) : json(image.torch_cuda)}}},
                    {"cuda_libraries", std::move(libraries)}};
  }
  doc["exit_code"] = report.exit_code();
  json_to_utf8(doc);
  return doc;
}

}  // namespace

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
    out << (i == 0 ? "\n    " : ",\n    ");
    write_json_at_depth(out, file_to_json(report, i), 2);  // as it sits in the array
  }
  out << "\n  ]" << std::string_view(text).substr(at + placeholder.size()) << "\n";
}

void write_json_at_depth(std::ostream& out, const nlohmann::json& value, int depth) {
  const std::string text = value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string pad(2 * static_cast<size_t>(depth), ' ');
  // JSON strings hold no raw newline: every newline of the text starts a line.
  for (size_t from = 0, nl; from < text.size(); from = nl + 1) {
    nl = std::min(text.find('\n', from), text.size());
    out << std::string_view(text).substr(from, nl - from);
    if (nl < text.size()) out << '\n' << pad;
  }
}

}  // namespace smwatch
