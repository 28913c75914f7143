#include "smwatch/decompress.h"

#include <fmt/format.h>
#include <lz4.h>
#include <zstd.h>
#include <zstd_errors.h>

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

// Decodes the whole stream into `out`, which holds `capacity` bytes: how many
// bytes it gave, or kTooSmall when it has more than fit, or an error.
constexpr int64_t kTooSmall = -1;
Result<int64_t> decode_into(const FatbinImage& image, ByteView stored, uint8_t* out, size_t capacity, bool last) {
  if (image.compression == Compression::kZstd) {
    const size_t got = ZSTD_decompress(out, capacity, stored.data(), stored.size());
    if (ZSTD_isError(got)) {
      if (ZSTD_getErrorCode(got) == ZSTD_error_dstSize_tooSmall) return kTooSmall;
      return make_error(fmt::format("zstd: {}", ZSTD_getErrorName(got)));
    }
    return static_cast<int64_t>(got);
  }
  const char* src = reinterpret_cast<const char*>(stored.data());
  char* dst = reinterpret_cast<char*>(out);
  if (last) {  // the strict decoder: the whole block, and it must fit
    const int got = LZ4_decompress_safe(src, dst, static_cast<int>(stored.size()), static_cast<int>(capacity));
    if (got < 0) return make_error("corrupt LZ-compressed data, or more of it than declared");
    return got;
  }
  // Stops when `capacity` bytes are out: a full buffer may mean more to come.
  const int got = LZ4_decompress_safe_partial(src, dst, static_cast<int>(stored.size()), static_cast<int>(capacity),
                                              static_cast<int>(capacity));
  if (got < 0) return make_error("corrupt LZ-compressed data");
  if (static_cast<size_t>(got) == capacity) return kTooSmall;
  return got;
}

}  // namespace

namespace {

using Decoded = std::optional<std::vector<uint8_t>>;

// decompress_image with a bound on what the caller holds (0: none), above
// which the output is given up (nothing).
Result<Decoded> decompress(const FatbinImage& image, ByteView payload, uint64_t max_size,
                                                      uint64_t give_up_above) {
  const std::string where = fmt::format("{} image at offset {:#x}", image.arch.sm_name(), image.offset);
  if (image.compression == Compression::kNone) {
    if (give_up_above != 0 && payload.size() > give_up_above) return Decoded();
    return Decoded(std::vector<uint8_t>(payload.data(), payload.data() + payload.size()));
  }
  if (image.uncompressed_size > max_size)
    return make_error(fmt::format("{} declares {} uncompressed bytes, over the limit of {}", where,
                                  image.uncompressed_size, max_size));
  if (payload.size() < image.stored_size || image.stored_size == 0)
    return make_error(fmt::format("{}: compressed size {} does not fit its payload of {} bytes", where,
                                  image.stored_size, payload.size()));
  // Decompression bombs: check the declared size against what the stream can
  // produce before allocating it, or a few bytes declaring 1 GiB cost 1 GiB.
  if (auto bomb = implausible_size(image, payload)) return make_error(fmt::format("{}: {}", where, *bomb));
  if (image.compression == Compression::kLz && (image.stored_size > INT_MAX || image.uncompressed_size > INT_MAX))
    return make_error(fmt::format("{}: too large for the LZ decoder", where));
  const ByteView stored = *payload.slice(0, image.stored_size);
  const uint64_t declared = image.uncompressed_size;
  // The output is sized by what the stream proves, not by what the header
  // claims (a lie that fits the format's best ratio still passes the check
  // above): the buffer starts at what the stored bytes plausibly hold and
  // doubles, up to the declared size, each time the data fills it. So memory
  // stays within twice what the data really decodes to (or the first
  // buffer, 1 MiB or 16x the stored bytes, when that is more), and a stream that
  // gives less than declared is damage found before the declared size is
  // ever allocated. A retry decodes again: at most twice the work.
  constexpr uint64_t kFirstCapacity = 1 << 20;
  uint64_t capacity = std::min(declared, std::max(kFirstCapacity, stored.size() * 16));
  if (give_up_above != 0) capacity = std::min(capacity, give_up_above);
  for (;;) {
    const bool last = capacity == declared;
    // One byte more than declared at the end: a stream that fills it holds more than declared.
    std::vector<uint8_t> out(static_cast<size_t>(last && image.compression == Compression::kZstd ? capacity + 1 : capacity));
    auto got = decode_into(image, stored, out.data(), out.size(), last);
    if (!got) return make_error(fmt::format("{}: damaged: {}", where, got.error().message));
    if (*got == kTooSmall && !last) {
      if (give_up_above != 0 && capacity >= give_up_above) return Decoded();  // more than the caller holds
      capacity = std::min(declared, capacity * 2);
      if (give_up_above != 0) capacity = std::min(capacity, give_up_above);
      continue;
    }
    if (*got == kTooSmall)
      return make_error(fmt::format("{}: damaged: its data holds more than the {} bytes the header declares", where,
                                    declared));
    if (static_cast<uint64_t>(*got) != declared)
      return make_error(fmt::format("{}: damaged: its data gives {} bytes, the header declares {}", where, *got,
                                    declared));
    out.resize(static_cast<size_t>(declared));
    return Decoded(std::move(out));
  }
}

}  // namespace

Result<std::vector<uint8_t>> decompress_image(const FatbinImage& image, ByteView payload, uint64_t max_size) {
  auto out = decompress(image, payload, max_size, 0);
  if (!out) return out.error();
  return std::move(**out);
}

Result<std::optional<std::vector<uint8_t>>> decompress_image_within(const FatbinImage& image, ByteView payload,
                                                                    uint64_t give_up_above) {
  return decompress(image, payload, kMaxImageSize, give_up_above);
}

}  // namespace smwatch
