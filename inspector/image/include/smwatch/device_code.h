// From the stored bytes of one fatbin image to the kernels it defines: the
// step smscan (scan.cc) and the shim (image_reader.cc) share.
#pragma once

#include <string>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/fatbin.h"
#include "smwatch/result.h"

namespace smwatch {

// Decompresses `stored` (the image's payload as stored in the fatbin) and
// reads the mangled names of the kernels it defines into image.kernels,
// setting image.kernels_read. LTO-IR is NVVM bitcode: its names stay unread,
// with no problem. Damage is added to `problems` and leaves the names unread.
// With `give_up_above`, an image that decodes to more than that is left
// unread too, with no problem (decompress_image_within).
void read_image_kernels(FatbinImage& image, ByteView stored, std::vector<std::string>& problems,
                        uint64_t give_up_above = 0);

// A bare cubin or PTX text (a file, or an image handed to the driver) as a
// container of its own with one image, so that the judge sees one shape.
// Returns an error message when the bytes are neither.
Result<FatbinContainer> single_image_container(ByteView bytes, CodeKind kind, bool with_kernels);

}  // namespace smwatch
