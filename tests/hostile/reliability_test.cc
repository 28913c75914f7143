// Reliability (issue: lying sizes, non-ASCII wheel members, escaping, write
// errors, files cut while read, damage the README promises to report). Each
// test here failed before its fix.
#include <gtest/gtest.h>
#include <lz4.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <zstd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "smwatch/cubin.h"
#include "smwatch/decompress.h"
#include "smwatch/fatbin.h"
#include "smwatch/mapped_file.h"
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

using test::max_rss_kb;
using test::put;

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

// Peak RSS of one command, by itself, and its exit status. Measured by a
// small Python parent: a child forked straight from this test process would
// count the test's own pages (Linux keeps the high-water mark across exec).
std::pair<long, int> peak_rss_kb_of(const std::vector<std::string>& argv) {
  std::string cmd =
      "python3 -c 'import resource,subprocess,sys; r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,"
      "stderr=subprocess.DEVNULL).returncode; print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r)'";
  for (const auto& a : argv) cmd += " '" + a + "'";
  FILE* p = popen(cmd.c_str(), "r");
  long kb = -1;
  int status = -1;
  if (p != nullptr) {
    if (std::fscanf(p, "%ld %d", &kb, &status) != 2) kb = -1;
    pclose(p);
  }
  return {kb, status};
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
    args.insert(args.begin(), {SMSCAN_PATH, "--no-progress"});
    const auto [kb, status] = peak_rss_kb_of(args);
    EXPECT_EQ(status, 2) << mode;
    EXPECT_GT(kb, 0) << mode;
    EXPECT_LT(kb, 128 * 1024) << mode << ": smscan allocated the declared sizes";
  }
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

// ---------------------------------------------------------------------------
// Item 6: wheels with non-ASCII member names.

// A wheel written by Python's zipfile (UTF-8 names, flag bit 11), members given as (name, source file or text).
void python_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members) {
  std::string script = "import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)\n";
  for (const auto& [name, from] : members)
    script += from.starts_with("/") ? "z.write('" + from + "','" + name + "')\n" : "z.writestr('" + name + "','" + from + "')\n";
  script += "z.close()\n";
  const std::string py = scratch_dir("py") + "/make.py";
  std::ofstream(py) << script;
  ASSERT_EQ(std::system(("python3 '" + py + "' '" + path + "'").c_str()), 0);
}

