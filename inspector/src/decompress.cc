#include "smwatch/decompress.h"

#include <fmt/format.h>
#include <lz4.h>
#include <zstd.h>

#include <climits>

namespace smwatch {

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
