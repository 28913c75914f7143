// Hostile single files (issue 7): truncation at every offset, declared sizes
// far beyond the file, overlapping entries and containers, decompression
// bombs, huge and damaged archives. Each case must end in a report (damage
// named in `problems`), within the file's bounds, fast, and without a large
// allocation.
#include <gtest/gtest.h>
#include <lz4.h>
#include <sys/resource.h>
#include <zstd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "smwatch/archive.h"
#include "smwatch/decompress.h"
#include "smwatch/elf_file.h"
#include "smwatch/fatbin.h"
#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

using Bytes = std::vector<uint8_t>;
using test::fixture;
using test::read_bytes;

FileScan scan(const Bytes& b, bool kernels = true) {
  ScanOptions options;
  options.kernels = kernels;
  return scan_bytes(ByteView(b.data(), b.size()), "hostile", options);
}

bool mentions(const FileScan& s, const std::string& word) {
  for (const auto& p : s.problems)
    if (p.find(word) != std::string::npos) return true;
  return false;
}

std::string all_problems(const FileScan& s) {
  std::string out;
  for (const auto& p : s.problems) out += "\n  " + p;
  return out;
}

// Every container and image the scan reports lies inside the file.
void expect_inside(const FileScan& s, uint64_t size, const std::string& what) {
  for (const auto& c : s.containers) {
    EXPECT_LE(c.offset, size) << what;
    EXPECT_LE(c.size, size - std::min(c.offset, size)) << what;
    for (const auto& img : c.images) {
      EXPECT_LE(img.payload_offset(), size) << what;
      EXPECT_LE(img.payload_size, size - std::min(img.payload_offset(), size)) << what;
    }
  }
}

using test::max_rss_kb;
using test::put;

// One fatbin entry, written field by field (layout: docs/fatbin-format.md).
struct Entry {
  uint16_t kind = 2;  // 1 PTX, 2 ELF
  uint32_t header_size = 64;
  uint64_t payload_size = 0;  // 0: payload.size()
  uint32_t compressed = 0;
  uint32_t arch = 80;
  uint64_t flags = 0x11;
  uint64_t uncompressed = 0;
  Bytes payload;
};

Bytes entry_bytes(const Entry& e) {
  Bytes b(e.header_size, 0);
  put<uint16_t>(b, 0, e.kind);
  put<uint16_t>(b, 2, 0x0101);
  put<uint32_t>(b, 4, e.header_size);
  put<uint64_t>(b, 8, e.payload_size ? e.payload_size : e.payload.size());
  put<uint32_t>(b, 16, e.compressed);
  put<uint32_t>(b, 28, e.arch);
  put<uint64_t>(b, 40, e.flags);
  put<uint64_t>(b, 56, e.uncompressed);
  b.insert(b.end(), e.payload.begin(), e.payload.end());
  return b;
}

// A container holding `entries`; `declared` overrides the entries size.
Bytes container(const std::vector<Entry>& entries, std::optional<uint64_t> declared = std::nullopt) {
  Bytes body;
  for (const auto& e : entries) {
    Bytes eb = entry_bytes(e);
    body.insert(body.end(), eb.begin(), eb.end());
  }
  Bytes b;
  put<uint32_t>(b, 0, kFatbinMagic);
  put<uint16_t>(b, 4, 1);
  put<uint16_t>(b, 6, 16);
  put<uint64_t>(b, 8, declared.value_or(body.size()));
  b.insert(b.end(), body.begin(), body.end());
  while (b.size() % 8) b.push_back(0);
  return b;
}

Bytes zstd_frame(const Bytes& data, int level = 3) {
  Bytes out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A zstd frame of `size` zero bytes, streamed (never held in memory), with
// the content size in its header like nvcc's frames.
Bytes zstd_zeros(uint64_t size) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setPledgedSrcSize(cctx, size);
  Bytes zeros(1 << 20, 0), out, buf(ZSTD_CStreamOutSize());
  for (uint64_t done = 0; done < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), size - done));
    done += n;
    ZSTD_inBuffer in{zeros.data(), n, 0};
    const ZSTD_EndDirective mode = done == size ? ZSTD_e_end : ZSTD_e_continue;
    for (bool finished = false; !finished;) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      size_t left = ZSTD_compressStream2(cctx, &o, &in, mode);
      EXPECT_FALSE(ZSTD_isError(left));
      out.insert(out.end(), buf.begin(), buf.begin() + o.pos);
      finished = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
    }
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

