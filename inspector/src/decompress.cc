#include "smwatch/decompress.h"

#include <fmt/format.h>
#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <optional>

namespace smwatch {
namespace {

// Why `image.uncompressed_size` cannot be right for this stream, if it cannot.
// zstd frames state their content size (nvcc's do): the sum over the frames
// must be the declared size. Where a frame does not state it, and for LZ4
// blocks, the formats' largest expansion bounds it: 255:1 for an LZ4 block (a
// length byte adds at most 255 bytes), and for zstd 128 KiB per 4-byte RLE block.
std::optional<std::string> implausible_size(const FatbinImage& image, ByteView payload) {
  const uint64_t stored = image.stored_size, declared = image.uncompressed_size;
  if (image.compression == Compression::kLz) {
    if (declared > stored * 255 + 64)
      return fmt::format("{} LZ-compressed bytes cannot expand to the {} declared", stored, declared);
    return std::nullopt;
  }
  uint64_t total = 0;
  bool known = true;
  for (ByteView rest = *payload.slice(0, stored); !rest.empty();) {
    const unsigned long long content = ZSTD_getFrameContentSize(rest.data(), rest.size());
    if (content == ZSTD_CONTENTSIZE_ERROR) return fmt::format("no zstd frame at byte {}", stored - rest.size());
    if (content == ZSTD_CONTENTSIZE_UNKNOWN) known = false;
    else total += std::min<unsigned long long>(content, uint64_t{1} << 62);
    const size_t frame = ZSTD_findFrameCompressedSize(rest.data(), rest.size());
    if (ZSTD_isError(frame)) return fmt::format("zstd: {}", ZSTD_getErrorName(frame));
    rest = rest.tail(frame);
  }
  if (known && total != declared)
    return fmt::format("the zstd frames hold {} bytes, the header declares {}", total, declared);
  if (!known && declared > stored * 32768 + 131072)
    return fmt::format("{} zstd-compressed bytes cannot expand to the {} declared", stored, declared);
  return std::nullopt;
}

}  // namespace

Result<std::vector<uint8_t>> decompress_image(const FatbinImage& image, ByteView payload, uint64_t max_size) {
  const std::string where = fmt::format("{} image at offset {:#x}", image.arch.sm_name(), image.offset);
  if (image.compression == Compression::kNone)
    return std::vector<uint8_t>(payload.data(), payload.data() + payload.size());
  if (image.uncompressed_size > max_size)
    return make_error(fmt::format("{} declares {} uncompressed bytes, over the limit of {}", where,
                                  image.uncompressed_size, max_size));
  if (payload.size() < image.stored_size || image.stored_size == 0)
    return make_error(fmt::format("{}: compressed size {} does not fit its payload of {} bytes", where,
                                  image.stored_size, payload.size()));
  // Decompression bombs: check the declared size against what the stream can
  // produce before allocating it, or a few bytes declaring 1 GiB cost 1 GiB.
  if (auto bomb = implausible_size(image, payload)) return make_error(fmt::format("{}: {}", where, *bomb));
  std::vector<uint8_t> out(image.uncompressed_size);
  if (image.compression == Compression::kZstd) {
    size_t got = ZSTD_decompress(out.data(), out.size(), payload.data(), image.stored_size);
    if (ZSTD_isError(got))
      return make_error(fmt::format("{}: zstd: {}", where, ZSTD_getErrorName(got)));
    if (got != out.size())
      return make_error(fmt::format("{}: zstd gave {} bytes, the header declares {}", where, got, out.size()));
    return out;
  }
  if (image.stored_size > INT_MAX || out.size() > INT_MAX)
    return make_error(fmt::format("{}: too large for the LZ decoder", where));
  int got = LZ4_decompress_safe(reinterpret_cast<const char*>(payload.data()), reinterpret_cast<char*>(out.data()),
                                static_cast<int>(image.stored_size), static_cast<int>(out.size()));
  if (got < 0) return make_error(fmt::format("{}: corrupt LZ-compressed data", where));
  if (static_cast<uint64_t>(got) != out.size())
    return make_error(fmt::format("{}: LZ data gave {} bytes, the header declares {}", where, got, out.size()));
  return out;
}

}  // namespace smwatch
