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

bool plausible_container_start(ByteView v) {
  using namespace fatbin_walk;
  if (!v.contains(0, kFatbinHeaderSize + kEntryHeaderMinSize)) return false;
  if (v.read<uint32_t>(0) != kFatbinMagic || v.read<uint16_t>(4) != 1 || v.read<uint16_t>(6) != kFatbinHeaderSize)
    return false;
  const uint64_t entries = *v.read<uint64_t>(8);
  const uint16_t kind = *v.read<uint16_t>(kFatbinHeaderSize + kKindAt);
  const uint32_t header = *v.read<uint32_t>(kFatbinHeaderSize + kHeaderSizeAt);
  const uint32_t arch = *v.read<uint32_t>(kFatbinHeaderSize + kArchAt);
  return entries >= kEntryHeaderMinSize && (kind == kKindPtx || kind == kKindElf || kind == kKindLtoIr) &&
         header >= kEntryHeaderMinSize && header <= 4096 && arch >= 10 && arch <= 999;
}

std::vector<FatbinContainer> parse_fatbin_region(ByteView region, uint64_t base_offset,
                                                 std::vector<std::string>& problems) {
  return fatbin_walk::walk_fatbin_region(region, base_offset, problems);
}

std::optional<ByteView> image_payload(ByteView file, const FatbinImage& image) {
  return file.slice(image.payload_offset(), image.stored_size);
}

}  // namespace smwatch