// ---------------------------------------------------------------------------
// Truncation at every offset.

// Each cut is copied into a buffer of exactly its size, so that ASan sees a
// read past the end; `copy` = false scans a view instead (for cuts deep into
// a 1 MB file, where 10,000 copies would take longer than the scans).
void truncate_everywhere(const Bytes& bytes, const std::string& name, size_t from, size_t to, bool copy = true) {
  const size_t full = scan(bytes).image_count();
  ASSERT_GT(full, 0u) << name;
  ScanOptions options;
  options.kernels = true;
  for (size_t cut = from; cut < to && cut < bytes.size(); ++cut) {
    FileScan s;
    if (copy) {
      s = scan(Bytes(bytes.begin(), bytes.begin() + cut));
    } else {
      s = scan_bytes(ByteView(bytes.data(), cut), "hostile", options);
    }
    expect_inside(s, cut, name + " cut at " + std::to_string(cut));
    EXPECT_LE(s.image_count(), full) << name << " cut at " << cut;
    // Once the magic is there the file is recognised, and its end is damage.
    if (cut >= 4) EXPECT_FALSE(s.problems.empty()) << name << " cut at " << cut << ": damage not reported";
  }
}

TEST(Hostile, BareFatbinTruncatedAtEveryOffset) {
  for (const char* f : {"sm80.fatbin", "multi_size.fatbin", "multi_speed_all.fatbin"}) {
    Bytes b = read_bytes(fixture(f));
    truncate_everywhere(b, f, 0, b.size());
  }
}

TEST(Hostile, SmallSharedLibraryTruncatedAtEveryOffset) {
  Bytes b = read_bytes(SMWATCH_SLIM_SO);
  ASSERT_TRUE(looks_like_elf(ByteView(b.data(), b.size())));
  truncate_everywhere(b, "sm80_slim.so", 0, b.size());
}

TEST(Hostile, SharedLibraryTruncatedAtEveryOffsetOfItsHeadersAndFatbin) {
  Bytes b = read_bytes(fixture("sm80.so"));
  auto sections = find_fatbin_sections(ByteView(b.data(), b.size()));
  ASSERT_TRUE(sections && !sections->empty());
  const auto& fb = (*sections)[0];
  truncate_everywhere(b, "sm80.so header", 0, 4096);
  truncate_everywhere(b, "sm80.so .nv_fatbin", fb.offset, fb.offset + fb.size + 64, false);
  // The section header table, at the end.
  truncate_everywhere(b, "sm80.so section headers", b.size() - 4096, b.size(), false);
}

// ---------------------------------------------------------------------------
// Sizes far beyond the file.

TEST(Hostile, DeclaredSizesFarBeyondTheFile) {
  const Bytes payload(256, 0xAB);
  for (uint64_t huge : {uint64_t{1} << 32, uint64_t{1} << 60, UINT64_MAX - 8, UINT64_MAX}) {
    Entry e;
    e.payload = payload;
    e.payload_size = huge;
    Bytes b = container({e});
    FileScan s = scan(b);
    EXPECT_EQ(s.image_count(), 0u);
    EXPECT_TRUE(mentions(s, "declares a payload")) << all_problems(s);

    b = container({Entry{.payload = payload}}, huge);  // the container's entries size
    s = scan(b);
    EXPECT_EQ(s.image_count(), 1u);
    EXPECT_TRUE(mentions(s, "remain")) << all_problems(s);
    expect_inside(s, b.size(), "container size");
  }
  for (uint32_t header : {0u, 1u, 63u, 0x10000u, 0xFFFFFFFFu}) {
    Entry e;
    e.header_size = 64;
    e.payload = payload;
    Bytes b = container({e});
    put<uint32_t>(b, 16 + 4, header);
    FileScan s = scan(b);
    EXPECT_EQ(s.image_count(), 0u) << header;
    EXPECT_FALSE(s.problems.empty()) << header;
  }
  // Compressed sizes beyond the payload, uncompressed sizes beyond any limit.
  Entry z{.compressed = 0xFFFFFFFF, .flags = 0x11 | entry_flags::kCompressedZstd, .uncompressed = UINT64_MAX,
          .payload = payload};
  Bytes b = container({z});
  FileScan s = scan(b);
  EXPECT_TRUE(mentions(s, "compressed bytes")) << all_problems(s);
  expect_inside(s, b.size(), "compressed");
}

