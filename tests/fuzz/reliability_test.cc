// Reliability (issue: lying sizes, non-ASCII wheel members, escaping, write
// errors, files cut while read, damage the README promises to report). Each
// test here failed before its fix.
#include <gtest/gtest.h>
#include <lz4.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <zstd.h>

#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "smwatch/decompress.h"
#include "smwatch/fatbin.h"
#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

using Bytes = std::vector<uint8_t>;
using test::fixture;
using test::read_bytes;
using test::run_smscan;
using test::scratch_dir;
using test::write_bytes;

long max_rss_kb(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return u.ru_maxrss;
}

template <typename T>
void put(Bytes& b, size_t at, T v) {
  if (b.size() < at + sizeof v) b.resize(at + sizeof v);
  std::memcpy(&b[at], &v, sizeof v);
}

// A bare fatbin of one sm_80 ELF entry holding `payload`, compressed with
// `flag` (entry_flags), declaring `uncompressed` bytes.
Bytes one_entry_fatbin(const Bytes& payload, uint64_t flag, uint64_t uncompressed) {
  Bytes e(64, 0);
  put<uint16_t>(e, 0, 2);
  put<uint16_t>(e, 2, 0x0101);
  put<uint32_t>(e, 4, 64);
  put<uint64_t>(e, 8, (payload.size() + 7) & ~size_t{7});
  put<uint32_t>(e, 16, static_cast<uint32_t>(payload.size()));
  put<uint32_t>(e, 28, 80);
  put<uint64_t>(e, 40, 0x11 | flag);
  put<uint64_t>(e, 56, uncompressed);
  e.insert(e.end(), payload.begin(), payload.end());
  while (e.size() % 8) e.push_back(0);
  Bytes b;
  put<uint32_t>(b, 0, kFatbinMagic);
  put<uint16_t>(b, 4, 1);
  put<uint16_t>(b, 6, 16);
  put<uint64_t>(b, 8, e.size());
  b.insert(b.end(), e.begin(), e.end());
  return b;
}

Bytes random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = static_cast<uint8_t>(rng());
  return b;
}

// 40 KB of random data in a zstd frame that does not state its content size:
// 40 KB could expand to 1.3 GB by the format's best ratio, so a declared 1 GiB
// passes the ratio check.
Bytes zstd_without_content_size(const Bytes& data) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  Bytes out(ZSTD_compressBound(data.size()));
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  EXPECT_EQ(ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  out.resize(o.pos);
  return out;
}

// A complete zstd frame whose header states 1 GiB of content but whose one
// block holds a single byte: the frame's own size is as much a claim as the
// fatbin header's.
Bytes zstd_frame_claiming_1GiB() {
  Bytes f = {0x28, 0xB5, 0x2F, 0xFD, 0xA0};  // magic; single segment, 4-byte content size
  put<uint32_t>(f, 5, uint32_t{1} << 30);
  f.insert(f.end(), {0x09, 0x00, 0x00, 'x'});  // the last block: raw, 1 byte
  return f;
}

// LZ4 block of 4 MiB of random data (does not compress): 4 MiB at 255:1 could be 1 GiB.
Bytes lz4_of(const Bytes& data) {
  Bytes out(LZ4_compressBound(static_cast<int>(data.size())));
  out.resize(LZ4_compress_default(reinterpret_cast<const char*>(data.data()), reinterpret_cast<char*>(out.data()),
                                  static_cast<int>(data.size()), static_cast<int>(out.size())));
  return out;
}

// ---------------------------------------------------------------------------
// Item 4: decompression is sized by what the stream proves.

TEST(Reliability, LyingDeclaredSizesCostOnlyWhatTheDataHolds) {
  const long before = max_rss_kb();
  const uint64_t gib = uint64_t{1} << 30;
  struct Case {
    const char* what;
    Compression compression;
    Bytes stored;
  } cases[] = {
      {"zstd without content size", Compression::kZstd, zstd_without_content_size(random_bytes(40 << 10, 1))},
      {"zstd frame claiming 1 GiB", Compression::kZstd, zstd_frame_claiming_1GiB()},
      {"LZ4 of 4 MiB", Compression::kLz, lz4_of(random_bytes(4 << 20, 2))},
  };
  for (const auto& c : cases) {
    FatbinImage img;
    img.compression = c.compression;
    img.stored_size = img.payload_size = c.stored.size();
    img.uncompressed_size = gib;
    auto r = decompress_image(img, ByteView(c.stored.data(), c.stored.size()));
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.error().message.find("damaged"), std::string::npos) << c.what << ": " << r.error().message;
  }
  EXPECT_LT(max_rss_kb() - before, 96 * 1024) << "the declared size was allocated";
}

TEST(Reliability, SmscanReportsLyingSizesAsDamagedWithBoundedMemory) {
  const std::string dir = scratch_dir("lying");
  const Bytes data = random_bytes(40 << 10, 3);
  write_bytes(dir + "/zstd.fatbin",
              one_entry_fatbin(zstd_without_content_size(data), entry_flags::kCompressedZstd, uint64_t{1} << 30));
  write_bytes(dir + "/frame.fatbin",
              one_entry_fatbin(zstd_frame_claiming_1GiB(), entry_flags::kCompressedZstd, uint64_t{1} << 30));
  for (const char* mode : {"", "--kernels"}) {
    std::vector<std::string> args = {"-t", "sm_80", "-j", "2", dir};
    if (*mode) args.insert(args.begin(), mode);
    auto r = run_smscan(args);
    EXPECT_EQ(r.exit_code, 2) << mode << r.out << r.err;
    EXPECT_NE(r.err.find("zstd.fatbin: sm_80 image at offset"), std::string::npos) << mode << r.err;
    EXPECT_NE(r.err.find("frame.fatbin: sm_80 image at offset"), std::string::npos) << mode << r.err;
    EXPECT_NE(r.err.find("damaged"), std::string::npos) << mode << r.err;
  }
  EXPECT_LT(max_rss_kb(RUSAGE_CHILDREN), 128 * 1024) << "smscan allocated the declared sizes";
}

// ---------------------------------------------------------------------------
// Item 8: a report that cannot be written is an error.

struct Shell {
  int status;  // exit status, or -1 for a signal
  std::string err;
};
Shell sh(const std::string& command) {
  const std::string err = scratch_dir("sh") + "/err";
  const int status = std::system((command + " 2>'" + err + "'").c_str());
  std::ifstream in(err);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, {std::istreambuf_iterator<char>(in), {}}};
}

TEST(Reliability, SmscanFailsWhenStandardOutputCannotBeWritten) {
  const std::string smscan = std::string("'") + SMSCAN_PATH + "' --no-progress -t sm_80 ";
  for (const char* mode : {"", "--list", "--json", "--format markdown", "--kernels"}) {
    auto r = sh(smscan + mode + " '" + fixture("sm80.so") + "' >/dev/full");
    EXPECT_EQ(r.status, 2) << mode << ": " << r.err;
    EXPECT_NE(r.err.find("smscan: error: cannot write to standard output: No space left on device"),
              std::string::npos)
        << mode << ": " << r.err;
  }
  // And a report that was written still exits as before.
  EXPECT_EQ(sh(smscan + "'" + fixture("sm80.so") + "' >/dev/null").status, 0);
}

}  // namespace
}  // namespace smwatch