TEST(Reliability, WheelMembersWithNonAsciiNamesAreRead) {
  const std::string dir = scratch_dir("utf8");
  const std::string whl = dir + "/pkg-1.0-py3-none-any.whl";
  python_zip(whl, {{"pkg/données.txt", "bonjour"},
                   {"pkg/données.so", fixture("sm80.so")},
                   {"pkg/ptx80.so", fixture("ptx80.so")},
                   {"pkg-1.0.dist-info/RECORD", ""}});
  for (const char* env : {"", "LC_ALL=C ", "LC_ALL=C.UTF-8 ", "LANG=fr_FR.UTF-8 LC_ALL= "}) {
    auto r = sh(std::string(env) + "'" + SMSCAN_PATH + "' --no-progress -t sm_80 '" + whl + "' >'" + dir + "/out'");
    std::ifstream in(dir + "/out");
    const std::string out{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(r.status, 0) << env << out << r.err;
    EXPECT_EQ(r.err, "") << env;
    EXPECT_NE(out.find(whl + "!pkg/données.so"), std::string::npos) << env << out;
    EXPECT_EQ(out.find("damaged"), std::string::npos) << env << out;
  }
}

// ---------------------------------------------------------------------------
// Item 12: damage the README promises to report (exit 2).

TEST(Reliability, ListExitsTwoOnDamagedFiles) {
  const std::string dir = scratch_dir("list");
  Bytes so = read_bytes(fixture("sm80.so"));
  so.resize(so.size() - 100);  // the section header table is at the end
  write_bytes(dir + "/cut.so", so);
  auto r = run_smscan({"--list", dir + "/cut.so"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("runs past the end"), std::string::npos) << r.err;
  EXPECT_EQ(run_smscan({"--list", fixture("sm80.so")}).exit_code, 0);
}

TEST(Reliability, CubinWithItsProgramHeadersCutOffIsDamaged) {
  const std::string dir = scratch_dir("cubin");
  Bytes cubin = read_bytes(fixture("sm80.cubin"));
  uint64_t phoff = 0, shoff = 0;
  uint16_t shnum = 0;
  std::memcpy(&phoff, &cubin[32], 8);
  std::memcpy(&shoff, &cubin[40], 8);
  std::memcpy(&shnum, &cubin[60], 2);
  ASSERT_GE(phoff, shoff + uint64_t{shnum} * 64) << "the fixture's program headers come last";
  cubin.resize(phoff + 56);  // one of three program headers left
  write_bytes(dir + "/cut.cubin", cubin);
  for (const char* mode : {"", "--kernels"}) {
    std::vector<std::string> args = {"-t", "sm_80", dir + "/cut.cubin"};
    if (*mode) args.insert(args.begin(), mode);
    auto r = run_smscan(args);
    EXPECT_EQ(r.exit_code, 2) << mode << r.out << r.err;
    EXPECT_NE(r.err.find("program header table"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run_smscan({"-t", "sm_80", fixture("sm80.cubin")}).exit_code, 0);
}

TEST(Reliability, StaticArchiveInsideAStaticArchiveIsANote) {
  const std::string dir = scratch_dir("ar");
  std::filesystem::copy_file(fixture("libkernels.a"), dir + "/libinner.a");
  std::filesystem::copy_file(fixture("kernels_sm80.o"), dir + "/k.o");
  ASSERT_EQ(std::system(("cd '" + dir + "' && ar rc libouter.a libinner.a k.o").c_str()), 0);
  auto r = run_smscan({"-t", "sm_80", dir + "/libouter.a"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nested archive skipped: libinner.a"), std::string::npos) << r.out;
  auto j = run_smscan({"--json", "-t", "sm_80", dir + "/libouter.a"});
  EXPECT_NE(j.out.find("nested archive skipped: libinner.a"), std::string::npos) << j.out;
}

TEST(Reliability, LibarchiveMessagesLoseTheirTrailingNewline) {
  const std::string dir = scratch_dir("zipnl");
  const std::string zip = dir + "/wrong-size.zip";
  python_zip(zip, {{"x.so", fixture("sm80.so")}});
  Bytes z = read_bytes(zip);
  // The member's uncompressed size, in its local header and in the central directory, one more than the data.
  auto bump = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, &z[at], 4);
    ++v;
    std::memcpy(&z[at], &v, 4);
  };
  bump(22);
  const std::string cd = "PK\x01\x02";
  auto it = std::search(z.begin(), z.end(), cd.begin(), cd.end());
  ASSERT_NE(it, z.end());
  bump(static_cast<size_t>(it - z.begin()) + 24);
  write_bytes(zip, z);
  auto r = run_smscan({"-t", "sm_80", zip});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("wrong size"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("\n\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(")\n\n"), std::string::npos) << r.err;
  const size_t at = r.out.find("wrong size");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.find(')', at), 2), ")\n") << "a blank line after the problem:\n" << r.out;
}

// ---------------------------------------------------------------------------
// Item 7: names from outside never reach the terminal, a Markdown comment or a
// page as controls.

// No byte or sequence a terminal acts on: ESC, BEL, raw or UTF-8 CSI, RLO.
void expect_no_controls(const std::string& text, const std::string& what) {
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find('\x9b'), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << what << ":\n" << text;
}

TEST(Reliability, ControlsInFileNamesAreEscapedInEveryOutput) {
  const std::string dir = scratch_dir("names");
  // ESC and a CSI, a raw 0x9B (the one-byte CSI), U+202E (right-to-left override), a newline.
  const std::string good = dir + "/a\x1b[31m\x9b" "2J\xe2\x80\xae" "gnp.\nfake.so";
  const std::string bad = dir + "/b\x1b]0;title\x07\x9b\xe2\x80\xae\n.so";
  write_bytes(good, read_bytes(fixture("sm80.so")));
  Bytes cut = read_bytes(fixture("sm80.so"));
  cut.resize(cut.size() - 100);
  write_bytes(bad, cut);
  const std::string html = dir + "/report.html", md = dir + "/report.md";
  auto table = run_smscan({"-t", "sm_80", "--html", html, "--markdown", md, dir});
  EXPECT_EQ(table.exit_code, 2) << table.err;
  expect_no_controls(table.out, "table");
  expect_no_controls(table.err, "stderr");
  EXPECT_NE(table.out.find("a\\x1b[31m\\x9b2J\\u{202e}gnp.\\x0afake.so"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("b\\x1b]0;title\\x07\\x9b\\u{202e}\\x0a.so: "), std::string::npos) << table.out;
  for (const auto& file : {html, md}) {
    std::ifstream in(file);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    expect_no_controls(text, file);
    EXPECT_NE(text.find("\\x9b"), std::string::npos) << text;
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--format", "markdown", "-t", "sm_80", dir}, {"--kernels", "-t", "sm_80", dir},
        {"--list", dir}}) {
    auto r = run_smscan(args);
    expect_no_controls(r.out, args[0]);
    expect_no_controls(r.err, args[0] + " stderr");
  }
  auto list = run_smscan({"--list", dir});
  EXPECT_NE(list.out.find("ELF file    1: a\\x1b[31m\\x9b2J\\u{202e}gnp.\\x0afake.1.sm_80.cubin"), std::string::npos)
      << list.out;
}

// ---------------------------------------------------------------------------
// Item 11: a file cut while smscan reads it.

// A file mapped, then cut to less than a page by another writer: reading the
// pages past its new end raised SIGBUS and killed the process. Now they read
// as zeros, and the file says it changed.
TEST(Reliability, ReadingAMappingPastACutIsNoSignal) {
  const std::string path = scratch_dir("cutmap") + "/f";
  write_bytes(path, Bytes(5 * 4096, 0xAB));
  auto mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok());
  EXPECT_FALSE(mapped->changed());
  ASSERT_EQ(::truncate(path.c_str(), 100), 0);
  const ByteView bytes = mapped->bytes();
  EXPECT_EQ(bytes.data()[50], 0xAB);
  EXPECT_EQ(bytes.data()[3 * 4096 + 7], 0);  // SIGBUS before
  EXPECT_EQ(bytes.data()[5 * 4096 - 1], 0);
  auto change = mapped->changed();
  ASSERT_TRUE(change.has_value());
  EXPECT_NE(change->find("20480 bytes when opened, 100 now"), std::string::npos) << *change;
  // Another mapping of the file, opened after the cut, is not affected.
  auto again = MappedFile::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes().size(), 100u);
  EXPECT_FALSE(again->changed());
}

// The same through the scanner: a PTX file cut between its mapping and its
// parse reads as zeros past the cut, and says it changed.
TEST(Reliability, ScanOfAMappingCutBeforeItIsReadIsNoSignal) {
  const std::string dir = scratch_dir("cutscan");
  const std::string path = dir + "/big.ptx";
  std::string text;
  {
    std::ifstream in(fixture("sm80.ptx"));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  while (text.size() < (1 << 20)) text += "// padding, padding, padding, padding, padding, padding, padding, padding\n";
  write_bytes(path, Bytes(text.begin(), text.end()));
  // Cut it as soon as the scanner has it mapped: from the progress callback
  // of a second scan thread would race, so cut by hand between open and read.
  auto mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok());
  ASSERT_EQ(::truncate(path.c_str(), 5000), 0);
  FileScan s = scan_bytes(mapped->bytes(), path, {});
  (void)s;  // zeros past the cut: whatever the parser makes of them, no signal
  EXPECT_TRUE(mapped->changed().has_value());
}

// Files of a tree cut while smscan scans it, again and again: smscan never
// dies of a signal (before: SIGBUS, exit 135, within the first runs), and
// always finishes its report; files it caught being cut are problems.
TEST(Reliability, TreeCutWhileScannedNeverKillsTheScan) {
  const std::string dir = scratch_dir("cuttree");
  std::string ptx;
  {
    std::ifstream in(fixture("sm80.ptx"));
    ptx.assign(std::istreambuf_iterator<char>(in), {});
  }
  while (ptx.size() < (2 << 20)) ptx += "// padding, padding, padding, padding, padding, padding, padding, padding\n";
  const Bytes so = read_bytes(fixture("sm80.so")), cubin = read_bytes(fixture("sm80.cubin"));
  constexpr int kFiles = 40, kRuns = 6;
  int cut_reported = 0;
  for (int run = 0; run < kRuns; ++run) {
    std::vector<std::pair<std::string, size_t>> files;
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = dir + "/f" + std::to_string(100 + i);
      if (i % 4 == 0) {
        write_bytes(name + ".so", so);
        files.push_back({name + ".so", so.size()});
      } else if (i % 4 == 1) {
        write_bytes(name + ".cubin", cubin);
        files.push_back({name + ".cubin", cubin.size()});
      } else {
        write_bytes(name + ".ptx", Bytes(ptx.begin(), ptx.end()));
        files.push_back({name + ".ptx", ptx.size()});
      }
    }
    // While smscan runs, files are cut to a third and grown back (as zeros), over and over.
    std::atomic<bool> done{false};
    test::CommandResult r;
    std::thread scanner([&] {
      r = run_smscan({"--json", "--kernels", "-t", "sm_80", "-j", "2", dir});
      done = true;
    });
    std::mt19937 rng(static_cast<unsigned>(run));
    while (!done) {
      const auto& [path, size] = files[rng() % files.size()];
      (void)!::truncate(path.c_str(), static_cast<off_t>(size / 3));
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
      (void)!::truncate(path.c_str(), static_cast<off_t>(size));
    }
    scanner.join();
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2)
        << "run " << run << ": smscan ended with " << r.exit_code << " (a signal?)\n" << r.err;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << "run " << run << ": no complete report";
    for (const auto& f : doc["files"])
      for (const auto& p : f.value("problems", nlohmann::json::array()))
        cut_reported += p.get<std::string>().find("changed size while") != std::string::npos;
  }
  std::printf("files reported as cut while read: %d\n", cut_reported);
}