TEST(Hostile, ElfSectionAndHeaderTableBeyondTheFile) {
  const Bytes good = read_bytes(SMWATCH_SLIM_SO);
  auto sections = find_fatbin_sections(ByteView(good.data(), good.size()));
  ASSERT_TRUE(sections && sections->size() == 1);
  uint64_t shoff;
  uint16_t shentsize, shnum;
  std::memcpy(&shoff, &good[0x28], 8);
  std::memcpy(&shentsize, &good[0x3A], 2);
  std::memcpy(&shnum, &good[0x3C], 2);
  // Find the .nv_fatbin header by its offset field.
  size_t fb_header = 0;
  for (uint16_t i = 0; i < shnum; ++i) {
    uint64_t off;
    std::memcpy(&off, &good[shoff + i * shentsize + 0x18], 8);
    if (off == (*sections)[0].offset) fb_header = shoff + i * shentsize;
  }
  ASSERT_NE(fb_header, 0u);
  for (uint64_t huge : {uint64_t{1} << 40, UINT64_MAX, uint64_t{good.size()}}) {
    Bytes b = good;
    put<uint64_t>(b, fb_header + 0x20, huge);  // sh_size
    FileScan s = scan(b);
    EXPECT_FALSE(s.problems.empty()) << "sh_size " << huge;
    expect_inside(s, b.size(), "sh_size");
    b = good;
    put<uint64_t>(b, fb_header + 0x18, huge);  // sh_offset
    s = scan(b);
    EXPECT_FALSE(s.problems.empty()) << "sh_offset " << huge;
    expect_inside(s, b.size(), "sh_offset");
    b = good;
    put<uint64_t>(b, 0x28, huge);  // e_shoff
    s = scan(b);
    EXPECT_FALSE(s.problems.empty()) << "e_shoff " << huge;
  }
  Bytes b = good;
  put<uint16_t>(b, 0x3C, 0xFFFF);  // e_shnum
  FileScan s = scan(b);
  EXPECT_FALSE(s.problems.empty());
}

// ---------------------------------------------------------------------------
// Overlaps.

TEST(Hostile, OverlappingEntriesAndContainers) {
  Bytes cubin = read_bytes(fixture("sm80.cubin"));
  // An entry whose declared payload is shorter than its data: the next
  // "entry header" starts inside the cubin.
  Entry short_one{.payload_size = 100, .payload = cubin};
  Bytes b = container({short_one});
  put<uint64_t>(b, 8, 64 + cubin.size());  // the container still covers it all
  FileScan s = scan(b);
  EXPECT_FALSE(s.problems.empty());
  expect_inside(s, b.size(), "short entry");

  // Container A's declared entries swallow container B (one fatbin nested in
  // another's payload) and a third container overlapping both ends.
  Bytes inner = container({Entry{.payload = cubin}});
  Entry outer{.payload = inner};
  Bytes nested = container({outer});
  s = scan(nested);
  EXPECT_EQ(s.containers.size(), 1u) << "a container inside another's payload is payload, not a container";
  expect_inside(s, nested.size(), "nested");

  // Two entries that claim the same payload bytes through their compressed size.
  Bytes zs = zstd_frame(cubin);
  Entry z1{.compressed = static_cast<uint32_t>(zs.size() * 2), .flags = 0x11 | entry_flags::kCompressedZstd,
           .uncompressed = cubin.size(), .payload = zs};
  Entry z2{.compressed = static_cast<uint32_t>(zs.size()), .flags = 0x11 | entry_flags::kCompressedZstd,
           .uncompressed = cubin.size(), .payload = zs};
  b = container({z1, z2});
  s = scan(b);
  EXPECT_TRUE(mentions(s, "compressed bytes in a payload")) << all_problems(s);
  expect_inside(s, b.size(), "compressed overlap");

  // Two ELF section headers naming the same .nv_fatbin bytes, and one naming
  // the ELF header itself.
  Bytes so = read_bytes(SMWATCH_SLIM_SO);
  uint64_t shoff;
  uint16_t shentsize, shnum;
  std::memcpy(&shoff, &so[0x28], 8);
  std::memcpy(&shentsize, &so[0x3A], 2);
  std::memcpy(&shnum, &so[0x3C], 2);
  auto sections = find_fatbin_sections(ByteView(so.data(), so.size()));
  ASSERT_TRUE(sections && sections->size() == 1);
  for (uint16_t i = 1; i < shnum; ++i) {
    Bytes twin = so;
    size_t h = shoff + i * shentsize;
    uint64_t off;
    std::memcpy(&off, &so[h + 0x18], 8);
    if (off == (*sections)[0].offset) continue;
    // Copy the .nv_fatbin header over another one, keeping that one's name.
    size_t fb = 0;
    for (uint16_t j = 0; j < shnum; ++j) {
      std::memcpy(&off, &so[shoff + j * shentsize + 0x18], 8);
      if (off == (*sections)[0].offset) fb = shoff + j * shentsize;
    }
    std::memcpy(&twin[h + 4], &so[fb + 4], shentsize - 4);
    s = scan(twin);
    expect_inside(s, twin.size(), "twin section");
    Bytes at_zero = so;
    put<uint64_t>(at_zero, fb + 0x18, 0);
    s = scan(at_zero);
    expect_inside(s, at_zero.size(), "section over the ELF header");
    EXPECT_FALSE(s.problems.empty()) << "an ELF header read as a fatbin is damage";
  }
}

