// Wheels (.whl) and zips, read in memory through libarchive: nothing is
// extracted to disk, member names are labels only, and what one zip may cost
// is capped (docs/wheels-and-packages.md states and measures the bound).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/result.h"
#include "smwatch/scan.h"

namespace smwatch {

// Sizes are checked as the zip declares them and again as they inflate, so
// a header that lies gains nothing.
struct ZipLimits {
  uint64_t max_member = uint64_t{16} << 30;  // one member, inflated
  uint64_t max_total = uint64_t{64} << 30;   // all members read, inflated
  // All members read may inflate to at most this many times the zip's own
  // size (plus 1 GiB): deflate reaches ~1000x on zeros, wheels ~3x.
  uint64_t max_ratio = 100;
  // Members up to this size are read whole and scanned like files; larger
  // host ELF files (shared libraries) are streamed, other larger members
  // (cubins, fatbins, static libraries) are skipped with a problem.
  uint64_t max_buffered = uint64_t{64} << 20;
  uint64_t stream_above = uint64_t{16} << 20;  // host ELF larger than this is streamed
  // While streaming, one fatbin container at a time is held in memory.
  uint64_t max_container = uint64_t{512} << 20;
  // While streaming, the places where a fatbin section's name (".nv_fatbin",
  // "__nv_relfatbin") passes are kept, to name the sections once the section
  // table arrives (a linker writes each name once or twice). Past this many,
  // the containers that read cleanly count as found outside the fatbin
  // sections, with a note. Never a problem: the ELF may be valid.
  size_t max_section_names = 4096;
  size_t chunk = size_t{1} << 20;  // bytes inflated per read
};

bool is_zip_path(std::string_view path);  // ends in .whl or .zip
bool looks_like_zip(ByteView bytes);      // local file header or empty-zip signature

struct ZipScan {
  FileScan self;                  // the zip itself: path, size, read_error, problems, notes
  std::vector<FileScan> members;  // members with device code or damage, path "<zip>!<member>"
  size_t members_without_device_code = 0;
  std::string dist_info;          // the first top-level "*.dist-info" directory among the member names
  uint64_t inflated = 0;          // bytes inflated in all
  uint64_t peak_buffer = 0;       // the most bytes held in member/container buffers at once
};

ZipScan scan_zip(const std::string& path, const ScanOptions& options, const ZipLimits& limits = {});

// The bytes of a zip in order: the next ones each call, an empty view at the
// end, an error when they cannot be read (the view stays valid until the
// next call).
using ZipSource = std::function<Result<ByteView>()>;

// A zip that can only be read once, front to back: a wheel inside a
// container image's layer (`path` names it, `size` is its size). The same
// members, limits and results as scan_zip, from the local headers in order
// (a stream cannot seek to the central directory first): for a zip whose
// local headers agree with its central directory, as every wheel writer's
// do, the same scan. Memory: one member buffer or streamed container at a
// time, as scan_zip's; the zip itself is never held.
ZipScan scan_zip_stream(const std::string& path, uint64_t size, const ZipSource& next, const ScanOptions& options,
                        const ZipLimits& limits = {});

// Printable ASCII and UTF-8 (données.so) of a member name are kept; controls
// (C0, C1, bidi overrides) and bytes that are not UTF-8 become '?', so a name
// cannot move a terminal's cursor or forge a line of output.
std::string member_label(std::string_view name);

}  // namespace smwatch