// Issue 24, item 3: kernel names cost no more than the image. A cubin whose
// 20,000 kernel symbols name one long string (or different suffixes of it)
// was read into 20,000 copies of the name: a 630 KB file took smscan to
// 2.9 GB (bench/bench_names.sh). Shared names are one kernel, kept once;
// names that add up to more than the image are damage.
// A sanitizer runtime keeps freed memory in quarantine and adds its own: the
// plain build holds the bounds below, a sanitizer build twice them (the bugs
// they catch took gigabytes).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long kSanitizerRss = 2;
#else
constexpr long kSanitizerRss = 1;
#endif

TEST(Reliability, KernelNamesCostNoMoreThanTheImage) {
  const std::string dir = scratch_dir("names");
  const std::string same = dir + "/same.cubin", suffixes = dir + "/suffixes.cubin";
  for (const auto& [path, mode] : {std::pair{same, "same"}, std::pair{suffixes, "suffixes"}})
    ASSERT_EQ(std::system(("python3 '" MAKE_NAME_BOMB "' '" + path + "' 20000 20000 " + mode).c_str()), 0);
  const Bytes one = read_bytes(same);
  auto info = read_cubin(ByteView(one.data(), one.size()));
  ASSERT_TRUE(info) << info.error().message;
  size_t name_bytes = 0;
  for (const auto& k : info->kernels) name_bytes += k.size();
  EXPECT_LE(name_bytes, one.size());
  EXPECT_EQ(info->kernels.size(), 1u);
  const Bytes many = read_bytes(suffixes);
  auto damaged = read_cubin(ByteView(many.data(), many.size()));
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().message.find("kernel names take more than the image"), std::string::npos)
      << damaged.error().message;
  // smscan with and without --kernels: bounded memory; the suffixes file is damage.
  for (const char* mode : {"", "--kernels"}) {
    for (const auto& [path, status] : {std::pair{same, 0}, std::pair{suffixes, 2}}) {
      std::vector<std::string> args = {SMSCAN_PATH, "--no-progress", "-t", "sm_80", path};
      if (*mode) args.insert(args.begin() + 2, mode);
      const auto [kb, rc] = peak_rss_kb_of(args);
      EXPECT_EQ(rc, status) << mode << " " << path;
      EXPECT_LT(kb, kSanitizerRss * 64 * 1024) << mode << " " << path;
    }
  }
}

}  // namespace
}  // namespace smwatch
