// Python distributions: which installed package (or wheel) a scanned file
// belongs to, so that a report can say "torch 2.5.1: FAIL on sm_120" and
// name the package to replace rather than a path deep in site-packages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "smwatch/result.h"

namespace smwatch {

struct Distribution {
  std::string name, version;
  bool operator==(const Distribution&) const = default;
};

// Where torch says which CUDA it was built with: the installed
// torch/version.py (`cuda: Optional[str] = '12.8'`, older `cuda = '12.4'`,
// `cuda = None` in a CPU build; written by torch's tools/generate_torch_version.py).
// The one place that knows the file and its form: smscan --python and
// container images read it through these.
inline constexpr std::string_view kTorchVersionDir = "torch", kTorchVersionFile = "version.py";
// The CUDA version in such a file ("12.8"), or "" when it names none.
std::string torch_cuda_of_version_py(std::string_view text);

// Installed distributions, from each `*.dist-info/RECORD` (the list of files
// pip installed) and the name and version in its METADATA. Only RECORD paths
// inside site-packages count (not absolute ones, nor "../"), and a file two
// RECORDs list belongs to neither.
class PackageIndex {
 public:
  // Reads the *.dist-info directories directly under `site_dir`; damage is
  // reported in `problems` and the rest is kept.
  void add_site_packages(const std::string& site_dir, std::vector<std::string>& problems);
  // A distribution whose files are not on this machine's disk (a container
  // image's): `paths` are the exact spellings owner_of will be asked, and
  // nothing is resolved through this machine's filesystem.
  void add_distribution(Distribution dist, const std::vector<std::string>& paths);
  // The distribution that installed `path` (any spelling: resolved first);
  // none when two distributions' RECORDs list it (claimants_of names them).
  const Distribution* owner_of(const std::string& path) const;
  // The distributions whose RECORDs all list `path`, when more than one do.
  std::vector<Distribution> claimants_of(const std::string& path) const;
  size_t size() const { return dists_.size(); }
  // The CUDA version the installed torch was built with ("12.8", from
  // torch/version.py), or "" when torch is not installed or is a CPU build.
  // bitsandbytes picks its library by it.
  std::string torch_cuda_version() const;

 private:
  std::vector<Distribution> dists_;
  std::vector<std::string> dist_sites_;             // [dist]: its site-packages directory
  std::unordered_map<std::string, size_t> owners_;  // resolved path -> index in dists_ (the first claim)
  std::unordered_map<std::string, std::vector<size_t>> contested_;  // -> the later claims
  std::vector<std::string> indexed_;                // site directories already read
  std::unordered_map<std::string, size_t> given_;   // add_distribution's paths -> index in dists_
};

// The name and version a METADATA file says ("Name: torch", "Version:
// 2.5.1"), else those of its "<name>-<version>.dist-info" directory.
Distribution parse_metadata(std::string_view metadata, std::string_view dist_info_name);
// The path field of each line of a RECORD file (CSV: path,hash,size).
std::vector<std::string> record_paths(std::string_view record);

// The distribution a wheel file name spells (PEP 427:
// "{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl"); else, for a
// wheel under another name, the one its "{name}-{version}.dist-info"
// directory spells (FileScan::zip_dist_info); else nothing.
std::optional<Distribution> distribution_of_wheel(std::string_view wheel_path, std::string_view dist_info = {});

// Directories among `paths` and their parents that hold *.dist-info
// directories: the site-packages roots a scan of these paths sits in.
std::vector<std::string> find_site_dirs(const std::vector<std::string>& paths);

// The site-packages directories of a Python interpreter, asked of it
// (`python -c 'import site...'`, run without a shell).
Result<std::vector<std::string>> python_site_packages(const std::string& python);

}  // namespace smwatch
