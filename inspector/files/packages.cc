#include "smwatch/packages.h"

#include "smwatch/process.h"
#include "smwatch/regular_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>


namespace smwatch {
namespace {

namespace fs = std::filesystem;

// RECORD and METADATA are read only when they are regular files, opened
// without blocking and read up to their size when opened (a FIFO hung the
// scan; a link to /dev/zero grew without end). The name and version lead
// METADATA; torch's RECORD is about 2 MB.
constexpr uint64_t kMetadataRead = uint64_t{1} << 20;
constexpr uint64_t kMaxRecord = uint64_t{64} << 20;

std::string resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(p, ec);
  return (ec ? fs::absolute(p, ec).lexically_normal() : r).string();
}

// "Name: torch" / "Version: 2.5.1" from the header block of METADATA.
Distribution read_metadata(const fs::path& dist_info) {
  auto metadata = read_regular_file((dist_info / "METADATA").string(), kMetadataRead);
  return parse_metadata(metadata ? *metadata : std::string(), dist_info.filename().string());
}

// The path field of one RECORD line (CSV: path,hash,size; quoted when the
// path holds a comma or a quote).
std::string record_path(const std::string& line) {
  if (line.empty() || line.front() != '"') return line.substr(0, line.find(','));
  std::string out;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '"') {
      if (i + 1 < line.size() && line[i + 1] == '"') {
        out += '"';
        ++i;
      } else {
        break;
      }
    } else {
      out += line[i];
    }
  }
  return out;
}

bool has_dist_info(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().ends_with(".dist-info")) return true;
  return false;
}

}  // namespace

Distribution parse_metadata(std::string_view metadata, std::string_view dist_info_name) {
  Distribution d;
  std::istringstream in{std::string(metadata)};
  std::string line;
  while (std::getline(in, line) && !line.empty() && line != "\r") {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (d.name.empty() && line.starts_with("Name:")) d.name = line.substr(5);
    else if (d.version.empty() && line.starts_with("Version:")) d.version = line.substr(8);
    if (!d.name.empty() && d.name.front() == ' ') d.name.erase(0, d.name.find_first_not_of(' '));
    if (!d.version.empty() && d.version.front() == ' ') d.version.erase(0, d.version.find_first_not_of(' '));
  }
  if (d.name.empty() || d.version.empty()) {  // fall back on "<name>-<version>.dist-info"
    std::string stem(dist_info_name);
    if (stem.ends_with(".dist-info")) stem.resize(stem.size() - std::string_view(".dist-info").size());
    size_t dash = stem.rfind('-');
    if (d.name.empty()) d.name = stem.substr(0, dash);
    if (d.version.empty() && dash != std::string::npos) d.version = stem.substr(dash + 1);
  }
  return d;
}

std::vector<std::string> record_paths(std::string_view record) {
  std::vector<std::string> paths;
  std::istringstream in{std::string(record)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::string rel = record_path(line); !rel.empty()) paths.push_back(std::move(rel));
  }
  return paths;
}

void PackageIndex::add_distribution(Distribution dist, const std::vector<std::string>& paths) {
  const size_t index = dists_.size();
  dists_.push_back(std::move(dist));
  dist_sites_.push_back("");  // not on this machine (a container image's): nothing here to read
  for (const auto& p : paths) given_.emplace(p, index);
}

