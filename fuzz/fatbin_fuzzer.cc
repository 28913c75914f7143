// The fatbin container and entry parser (parse_fatbin_region), over a bare
// fatbin or the contents of a .nv_fatbin section; and, differentially, the
// same walk read from a file through FileRegion (how smscan reads files on
// disk): both must find exactly the same containers, images and problems.
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common.h"
#include "smwatch/fatbin.h"
#include "smwatch/file_region.h"

namespace {

bool same_image(const smwatch::FatbinImage& a, const smwatch::FatbinImage& b) {
  return a.kind == b.kind && a.arch.number == b.arch.number && a.arch.variant == b.arch.variant &&
         a.compression == b.compression && a.offset == b.offset && a.header_size == b.header_size &&
         a.payload_size == b.payload_size && a.stored_size == b.stored_size &&
         a.uncompressed_size == b.uncompressed_size && a.version_major == b.version_major &&
         a.version_minor == b.version_minor && a.flags == b.flags;
}

void check_file_walk_agrees(const uint8_t* data, size_t size, const std::vector<smwatch::FatbinContainer>& expected,
                            const std::vector<std::string>& expected_problems) {
  static const int fd = memfd_create("fatbin-fuzz", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return;
  std::vector<std::string> problems;
  auto containers = smwatch::parse_fatbin_region(smwatch::FileRegion(fd, 0, size), 0, problems);
  if (containers.size() != expected.size() || problems != expected_problems) std::abort();
  for (size_t c = 0; c < containers.size(); ++c) {
    const auto& a = containers[c];
    const auto& b = expected[c];
    if (a.offset != b.offset || a.size != b.size || a.images.size() != b.images.size()) std::abort();
    for (size_t i = 0; i < a.images.size(); ++i)
      if (!same_image(a.images[i], b.images[i])) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const ByteView region(data, size);
  std::vector<std::string> problems;
  auto containers = parse_fatbin_region(region, 0, problems);
  for (const auto& c : containers) {
    if (c.offset > size || c.size > size - c.offset) std::abort();  // container outside its region
    for (const auto& img : c.images) {
      if (img.header_size < kEntryHeaderMinSize) std::abort();
      // The entry (header + declared payload) lies inside its container.
      if (img.offset < c.offset || img.payload_offset() > c.offset + c.size ||
          img.payload_size > c.offset + c.size - img.payload_offset())
        std::abort();
      (void)img.arch.sm_name();
      (void)img.ptx_isa();
      if (auto p = image_payload(region, img); p) fuzz::check_inside(region, *p);
    }
  }
  (void)looks_like_fatbin(region);
  check_file_walk_agrees(data, size, containers, problems);
  return 0;
}
