// The walk over fatbin containers and entry headers, written once for any
// bounds-checked byte source with ByteView's read/contains/slice/size: a view
// in memory (fatbin.cc) or a file read through a small window (file_region.cc,
// so that listing a 500 MB section does not map its pages). Private to
// the inspector: image/ and files/ (whose CMakeLists puts this folder on its
// private include path) use it; it is not installed.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "smwatch/fatbin.h"

namespace smwatch::fatbin_walk {

// Entry header fields (little-endian), offsets from the entry start.
constexpr size_t kKindAt = 0;             // u16: 1 = PTX, 2 = ELF (SASS)
constexpr size_t kHeaderSizeAt = 4;       // u32: 64, 80, 96, 112 seen
constexpr size_t kPayloadSizeAt = 8;      // u64
constexpr size_t kCompressedSizeAt = 16;  // u32
constexpr size_t kMinorAt = 24;           // u16
constexpr size_t kMajorAt = 26;           // u16
constexpr size_t kArchAt = 28;            // u32
constexpr size_t kFlagsAt = 40;           // u64
constexpr size_t kUncompressedSizeAt = 56;  // u64
constexpr uint16_t kKindPtx = 1;
constexpr uint16_t kKindElf = 2;
constexpr uint16_t kKindLtoIr = 8;  // nvcc code=lto_XY (measured: nvcc 13.0 -fatbin)

inline std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

// Parses the entries of one container; stops where the rest of the container
// cannot be trusted.
template <typename Region>
void parse_entries(const Region& entries, uint64_t entries_offset, FatbinContainer& container,
                   std::vector<std::string>& problems) {
  uint64_t pos = 0;
  while (pos < entries.size()) {
    const uint64_t at = entries_offset + pos;
    auto kind = entries.template read<uint16_t>(pos + kKindAt);
    auto header_size = entries.template read<uint32_t>(pos + kHeaderSizeAt);
    auto payload_size = entries.template read<uint64_t>(pos + kPayloadSizeAt);
    if (!entries.contains(pos, kEntryHeaderMinSize)) {
      problems.push_back(fmt::format("fatbin entry at offset {} is truncated: {} bytes left, a header needs {}",
                                     hex(at), entries.size() - pos, kEntryHeaderMinSize));
      return;
    }
    if (!kind || !header_size || !payload_size) {  // only a file region fails here
      problems.push_back(fmt::format("fatbin entry at offset {} could not be read", hex(at)));
      return;
    }
    if (*header_size < kEntryHeaderMinSize || !entries.contains(pos, *header_size)) {
      problems.push_back(fmt::format("fatbin entry at offset {} has a bad header size {} ({} bytes left)",
                                     hex(at), *header_size, entries.size() - pos));
      return;
    }
    if (!entries.contains(pos + *header_size, *payload_size)) {
      problems.push_back(fmt::format(
          "fatbin entry at offset {} declares a payload of {} bytes, but only {} remain in its container",
          hex(at), *payload_size, entries.size() - pos - *header_size));
      return;
    }
    FatbinImage image;
    image.offset = at;
    image.header_size = *header_size;
    image.payload_size = *payload_size;
    // Inside the header, so these reads fit; a file region can still fail to
    // read (an I/O error, a file cut short while it is read).
    const auto flags = entries.template read<uint64_t>(pos + kFlagsAt);
    const auto major = entries.template read<uint16_t>(pos + kMajorAt);
    const auto minor = entries.template read<uint16_t>(pos + kMinorAt);
    const auto arch_field = entries.template read<uint32_t>(pos + kArchAt);
    const auto compressed_field = entries.template read<uint32_t>(pos + kCompressedSizeAt);
    const auto uncompressed_field = entries.template read<uint64_t>(pos + kUncompressedSizeAt);
    if (!flags || !major || !minor || !arch_field || !compressed_field || !uncompressed_field) {
      problems.push_back(fmt::format("fatbin entry at offset {} could not be read", hex(at)));
      return;
    }
    image.flags = *flags;
    image.version_major = *major;
    image.version_minor = *minor;
    const uint32_t arch = *arch_field;
    const uint32_t compressed = *compressed_field;
    const uint64_t uncompressed = *uncompressed_field;
    pos += *header_size + *payload_size;

    if (*kind != kKindPtx && *kind != kKindElf && *kind != kKindLtoIr) {
      problems.push_back(fmt::format("fatbin entry at offset {} has unknown kind {}; skipped", hex(at), *kind));
      continue;
    }
    if (arch < 10 || arch > 999) {
      problems.push_back(fmt::format("fatbin entry at offset {} has an implausible architecture {}; skipped",
                                     hex(at), arch));
      continue;
    }
    image.kind = *kind == kKindPtx ? CodeKind::kPtx : *kind == kKindLtoIr ? CodeKind::kLtoIr : CodeKind::kSass;
    image.arch.number = static_cast<uint16_t>(arch);
    if (image.flags & entry_flags::kArchSpecific)
      image.arch.variant = ArchVariant::kArchSpecific;
    else if (image.flags & entry_flags::kFamilySpecific)
      image.arch.variant = ArchVariant::kFamilySpecific;

    if (image.flags & (entry_flags::kCompressedLz | entry_flags::kCompressedZstd)) {
      image.compression = (image.flags & entry_flags::kCompressedZstd) ? Compression::kZstd : Compression::kLz;
      image.stored_size = compressed;
      image.uncompressed_size = uncompressed;
      if (compressed == 0 || compressed > image.payload_size)
        problems.push_back(fmt::format("fatbin entry at offset {} ({}) declares {} compressed bytes in a payload of {}",
                                       hex(at), image.arch.sm_name(), compressed, image.payload_size));
    } else {
      image.stored_size = image.payload_size;
      image.uncompressed_size = image.payload_size;
    }
    if (image.payload_size == 0)
      problems.push_back(fmt::format("fatbin entry at offset {} ({}) is empty", hex(at), image.arch.sm_name()));
    container.images.push_back(image);
  }
}


template <typename Region>
std::vector<FatbinContainer> walk_fatbin_region(const Region& region, uint64_t base_offset,
                                                std::vector<std::string>& problems) {
  std::vector<FatbinContainer> containers;
  uint64_t pos = 0;
  uint64_t unknown_from = UINT64_MAX;  // start of bytes that are neither padding nor a container
  auto flush_unknown = [&](uint64_t until) {
    if (unknown_from != UINT64_MAX)
      problems.push_back(fmt::format("{} bytes of unknown data at offset {} in a fatbin section",
                                     until - unknown_from, hex(base_offset + unknown_from)));
    unknown_from = UINT64_MAX;
  };
  while (region.contains(pos, 4)) {
    const auto magic = region.template read<uint32_t>(pos);
    if (!magic) {  // a file region that could not be read
      flush_unknown(pos);
      problems.push_back(fmt::format("fatbin section could not be read at offset {}", hex(base_offset + pos)));
      return containers;
    }
    if (*magic != kFatbinMagic) {
      // Containers are 8-byte aligned; the gaps between them are zero padding.
      auto word = region.template read<uint64_t>(pos);
      if ((!word || *word != 0) && unknown_from == UINT64_MAX) unknown_from = pos;
      pos += 8;
      continue;
    }
    flush_unknown(pos);
    const uint64_t at = base_offset + pos;
    auto header_size = region.template read<uint16_t>(pos + 6);
    auto entries_size = region.template read<uint64_t>(pos + 8);
    if (!header_size || !entries_size) {
      problems.push_back(fmt::format("fatbin container at offset {} is truncated inside its header", hex(at)));
      break;
    }
    if (*header_size < kFatbinHeaderSize || !region.contains(pos, *header_size)) {
      problems.push_back(fmt::format("fatbin container at offset {} has a bad header size {}", hex(at), *header_size));
      pos += 8;
      continue;
    }
    FatbinContainer container;
    container.offset = at;
    uint64_t available = region.size() - pos - *header_size;
    uint64_t entries_len = *entries_size;
    if (entries_len > available) {
      problems.push_back(fmt::format(
          "fatbin container at offset {} declares {} bytes of entries, but only {} remain; reading what is there",
          hex(at), entries_len, available));
      entries_len = available;
    }
    container.size = *header_size + entries_len;
    parse_entries(*region.slice(pos + *header_size, entries_len), at + *header_size, container, problems);
    containers.push_back(std::move(container));
    pos += (*header_size + entries_len + 7) & ~uint64_t{7};
  }
  flush_unknown(pos);
  return containers;
}

}  // namespace smwatch::fatbin_walk