void PackageIndex::add_site_packages(const std::string& site_dir, std::vector<std::string>& problems) {
  const std::string site = resolved(site_dir);
  for (const auto& done : indexed_)
    if (done == site) return;
  indexed_.push_back(site);
  std::error_code ec;
  std::vector<fs::path> dist_infos;
  for (fs::directory_iterator it(site, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().ends_with(".dist-info")) dist_infos.push_back(it->path());
  if (ec) problems.push_back(site_dir + ": cannot list: " + ec.message());
  std::sort(dist_infos.begin(), dist_infos.end());
  const std::string site_prefix = site.ends_with('/') ? site : site + "/";
  for (const auto& dist_info : dist_infos) {
    const std::string record_file = (dist_info / "RECORD").string();
    struct stat st {};
    if (::stat(record_file.c_str(), &st) != 0) {
      problems.push_back(dist_info.string() + ": no RECORD file; its files are not attributed to a package");
      continue;
    }
    auto record_text = read_regular_file(record_file, kMaxRecord + 1);
    if (record_text && record_text->size() > kMaxRecord)
      record_text = make_error(fmt::format("over the {} MiB a RECORD may have", kMaxRecord >> 20));
    if (!record_text) {
      problems.push_back(record_file + ": " + record_text.error().message +
                         "; its files are not attributed to a package");
      continue;
    }
    const size_t index = dists_.size();
    dists_.push_back(read_metadata(dist_info));
    dist_sites_.push_back(site);
    std::istringstream record(std::move(*record_text));
    std::string line;
    while (std::getline(record, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::string rel = record_path(line);
      if (rel.empty()) continue;
      // RECORD paths are relative to site-packages. Those that leave it
      // (scripts: "../../bin/x"; absolute paths) are not taken: spelled so,
      // a package could claim any file, another package's library included.
      const fs::path rel_path(rel);
      if (rel_path.is_absolute()) continue;
      const fs::path normal = rel_path.lexically_normal();
      if (normal.empty() || *normal.begin() == "..") continue;
      std::string file = resolved(fs::path(site) / rel);
      if (!file.starts_with(site_prefix)) continue;  // through a link out of site-packages
      auto [it, added] = owners_.emplace(std::move(file), index);
      if (!added && it->second != index) contested_[it->first].push_back(index);
    }
  }
}

const Distribution* PackageIndex::owner_of(const std::string& path) const {
  if (auto it = given_.find(path); it != given_.end()) return &dists_[it->second];
  if (owners_.empty()) return nullptr;
  const std::string file = resolved(path);
  if (contested_.count(file) != 0) return nullptr;
  auto it = owners_.find(file);
  return it == owners_.end() ? nullptr : &dists_[it->second];
}

std::vector<Distribution> PackageIndex::claimants_of(const std::string& path) const {
  std::vector<Distribution> out;
  if (contested_.empty()) return out;
  const std::string file = resolved(path);
  auto contested = contested_.find(file);
  if (contested == contested_.end()) return out;
  out.push_back(dists_[owners_.at(file)]);
  for (size_t index : contested->second)
    if (std::find(out.begin(), out.end(), dists_[index]) == out.end()) out.push_back(dists_[index]);
  return out;
}

std::string torch_cuda_of_version_py(std::string_view text) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (!line.starts_with("cuda")) continue;
    const size_t eq = line.find('=');
    const size_t open = line.find_first_of("'\"", eq == std::string_view::npos ? 0 : eq);
    if (eq == std::string_view::npos || open == std::string_view::npos) return "";  // "cuda = None": a CPU build
    const size_t close = line.find(line[open], open + 1);
    if (close == std::string_view::npos) return "";
    const std::string_view v = line.substr(open + 1, close - open - 1);
    if (v.empty() || v.find_first_not_of("0123456789.") != std::string_view::npos) return "";
    return std::string(v);
  }
  return "";
}

std::string PackageIndex::torch_cuda_version() const {
  for (size_t i = 0; i < dists_.size(); ++i) {
    if (dists_[i].name != "torch" || dist_sites_[i].empty()) continue;
    // Read as the RECORDs are: a regular file, bounded (a FIFO never blocks).
    auto text = read_regular_file(
        (fs::path(dist_sites_[i]) / kTorchVersionDir / kTorchVersionFile).string(), 64 << 10);
    return text ? torch_cuda_of_version_py(*text) : "";
  }
  return "";
}

namespace {

// "{name}-{version}..." split at its dashes into `parts_wanted` fields (PEP
// 427 escapes '-' inside each as '_'); the name as PyPI shows it, dashed.
std::optional<Distribution> dashed_fields(std::string_view name, std::initializer_list<size_t> parts_wanted) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t dash = name.find('-');
    parts.push_back(name.substr(0, dash));
    if (dash == std::string_view::npos) break;
    name.remove_prefix(dash + 1);
  }
  if (std::find(parts_wanted.begin(), parts_wanted.end(), parts.size()) == parts_wanted.end()) return std::nullopt;
  if (parts[0].empty() || parts[1].empty()) return std::nullopt;
  Distribution d{std::string(parts[0]), std::string(parts[1])};
  for (char& c : d.name)
    if (c == '_') c = '-';
  return d;
}

}  // namespace

std::optional<Distribution> distribution_of_wheel(std::string_view wheel_path, std::string_view dist_info) {
  std::string_view name = wheel_path.substr(wheel_path.find_last_of('/') + 1);
  if (name.ends_with(".whl")) {
    name.remove_suffix(4);
    if (auto d = dashed_fields(name, {5, 6})) return d;
  }
  if (dist_info.ends_with(".dist-info")) {
    dist_info.remove_suffix(std::string_view(".dist-info").size());
    return dashed_fields(dist_info, {2});
  }
  return std::nullopt;
}

std::vector<std::string> find_site_dirs(const std::vector<std::string>& paths) {
  std::vector<std::string> dirs;
  auto add = [&](const std::string& d) {
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  };
  for (const auto& p : paths) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(p, ec);
    if (ec) continue;
    if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
    // A scan of site-packages/torch/lib still belongs to site-packages: look
    // a few levels up, not to the root.
    for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
      if (has_dist_info(dir)) {
        add(dir.string());
        break;
      }
      if (dir == dir.root_path()) break;
    }
  }
  return dirs;
}

Result<std::vector<std::string>> python_site_packages(const std::string& python) {
  const char* script =
      "import site, sys\n"
      "dirs = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])\n"
      "print('\\n'.join(d for d in dirs if d))\n";
  auto printed = capture_output({python, "-c", script}, size_t{1} << 20);
  if (!printed) return make_error("--python " + python + ": " + printed.error().message);
  const std::string& out = *printed;
  std::vector<std::string> dirs;
  std::istringstream lines(out);
  std::error_code ec;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && fs::is_directory(line, ec)) dirs.push_back(line);
  if (dirs.empty()) return make_error("--python " + python + ": no site-packages directory exists");
  return dirs;
}

}  // namespace smwatch
