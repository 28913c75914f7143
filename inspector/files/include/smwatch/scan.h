// Scanning files and trees for device code: the one entry point smscan, the
// smwatch command and the tests use.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/fatbin.h"

namespace smwatch {

enum class FileFormat : uint8_t {
  kNoDeviceCode,  // not a format that holds device code, or one that holds none
  kHostElf,       // executable, shared library or object with fatbin sections
  kArchive,       // static library
  kFatbin,        // bare fatbin (nvcc -fatbin)
  kCubin,         // bare cubin (nvcc -cubin)
  kPtx,           // PTX text
};
const char* format_name(FileFormat format);

// Threads a scan may still start: workers of scan_paths that ran out of
// files hand theirs back here, and a big file takes them to read its images.
class ThreadBudget {
 public:
  explicit ThreadBudget(int spare) : spare_(spare) {}
  bool try_take() {
    int n = spare_.load();
    while (n > 0)
      if (spare_.compare_exchange_weak(n, n - 1)) return true;
    return false;
  }
  void give() { spare_.fetch_add(1); }

 private:
  std::atomic<int> spare_;
};

struct ScanOptions {
  bool kernels = false;            // decompress images and read their kernel names
  bool probe_kernels = true;       // read one image per container to spot ones without kernels
  // The probe holds at most this much of the image it decompresses: one
  // whose data decodes to more keeps the container's kernels unknown (judged
  // as defining some), with no problem; data that gives less than declared
  // is still damage. The containers without kernels nvcc writes are small
  // (the largest among torch 2.6's and its cu12 libraries': a 216 KiB
  // image); the largest images are not (cuBLASLt 12.4's: 159 MiB, one sm_90
  // image).
  uint64_t max_probe = uint64_t{16} << 20;
  bool embedded = true;            // also find containers outside the fatbin sections (not for --list)
  ThreadBudget* budget = nullptr;  // spare threads for the images of one file; none when null
};

struct FileScan {
  std::string path;
  FileFormat format = FileFormat::kNoDeviceCode;
  uint64_t size = 0;
  std::vector<FatbinContainer> containers;  // bare cubins and PTX get one of their own
  std::vector<std::string> members;         // archive members in order (cuobjdump lists each)
  std::vector<std::string> problems;        // damage; what could be read is still reported
  std::string read_error;                   // set when the file could not be read at all
  std::vector<std::string> notes;           // what was left out on purpose (nested archives)
  // Set for a member of a wheel or zip: `path` is then "<zip>!<member>", a
  // label only (member names come from the zip and are never used as paths).
  std::string zip_path, zip_member;
  // The zip's top-level "{name}-{version}.dist-info" directory, if any: names
  // the distribution of a wheel whose file name does not (pip's cache).
  std::string zip_dist_info;

  bool has_device_code() const { return image_count() > 0; }
  size_t image_count() const {
    size_t n = 0;
    for (const auto& c : containers) n += c.images.size();
    return n;
  }
};

// One file, already in memory (`path` only names it in messages).
FileScan scan_bytes(ByteView bytes, std::string path, const ScanOptions& options);
// One file on disk. Files that cannot hold device code are recognised from
// their first bytes without being mapped.
FileScan scan_file(const std::string& path, const ScanOptions& options);

struct ScanProgress {
  size_t files_done = 0, files_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;
};

struct TreeScan {
  // Files with device code, damage, notes or read errors (and archives),
  // sorted by path (members of a wheel or zip as "<zip>!<member>").
  std::vector<FileScan> files;
  size_t files_without_device_code = 0;  // zip members included
};

// Walks files and directories (recursively, following symlinks once each:
// every file and directory is visited at most once, so links cannot loop)
// and scans the files on `threads` threads (0 = all cores).
TreeScan scan_paths(const std::vector<std::string>& paths, const ScanOptions& options, unsigned threads = 0,
                    const std::function<void(const ScanProgress&)>& progress = {});

}  // namespace smwatch
