#include "smwatch/package_fix.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "package_facts_embed.h"
#include "smwatch/arch.h"
#include "smwatch/package_facts.h"
#include "smwatch/row_reader.h"
#include "smwatch/strings.h"

namespace smwatch {

namespace {

using nlohmann::json;

// Reads doc[table] (required) row by row with `read`.
template <class T, class Read>
Result<std::vector<T>> read_table(const json& doc, const char* table, Read read) {
  auto it = doc.find(table);
  if (it == doc.end() || !it->is_array() || it->empty())
    return make_error(std::string("package facts: needs a non-empty \"") + table + "\" list");
  std::vector<T> rows;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& j = (*it)[i];
    RowReader r(j, fmt::format("package facts: {}[{}]", table, i));
    if (!j.is_object()) return make_error(r.what() + ": not an object");
    T row;
    if (!read(r, row) || !r.text("source", row.source, true)) return make_error(r.error);
    rows.push_back(std::move(row));
  }
  return rows;
}

// "cu128" -> 12080: the CUDA a line is built with; 0 when it is not such a name.
int line_cuda(std::string_view line) {
  if (!line.starts_with("cu") || line.size() < 4) return 0;
  const std::string digits(line.substr(2));
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return 0;
  return cuda_version_number(digits.substr(0, digits.size() - 1) + "." + digits.back());
}

// The distinct lines, in the order the table names them first ("cu126", "cu128", "cu130").
std::vector<std::string> lines_of(const PackageFixes& fixes) {
  std::vector<std::string> lines;
  for (const auto& b : fixes.torch_builds)
    if (std::find(lines.begin(), lines.end(), b.line) == lines.end()) lines.push_back(b.line);
  return lines;
}

// Every build of the line includes the GPU (the line's rows differ per torch release).
bool line_includes(const PackageFixes& fixes, const std::string& line, uint16_t cc) {
  return std::all_of(fixes.torch_builds.begin(), fixes.torch_builds.end(),
                     [&](const TorchBuild& b) { return b.line != line || torch_build_includes(b, cc); });
}

}  // namespace

Result<PackageFixes> parse_package_fixes(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("package facts: not a JSON object");
  PackageFixes fixes;
  auto builds = read_table<TorchBuild>(doc, "torch_builds", [](RowReader& r, TorchBuild& b) {
    return r.only({"line", "torch", "cc_min", "cc_max", "source"}) && r.text("line", b.line, true) &&
           (line_cuda(b.line) || r.fail("\"line\": '" + b.line + "' is not a CUDA line such as \"cu128\"")) &&
           r.text("torch", b.torch, true) && r.number("cc_min", b.cc_min) && r.number("cc_max", b.cc_max) &&
           (b.cc_min <= b.cc_max || r.fail("cc_min is above cc_max"));
  });
  if (!builds) return builds.error();
  auto indexes = read_table<WheelIndex>(doc, "wheel_indexes", [](RowReader& r, WheelIndex& w) {
    auto name = [](const std::string& n) { return !n.empty() && n == ascii_lower(n); };
    return r.only({"packages", "index", "says", "source"}) &&
           r.list("packages", w.packages, name, "distribution names in lower case") &&
           (!w.packages.empty() || r.fail("needs a non-empty \"packages\" list")) && r.text("index", w.index, true) &&
           r.text("says", w.says, true);
  });
  if (!indexes) return indexes.error();
  auto majors = read_table<CudaMajorWheels>(doc, "cuda_major_wheels", [](RowReader& r, CudaMajorWheels& m) {
    return r.only({"prefix", "says", "source"}) && r.text("prefix", m.prefix, true) && r.text("says", m.says, true);
  });
  if (!majors) return majors.error();
  fixes.torch_builds = std::move(*builds);
  fixes.wheel_indexes = std::move(*indexes);
  fixes.cuda_major_wheels = std::move(*majors);
  return fixes;
}

const PackageFixes& builtin_package_fixes() {
  // Checked by the tests (package_facts_test): the embedded tables parse.
  static const PackageFixes fixes = [] {
    auto parsed = parse_package_fixes(kBuiltinPackageFacts);
    return parsed ? std::move(*parsed) : PackageFixes{};
  }();
  return fixes;
}

