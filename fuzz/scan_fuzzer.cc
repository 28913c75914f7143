// scan_bytes(): the whole dispatcher (fatbin, cubin, host ELF, archive, PTX)
// with kernel names read, i.e. every image decompressed and parsed; and,
// differentially, scan_file() on the same bytes as a file (headers and
// payloads read with pread, not from memory): both must agree.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "common.h"
#include "smwatch/archive.h"
#include "smwatch/cubin.h"
#include "smwatch/scan.h"

namespace {

// Containers, images and kernel names, in order.
std::string summary(const smwatch::FileScan& scan) {
  std::string out;
  for (const auto& c : scan.containers) {
    out += "c" + std::to_string(c.offset) + "+" + std::to_string(c.size) + ":";
    for (const auto& img : c.images) {
      out += " " + img.arch.sm_name() + "@" + std::to_string(img.offset) + (img.kernels_read ? "r" : "") + "[";
      for (const auto& k : img.kernels) out += k + ",";
      out += "]";
    }
    out += "\n";
  }
  for (const auto& p : scan.problems) out += p + "\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const ByteView bytes(data, size);
  ScanOptions options;
  options.kernels = true;
  FileScan scan = scan_bytes(bytes, "fuzz.so", options);
  for (const auto& c : scan.containers)
    for (const auto& img : c.images)
      if (img.kernels_read != true && img.kernels.size()) std::abort();
  // The listing mode (no kernels: only the smallest image of each container is probed).
  FileScan quick = scan_bytes(bytes, "fuzz.so", {});
  if (quick.image_count() != scan.image_count()) std::abort();

  // The same bytes as a file. scan_file skips files that do not start like an
  // ELF, an archive or a fatbin (PTX is recognised by its name there).
  if (looks_like_elf(bytes) || looks_like_archive(bytes) || looks_like_fatbin(bytes)) {
    static const int fd = memfd_create("scan-fuzz", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == static_cast<ssize_t>(size)) {
      FileScan from_file = scan_file("/proc/self/fd/" + std::to_string(fd), options);
      if (!from_file.read_error.empty() || summary(from_file) != summary(scan)) std::abort();
    }
  }
  return 0;
}