// ---------------------------------------------------------------------------
// Decompression bombs.

TEST(Hostile, TinyPayloadsDeclaringGigabytesAreRefusedBeforeAllocating) {
  const long rss_before = max_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  const Bytes hello = zstd_frame(Bytes(100, 'x'));
  const Bytes lz(16, 0x1F);
  for (uint64_t declared : {uint64_t{1} << 30, (uint64_t{1} << 30) - 1, uint64_t{512} << 20}) {
    FatbinImage z;
    z.compression = Compression::kZstd;
    z.stored_size = z.payload_size = hello.size();
    z.uncompressed_size = declared;
    auto r = decompress_image(z, ByteView(hello.data(), hello.size()));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("declares"), std::string::npos) << r.error().message;

    FatbinImage l;
    l.compression = Compression::kLz;
    l.stored_size = l.payload_size = lz.size();
    l.uncompressed_size = declared;
    r = decompress_image(l, ByteView(lz.data(), lz.size()));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("cannot expand"), std::string::npos) << r.error().message;
  }
  // Through the scanner: 64 entries of a few bytes, each declaring 1 GiB.
  std::vector<Entry> entries;
  for (int i = 0; i < 32; ++i) {
    entries.push_back({.compressed = static_cast<uint32_t>(hello.size()), .flags = 0x11 | entry_flags::kCompressedZstd,
                       .uncompressed = uint64_t{1} << 30, .payload = hello});
    entries.push_back({.compressed = static_cast<uint32_t>(lz.size()), .flags = 0x11 | entry_flags::kCompressedLz,
                       .uncompressed = uint64_t{1} << 30, .payload = lz});
  }
  Bytes b = container(entries);
  FileScan s = scan(b);
  EXPECT_EQ(s.image_count(), 64u);
  EXPECT_GE(s.problems.size(), 64u);
  s = scan(b, false);  // the listing probes the smallest image only
  EXPECT_EQ(s.image_count(), 64u);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0);
  EXPECT_LT(max_rss_kb() - rss_before, 64 * 1024) << "a bomb was allocated";
}

