// PackageIndex (packages.cc): a dist-info's RECORD and METADATA from
// arbitrary bytes (the input split at its first NUL: RECORD, then METADATA),
// in a scratch site-packages. No claim may reach outside site-packages, and a
// file with two claimants has no owner.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common.h"
#include "smwatch/packages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  static const std::string site = [] {
    const std::string dir = "/tmp/smwatch-packages-fuzz-" + std::to_string(getpid()) + "/site-packages";
    fs::create_directories(dir + "/pkg-1.0.dist-info");
    fs::create_directories(dir + "/other-2.0.dist-info");
    fs::create_directories(dir + "/pkg");
    std::ofstream(dir + "/pkg/lib.so") << "x";
    std::ofstream(dir + "/other-2.0.dist-info/RECORD") << "pkg/lib.so,,\n";
    return dir;
  }();
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::ofstream(site + "/pkg-1.0.dist-info/RECORD", std::ios::trunc) << input.substr(0, nul);
  std::ofstream(site + "/pkg-1.0.dist-info/METADATA", std::ios::trunc)
      << (nul == std::string::npos ? std::string() : input.substr(nul + 1));
  smwatch::PackageIndex index;
  std::vector<std::string> problems;
  index.add_site_packages(site, problems);
  // Outside site-packages nothing is owned, whatever RECORD says.
  for (const char* outside : {"/etc/passwd", "/tmp", "/"})
    if (index.owner_of(outside) != nullptr) std::abort();
  const auto claimants = index.claimants_of(site + "/pkg/lib.so");
  if (!claimants.empty() && index.owner_of(site + "/pkg/lib.so") != nullptr) std::abort();
  return 0;
}
