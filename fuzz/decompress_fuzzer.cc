// decompress_image() on both paths (zstd and the LZ4-block "speed" mode). The
// first 10 bytes of the input make the FatbinImage (compression, kind, the
// declared uncompressed size); the rest is the stored payload.
#include <vector>

#include "common.h"
#include "smwatch/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const uint8_t mode = fuzz::take<uint8_t>(data, size);
  const uint8_t kind = fuzz::take<uint8_t>(data, size);
  const uint64_t declared = fuzz::take<uint64_t>(data, size);
  FatbinImage image;
  image.compression = mode % 3 == 0 ? Compression::kZstd : mode % 3 == 1 ? Compression::kLz : Compression::kNone;
  image.kind = kind & 1 ? CodeKind::kPtx : CodeKind::kSass;
  image.arch.number = 80;
  image.payload_size = size;
  // Usually the whole payload is the compressed stream; sometimes a declared
  // compressed size that is off by a little or a lot.
  image.stored_size = (kind & 2) ? (declared >> 32) : size;
  // Keep most declared sizes small enough to run fast; bit 2 of `kind` lets
  // the full 64-bit value through (bombs and overflow).
  image.uncompressed_size = (kind & 4) ? declared : (declared & 0xfffff);
  // A low limit keeps the fuzzer fast; a few runs use the production limit.
  const uint64_t limit = (kind & 8) ? kMaxImageSize : (uint64_t{16} << 20);
  auto out = decompress_image(image, ByteView(data, size), limit);
  if (out) {
    if (image.compression != Compression::kNone && out->size() != image.uncompressed_size) std::abort();
    if (out->size() > limit && image.compression != Compression::kNone) std::abort();
  }
  return 0;
}
