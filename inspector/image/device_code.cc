#include "smwatch/device_code.h"

#include <fmt/format.h>

#include "smwatch/cubin.h"
#include "smwatch/decompress.h"
#include "smwatch/ptx.h"

namespace smwatch {

void read_image_kernels(FatbinImage& image, ByteView stored, std::vector<std::string>& problems,
                        uint64_t give_up_above) {
  if (image.kind == CodeKind::kLtoIr) return;
  auto bytes = decompress_image_within(image, stored, give_up_above);
  if (!bytes) {
    problems.push_back(bytes.error().message);
    return;
  }
  if (!*bytes) return;  // more than the caller holds: unread, no damage
  ByteView view((*bytes)->data(), (*bytes)->size());
  if (image.kind == CodeKind::kSass) {
    auto cubin = read_cubin(view);
    if (!cubin) {
      problems.push_back(fmt::format("{} image at offset {:#x}: {}", image.arch.sm_name(), image.offset,
                                     cubin.error().message));
      return;
    }
    image.kernels = std::move(cubin->kernels);
  } else {
    // PTX text may carry a trailing NUL.
    std::string_view text = view.as_chars();
    text = text.substr(0, text.find('\0'));
    auto ptx = read_ptx(text);
    if (!ptx) {
      problems.push_back(fmt::format("{} PTX at offset {:#x}: {}", image.arch.sm_name(), image.offset,
                                     ptx.error().message));
      return;
    }
    image.kernels = std::move(ptx->kernels);
  }
  image.kernels_read = true;
}

Result<FatbinContainer> single_image_container(ByteView bytes, CodeKind kind, bool with_kernels) {
  FatbinImage image;
  image.kind = kind;
  image.payload_size = image.stored_size = image.uncompressed_size = bytes.size();
  if (kind == CodeKind::kSass) {
    auto cubin = read_cubin(bytes);
    if (!cubin) return cubin.error();
    image.arch = cubin->arch;
    if (with_kernels) image.kernels = std::move(cubin->kernels);
  } else {
    auto ptx = read_ptx(bytes.as_chars());
    if (!ptx) return ptx.error();
    image.arch = ptx->target;
    image.version_major = ptx->isa_major;
    image.version_minor = ptx->isa_minor;
    if (with_kernels) image.kernels = std::move(ptx->kernels);
  }
  image.kernels_read = with_kernels;
  FatbinContainer container;
  container.size = bytes.size();
  container.images.push_back(std::move(image));
  return container;
}

}  // namespace smwatch
