#include "smwatch/fatbin.h"

#include "fatbin_walk.h"

namespace smwatch {
const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kLz: return "lz";
    case Compression::kZstd: return "zstd";
    default: return "none";
  }
}

bool looks_like_fatbin(ByteView bytes) { return bytes.read<uint32_t>(0) == kFatbinMagic; }

std::vector<FatbinContainer> parse_fatbin_region(ByteView region, uint64_t base_offset,
                                                 std::vector<std::string>& problems) {
  return fatbin_walk::walk_fatbin_region(region, base_offset, problems);
}

std::optional<ByteView> image_payload(ByteView file, const FatbinImage& image) {
  return file.slice(image.payload_offset(), image.stored_size);
}

}  // namespace smwatch