std::string wheel_index(std::string_view package, const PackageFixes& fixes) {
  const std::string pkg = ascii_lower(package);
  for (const auto& w : fixes.wheel_indexes)
    if (std::find(w.packages.begin(), w.packages.end(), pkg) != w.packages.end()) return w.index;
  return {};
}

bool torch_build_includes(const TorchBuild& build, uint16_t cc) {
  const int cuda = line_cuda(build.line);
  for (const auto& gen : gpu_table()) {
    if (gen.cc < build.cc_min || gen.cc > build.cc_max) continue;
    if (cuda_version_number(gen.first_cuda) > cuda) continue;  // the line's CUDA cannot build for it
    if (*gen.last_cuda && cuda / 1000 > cuda_version_number(gen.last_cuda) / 1000) continue;
    if (usability(CodeKind::kSass, Arch{.number = gen.cc}, cc) == Usability::kSass) return true;
  }
  return false;
}

std::string oldest_torch_line(uint16_t cc, const PackageFixes& fixes) {
  const std::vector<std::string> lines = lines_of(fixes);
  // The first line from which on every line includes it.
  size_t from = lines.size();
  while (from > 0 && line_includes(fixes, lines[from - 1], cc)) --from;
  return from == 0 || from == lines.size() ? std::string() : lines[from];
}

std::string fix_hint(uint16_t target_cc, const PackageFixes& fixes) {
  const std::string sm = "sm_" + std::to_string(target_cc);
  const GpuGeneration* gen = find_generation(target_cc);
  const std::vector<std::string> lines = lines_of(fixes);
  const std::string line = oldest_torch_line(target_cc, fixes);
  const std::string torch_index = wheel_index("torch", fixes);
  std::string also;
  if (gen && !line.empty() && !torch_index.empty())
    also = "; for PyTorch: a " + line + " (or newer) wheel, e.g. pip install torch --index-url " + torch_index + line;
  else if (gen && !lines.empty() &&
           std::all_of(lines.begin(), lines.end(), [&](const std::string& l) { return line_includes(fixes, l, target_cc); }))
    also = "; PyTorch's current CUDA wheels (" + join(lines, ", ") + ") all run on " + sm;  // the package at fault is not torch's wheel
  return toolkit_fix_hint(target_cc, also);
}

std::string fix_hint(uint16_t target_cc, std::string_view package, std::string_view version, const PackageFixes& fixes) {
  const std::string sm = "sm_" + std::to_string(target_cc);
  const GpuGeneration* gen = find_generation(target_cc);
  const std::string pkg = ascii_lower(package);
  // The release line the package says it is from: "+cu124" in its version.
  std::string have;
  if (size_t at = version.find("+cu"); at != std::string_view::npos) have = std::string(version.substr(at + 1));
  const std::string line = oldest_torch_line(target_cc, fixes), index = wheel_index(pkg, fixes);
  if (gen && !line.empty() && !index.empty())
    return (have.empty() ? "" : "this is a " + have + " build, which has no " + sm + " code: ") +
           "pip install --force-reinstall " + pkg + " --index-url " + index + line + " (a " + line +
           " or newer build includes " + sm + ")";
  if (gen == nullptr) return fix_hint(target_cc, fixes);
  for (const auto& m : fixes.cuda_major_wheels)
    if (pkg.starts_with(m.prefix) && !*gen->last_cuda)
      return "pip install -U " + std::string(package) + " (its releases from CUDA " + gen->first_cuda + " on include " + sm +
             (version.empty() ? "" : "; this is " + std::string(version)) + ")";
  if (*gen->last_cuda)  // "or newer" would point at CUDA 13, which cannot build for it
    return "install a " + std::string(package) + " release built with CUDA " + gen->first_cuda + " to " +
           gen->last_cuda + ".x that includes " + sm + " (CUDA 13 and newer cannot build for it), or build it from "
           "source with such a toolkit and " + sm + " in TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES";
  return "install a " + std::string(package) + " release built with CUDA " + gen->first_cuda +
         " or newer that includes " + sm + " (look for a cu" + cuda_digits(gen->first_cuda) +
         "+ build of it), or build it from source with " + sm + " in TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES";
}

}  // namespace smwatch
