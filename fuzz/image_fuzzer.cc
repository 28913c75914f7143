// scan_image() (container images: layers through libarchive, applied to an
// in-memory tree) over arbitrary bytes, in a fixed OCI layout written once
// per process. An input that starts with '{' is the image's manifest (its
// layers: the blob "fuzz:layer", an empty tar); any other is the blob of
// both layers of the fixed manifest: the second layer applies the same
// entries over the first (replacements, whiteouts of what the first made,
// hard links and symlinks into it). The layout names its blobs by an
// algorithm smscan does not check, so inputs need no digest.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common.h"
#include "smwatch/container_image.h"

namespace {

bool write_file(const std::string& path, const void* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(data, 1, size, f) == size || size == 0;
  return std::fclose(f) == 0 && ok;
}

const std::string& layout() {
  static const std::string dir = [] {
    const std::string d = "/tmp/smwatch-image-fuzz-" + std::to_string(getpid());
    ::mkdir(d.c_str(), 0755);
    ::mkdir((d + "/blobs").c_str(), 0755);
    ::mkdir((d + "/blobs/fuzz").c_str(), 0755);
    const std::string oci_layout = R"({"imageLayoutVersion":"1.0.0"})";
    const std::string index = R"({"schemaVersion":2,"manifests":[{"digest":"fuzz:manifest"}]})";
    const std::string manifest = R"({"schemaVersion":2,"layers":[{"digest":"fuzz:layer"},{"digest":"fuzz:layer"}]})";
    write_file(d + "/oci-layout", oci_layout.data(), oci_layout.size());
    write_file(d + "/index.json", index.data(), index.size());
    write_file(d + "/blobs/fuzz/manifest", manifest.data(), manifest.size());
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = layout();
  static const std::string fixed_manifest = R"({"schemaVersion":2,"layers":[{"digest":"fuzz:layer"},{"digest":"fuzz:layer"}]})";
  static const std::vector<uint8_t> empty_tar(1024, 0);
  const bool manifest = size > 0 && data[0] == '{';
  if (manifest) {
    if (!write_file(dir + "/blobs/fuzz/manifest", data, size) ||
        !write_file(dir + "/blobs/fuzz/layer", empty_tar.data(), empty_tar.size()))
      return 0;
  } else if (!write_file(dir + "/blobs/fuzz/manifest", fixed_manifest.data(), fixed_manifest.size()) ||
             !write_file(dir + "/blobs/fuzz/layer", data, size)) {
    return 0;
  }
  smwatch::ScanOptions options;
  options.kernels = size % 2 == 0;  // both paths, chosen by the input
  smwatch::ImageLimits limits;
  limits.stream_above = 4096;       // big members take the streamed path too
  auto scan = smwatch::scan_image(dir, options, 1, limits);
  for (const auto& file : scan.tree.files)
    if (file.path.empty() || file.path[0] != '/') std::abort();  // every file is named by its path in the image
  return 0;
}
