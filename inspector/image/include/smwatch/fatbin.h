// The fatbin container format: typed, bounds-checked views over the headers
// nvcc writes into `.nv_fatbin` sections and `-fatbin` files. The layout was
// measured on nvcc 13.0 output and cross-checked with cuobjdump (see
// docs/fatbin-format.md); nothing here trusts a size it has not checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smwatch/arch.h"
#include "smwatch/bytes.h"

namespace smwatch {

inline constexpr uint32_t kFatbinMagic = 0xBA55ED50;
inline constexpr uint32_t kFatbinWrapperMagic = 0x466243B1;  // .nvFatBinSegment registration record
inline constexpr size_t kFatbinHeaderSize = 16;
inline constexpr size_t kEntryHeaderMinSize = 64;

// Entry header flag bits (measured, docs/fatbin-format.md).
namespace entry_flags {
inline constexpr uint64_t kCompressedLz = 0x2000;      // --compress-mode=speed
inline constexpr uint64_t kCompressedZstd = 0x8000;    // default, size, balance
inline constexpr uint64_t kArchSpecific = 0x100000;    // sm_90a, compute_90a
inline constexpr uint64_t kFamilySpecific = 0x200000;  // sm_100f, compute_100f
}  // namespace entry_flags

enum class Compression : uint8_t { kNone, kLz, kZstd };
const char* compression_name(Compression c);

// One image (a cubin or a PTX text) inside a container.
struct FatbinImage {
  CodeKind kind = CodeKind::kSass;
  Arch arch;
  Compression compression = Compression::kNone;
  uint64_t offset = 0;             // of the entry header, from the start of the file
  uint32_t header_size = 0;
  uint64_t payload_size = 0;       // bytes stored after the header (may be padded)
  uint64_t stored_size = 0;        // compressed size, or payload_size when not compressed
  uint64_t uncompressed_size = 0;  // the image's real size
  uint16_t version_major = 0;      // PTX ISA version for PTX entries (9.0 for nvcc 13.0)
  uint16_t version_minor = 0;
  uint64_t flags = 0;
  // PTX whose ISA is newer than the driver that will run it (set by the
  // judge when the driver is known): the driver refuses it with 222.
  bool driver_refuses = false;
  // Filled only when kernels are asked for (ScanOptions::kernels).
  bool kernels_read = false;
  std::vector<std::string> kernels;  // mangled names
  uint64_t payload_offset() const { return offset + header_size; }
  std::string ptx_isa() const { return std::to_string(version_major) + "." + std::to_string(version_minor); }
};

// One container: a group of images that the CUDA runtime registers and loads
// together as one module.
struct FatbinContainer {
  uint64_t offset = 0;      // from the start of the file
  uint64_t size = 0;        // header plus entries
  std::string member;       // archive member holding it, "" when none
  int member_index = -1;    // its position among the archive's members
  std::string section;      // ".nv_fatbin", "__nv_relfatbin", or "" for a bare fatbin
  // Found outside the fatbin sections (in the library's data, which it loads
  // itself at run time); cuobjdump does not list these.
  bool embedded = false;
  std::vector<FatbinImage> images;
  // Whether the images define any kernel. nvcc links the CUDA runtime's own
  // device code into a fatbin of its own with SASS but no PTX and no kernels;
  // it can never be why a launch fails, so verdicts skip such containers.
  enum class Kernels : uint8_t { kUnknown, kNone, kSome } kernels = Kernels::kUnknown;
};

// Parses every container in `region` (a section or a whole file), which
// starts `base_offset` bytes into the file. Damage is reported in `problems`
// and parsing goes on with the next container, so a partial result is kept.
std::vector<FatbinContainer> parse_fatbin_region(ByteView region, uint64_t base_offset,
                                                 std::vector<std::string>& problems);

// The payload bytes of an image, from a view of the whole file.
std::optional<ByteView> image_payload(ByteView file, const FatbinImage& image);

bool looks_like_fatbin(ByteView bytes);

// Whether the bytes at the start of `head` (at least kFatbinHeaderSize +
// kEntryHeaderMinSize of them) are a plausible container header followed by a
// plausible first entry: the test for containers found outside the fatbin
// sections, where four bytes may match the magic by chance.
bool plausible_container_start(ByteView head);

}  // namespace smwatch
