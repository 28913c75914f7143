// Decompression of fatbin images. nvcc's zstd mode is plain zstd frames;
// its older "speed" mode (flag 0x2000) turned out to be the LZ4 block format,
// which liblz4 decodes byte for byte (tests/unit/decompress_test.cc checks
// every mode against the uncompressed build).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "smwatch/fatbin.h"
#include "smwatch/result.h"

namespace smwatch {

// Largest image we agree to inflate: bigger declared sizes are treated as
// damage (or a decompression bomb), not as work.
inline constexpr uint64_t kMaxImageSize = uint64_t{1} << 30;

// The image's bytes, uncompressed. `payload` is the stored payload
// (image_payload()); the output never exceeds the declared uncompressed size.
Result<std::vector<uint8_t>> decompress_image(const FatbinImage& image, ByteView payload,
                                              uint64_t max_size = kMaxImageSize);

// The same, for a caller that holds at most `give_up_above` bytes (0: no
// bound): an image whose data turns out to decode to more is left undecoded
// (nothing, which is no damage; the work spent is at most twice that bound).
// Data that decodes to less than declared within it is still damage.
Result<std::optional<std::vector<uint8_t>>> decompress_image_within(const FatbinImage& image, ByteView payload,
                                                                    uint64_t give_up_above);

}  // namespace smwatch
