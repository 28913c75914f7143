// Container images (smscan IMAGE): a docker-archive tar (docker save, skopeo
// copy docker-archive:), an oci-archive tar, or an OCI image layout directory
// (DIR, or DIR:TAG when it holds several images). The layers are streamed
// through libarchive (gzip, zstd or uncompressed), never extracted: each
// member is read from the stream and dropped, and the file tree the runtime
// would see (whiteouts, opaque directories, replaced files, hard links and
// symlinks, resolved inside the image) is kept as names only. A wheel or zip
// kept as a file in a layer is read as a stream by zip.cc's reader
// (scan_zip_stream), its members listed as a tree scan lists them.
// docs/container-images.md states what is read, the limits, and the errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/packages.h"
#include "smwatch/scan.h"

namespace smwatch {

struct ImageLimits {
  // Members up to this size are read whole and scanned like files; larger
  // host ELF files (shared libraries) are streamed one fatbin container at a
  // time, other larger members (cubins, fatbins) are skipped with a problem.
  uint64_t max_buffered = uint64_t{64} << 20;
  uint64_t stream_above = uint64_t{16} << 20;   // host ELF larger than this is streamed
  uint64_t max_container = uint64_t{512} << 20; // one container copied out of a stream
  size_t max_section_names = 4096;              // places a fatbin section's name passes, kept while streaming
  uint64_t max_text = uint64_t{16} << 20;       // manifests, RECORD, METADATA, torch/version.py
  size_t chunk = size_t{1} << 20;               // bytes read per call
};

// A CUDA runtime or toolkit library the image carries.
struct CudaLibrary {
  std::string path;       // inside the image, symlinks resolved
  std::string component;  // "CUDA runtime", "cuBLAS", ...
  std::string version;    // from the file name (libcudart.so.12.4.127 -> 12.4.127)
  std::string package;    // the distribution that installed it ("nvidia-cuda-runtime-cu12 12.4.127"), if any
};

// What an image is, besides its verdicts.
struct ImageSummary {
  std::string name;                     // as named on the command line
  std::string manifest;                 // the manifest read ("sha256:..." or the docker-archive's tag)
  size_t layers = 0;
  std::vector<std::string> site_dirs;   // each Python's site-/dist-packages with distributions
  size_t distributions = 0;
  std::vector<CudaLibrary> cuda_libraries;
  std::string torch_version;            // "2.6.0+cu124"
  std::string torch_cuda;               // its CUDA line: "12.4" (torch/version.py), else from "+cu124"
  bool empty() const { return name.empty(); }
};

struct ImageScan {
  ImageSummary summary;
  TreeScan tree;                        // the image's files, by their paths inside it ("/usr/lib/...")
  PackageIndex packages;                // the distributions of the image's RECORD files
  std::vector<std::string> problems;    // damage to the image (a bad layer, a link loop): the rest is read
  std::string read_error;               // set when no layer could be read at all
  uint64_t peak_buffer = 0;             // the most bytes held in member buffers at once, per layer
};

// Whether `spec` names an image: a directory (or DIR:TAG) holding an
// oci-layout file, or a tar holding manifest.json or index.json.
bool looks_like_image(const std::string& spec);

// Reads the image's layers, in order, on up to `threads` threads (one layer
// each; 0 = all cores), and scans the files of the final tree.
ImageScan scan_image(const std::string& spec, const ScanOptions& options, unsigned threads = 0,
                     const ImageLimits& limits = {});

}  // namespace smwatch