TEST(Hostile, RealZstdFrameThatInflatesHugelyIsHeldToTheDeclaredSize) {
  const long rss_before = max_rss_kb();
  const uint64_t real = (uint64_t{3} << 30) / 2;  // 1.5 GiB of zeros in a frame of ~50 KB
  const Bytes frame = zstd_zeros(real);
  ASSERT_LT(frame.size(), 1u << 20);
  FatbinImage img;
  img.compression = Compression::kZstd;
  img.stored_size = img.payload_size = frame.size();
  for (uint64_t declared : {uint64_t{1} << 20, uint64_t{0}, real - 1}) {
    img.uncompressed_size = declared;  // a lie: the frame holds more
    auto r = decompress_image(img, ByteView(frame.data(), frame.size()));
    ASSERT_FALSE(r.ok()) << declared;
    EXPECT_NE(r.error().message.find("declares"), std::string::npos) << r.error().message;
  }
  img.uncompressed_size = real;  // the truth, over the 1 GiB limit
  auto r = decompress_image(img, ByteView(frame.data(), frame.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("over the limit"), std::string::npos) << r.error().message;
  EXPECT_LT(max_rss_kb() - rss_before, 64 * 1024) << "a bomb was allocated";

  // A real 4 MiB frame declared as 4 MiB inflates (the bound is not too tight).
  const Bytes ok = zstd_zeros(4 << 20);
  img.stored_size = img.payload_size = ok.size();
  img.uncompressed_size = 4 << 20;
  r = decompress_image(img, ByteView(ok.data(), ok.size()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), size_t{4} << 20);
  // And LZ4 at its best ratio (zeros).
  Bytes zeros(4 << 20, 0), lz(LZ4_compressBound(zeros.size()));
  lz.resize(LZ4_compress_default(reinterpret_cast<const char*>(zeros.data()), reinterpret_cast<char*>(lz.data()),
                                 static_cast<int>(zeros.size()), static_cast<int>(lz.size())));
  FatbinImage l;
  l.compression = Compression::kLz;
  l.stored_size = l.payload_size = lz.size();
  l.uncompressed_size = zeros.size();
  auto lr = decompress_image(l, ByteView(lz.data(), lz.size()));
  ASSERT_TRUE(lr.ok()) << lr.error().message;
  EXPECT_EQ(*lr, zeros);
}

// ---------------------------------------------------------------------------
// Archives.

void add_member(Bytes& ar, const std::string& name, const Bytes& data, const std::string& size_field = "") {
  char header[61];
  std::snprintf(header, sizeof header, "%-16s%-12s%-6s%-6s%-8s%-10s`\n", name.c_str(), "0", "0", "0", "644",
                size_field.empty() ? std::to_string(data.size()).c_str() : size_field.c_str());
  ar.insert(ar.end(), header, header + 60);
  ar.insert(ar.end(), data.begin(), data.end());
  if (data.size() % 2) ar.push_back('\n');
}

Bytes ar_start() { return Bytes{'!', '<', 'a', 'r', 'c', 'h', '>', '\n'}; }

TEST(Hostile, ArchiveWithOneHundredThousandMembers) {
  Bytes ar = ar_start();
  const Bytes tiny{'h', 'i'}, fake_elf{0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  for (int i = 0; i < 100000; ++i) add_member(ar, "m" + std::to_string(i) + ".o/", i % 100 == 0 ? fake_elf : tiny);
  add_member(ar, "real.o/", read_bytes(fixture("second_sm90.o")));
  const auto start = std::chrono::steady_clock::now();
  FileScan s = scan(ar);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.format, FileFormat::kArchive);
  ASSERT_EQ(s.members.size(), 100001u);
  EXPECT_EQ(s.members[99999], "m99999.o");
  EXPECT_EQ(s.members.back(), "real.o");
  EXPECT_EQ(s.image_count(), 1u) << "the real object's image is still found after 100,000 members";
  EXPECT_GE(s.problems.size(), 1000u) << "each fake ELF member is damage";
  EXPECT_LT(seconds, 10.0);
}

TEST(Hostile, ArchiveMembersClaimingHugeSizes) {
  for (const std::string size : {"9999999999", "4294967296", "1152921504606846976", "-1", "0x10", " 12", "1 2"}) {
    Bytes ar = ar_start();
    add_member(ar, "first.o/", read_bytes(fixture("second_sm90.o")));
    add_member(ar, "liar.o/", Bytes(16, 0), size);
    FileScan s = scan(ar);
    EXPECT_EQ(s.image_count(), 1u) << size << ": what came before is kept";
    EXPECT_FALSE(s.problems.empty()) << size;
    std::vector<std::string> problems;
    auto members = read_archive(ByteView(ar.data(), ar.size()), problems);
    ASSERT_TRUE(members) << size;
    for (const auto& m : *members) EXPECT_LE(m.offset + m.data.size(), ar.size()) << size;
  }
  // Long-name and BSD-name fields that point outside their tables.
  for (const std::string name : {"/999999999", "/18446744073709551615", "#1/999999", "#1/-5", "/"}) {
    Bytes ar = ar_start();
    add_member(ar, "//", Bytes{'a', '/', '\n'});
    add_member(ar, name, Bytes(8, 'x'));
    std::vector<std::string> problems;
    auto members = read_archive(ByteView(ar.data(), ar.size()), problems);
    if (members)
      for (const auto& m : *members) EXPECT_LE(m.offset + m.data.size(), ar.size()) << name;
  }
}

TEST(Hostile, ArchivesNestedInArchives) {
  Bytes inner = ar_start();
  add_member(inner, "real.o/", read_bytes(fixture("second_sm90.o")));
  for (int depth = 0; depth < 200; ++depth) {
    Bytes outer = ar_start();
    add_member(outer, "nested.a/", inner);
    inner = std::move(outer);
  }
  FileScan s = scan(inner);
  EXPECT_EQ(s.format, FileFormat::kArchive);
  EXPECT_EQ(s.members.size(), 1u);  // members that are archives are listed, not descended into
}

}  // namespace
}  // namespace smwatch
