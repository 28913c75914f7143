// scan_bytes(): the whole dispatcher (fatbin, cubin, host ELF, archive, PTX)
// with kernel names read, i.e. every image decompressed and parsed.
#include "common.h"
#include "smwatch/scan.h"

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
  return 0;
}
