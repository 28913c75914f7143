// smscan against hostile input, round three (issue 24, items 6-11): a search
// that went quadratic, files that are not regular files where a regular file
// was expected, names that multiplied memory, section tables that read as
// "nothing to run", and package records that claimed other packages' files.
// Each test failed before its fix (the commit that added it says how).
#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "smwatch/archive.h"
#include "smwatch/elf.h"
#include "smwatch/fatbin.h"
#include "smwatch/packages.h"
#include "smwatch/scan.h"
#include "smwatch/zip.h"
#include "embedded_oracle.h"  // fuzz/
#include "test_support.h"
#include "../packages/zip_writer.h"

namespace smwatch {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using nlohmann::json;
using test::fixture;
using test::put;
using test::read_bytes;
using test::scratch_dir;
using test::write_bytes;

using SmscanRun = test::CommandResult;
// smscan ARGS... (no shell), killed after `timeout` seconds, with its peak RSS.
SmscanRun smscan(const std::vector<std::string>& args, int timeout = 60) { return test::run_smscan(args, timeout); }

// ---------------------------------------------------------------------------
// Item 6: the search for containers in a library's data sections.

Bytes elf_with_data(const Bytes& data) { return oracle::elf_with_data(data.data(), data.size()); }

// One 80-byte link of a chain: a container header (declaring `entries`
// bytes) and an sm_80 entry header whose 16-byte payload is the next link's
// container header, so the entry chain runs from link to link.
void add_link(Bytes& b, uint64_t entries) {
  const size_t at = b.size();
  put<uint32_t>(b, at, kFatbinMagic);
  put<uint16_t>(b, at + 4, 1);
  put<uint16_t>(b, at + 6, 16);
  put<uint64_t>(b, at + 8, entries);
  put<uint16_t>(b, at + 16, 2);   // ELF
  put<uint32_t>(b, at + 20, 64);  // header size
  put<uint64_t>(b, at + 24, 16);  // payload size
  put<uint32_t>(b, at + 44, 80);  // sm_80
  put<uint64_t>(b, at + 56, 0x11);
  b.resize(at + 80);
}

// `links` links whose every container claims the rest of the section and
// 8 bytes more: each walk passes every entry after it and then fails, so
// trying each start with a walk of its own costs links^2 entry reads.
Bytes chained_links(size_t links) {
  Bytes b;
  for (size_t i = 0; i < links; ++i) add_link(b, (links - i) * 80 - 16 + 8);
  b.resize(b.size() + 8, 0);
  return b;
}

using oracle::embedded;
using oracle::Found;
Found embedded_by_definition(const Bytes& data, uint64_t base) {
  return oracle::by_definition(ByteView(data.data(), data.size()), base);
}

TEST(ScanSafety, EmbeddedContainerSearchIsLinear) {
  // 2 MB of chained links took 53-79 s, in memory and from a file alike.
  const Bytes elf = elf_with_data(chained_links((size_t{2} << 20) / 80));
  const std::string path = scratch_dir("chain") + "/libchain.so";
  write_bytes(path, elf);
  for (bool from_file : {false, true}) {
    const auto start = std::chrono::steady_clock::now();
    const FileScan scan = from_file ? scan_file(path, {}) : scan_bytes(ByteView(elf.data(), elf.size()), path, {});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 10.0) << (from_file ? "file" : "memory");
    EXPECT_TRUE(scan.containers.empty());
    EXPECT_TRUE(scan.problems.empty()) << scan.problems.front();
  }
}

TEST(ScanSafety, EmbeddedContainerSearchFindsWhatEachWalkFinds) {
  // Sections mixing real containers, links of chains whose declared ends
  // land on an entry, past it, or on another link, random bytes and zeros:
  // the search finds exactly what walking each start would.
  const Bytes real = read_bytes(fixture("sm80.fatbin"));
  ASSERT_GT(real.size(), 80u);
  std::mt19937 rng(24);
  size_t found_total = 0;
  for (int round = 0; round < 300; ++round) {
    Bytes data;
    const int pieces = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < pieces; ++i) {
      switch (rng() % 5) {
        case 0:
          data.insert(data.end(), real.begin(), real.end());
          break;
        case 1:
        case 2: {  // a link claiming 1 to 8 links' worth, give or take 8 bytes
          const uint64_t links = 1 + rng() % 8;
          const int64_t off = static_cast<int64_t>(rng() % 3) * 8 - 8;
          add_link(data, static_cast<uint64_t>(static_cast<int64_t>(links * 80 - 16) + off));
          break;
        }
        case 3:
          for (int k = 0; k < 8 * static_cast<int>(1 + rng() % 8); ++k) data.push_back(static_cast<uint8_t>(rng()));
          break;
        default:
          data.resize(data.size() + 8 * (1 + rng() % 4), 0);
      }
      while (data.size() % 8) data.push_back(0);
    }
    data.resize(data.size() + 80, 0);
    const Bytes elf = elf_with_data(data);
    const auto expected = embedded_by_definition(data, 64);
    found_total += expected.size();
    const FileScan scan = scan_bytes(ByteView(elf.data(), elf.size()), "mixed.so", {});
    ASSERT_EQ(embedded(scan), expected) << "round " << round;
  }
  EXPECT_GT(found_total, 300u);  // the rounds did hold containers to find
}

TEST(ScanSafety, StreamedLibrariesFindTheEmbeddedContainersAFileScanFinds) {
  // Data sections of real containers, random bytes and zeros, in a library
  // read from a zip as a stream in 4 KiB pieces (as a wheel's or a container
  // image's large libraries are): the containers found outside the fatbin
  // sections, their section's name, the note and the problems are those of a
  // scan of the whole file. (Not chain links: the stream skips the bytes a
  // container whose walk fails declares, where the file scan searches on.)
  const Bytes real = read_bytes(fixture("sm80.fatbin"));
  const std::string zip_path = scratch_dir("streamed-embedded") + "/libmixed.zip";
  std::mt19937 rng(22);
  size_t found_total = 0;
  for (int round = 0; round < 60; ++round) {
    Bytes data;
    const int pieces = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < pieces; ++i) {
      switch (rng() % 3) {
        case 0:
          data.insert(data.end(), real.begin(), real.end());
          break;
        case 1:
          for (int k = 0; k < 8 * static_cast<int>(1 + rng() % 600); ++k) data.push_back(static_cast<uint8_t>(rng()));
          break;
        default:
          data.resize(data.size() + 8 * (1 + rng() % 600), 0);
      }
      while (data.size() % 8) data.push_back(0);
    }
    data.resize(data.size() + 80, 0);
    const Bytes elf = elf_with_data(data);
    const FileScan file = scan_bytes(ByteView(elf.data(), elf.size()), "libmixed.so", {});
    const auto expected = embedded_by_definition(data, 64);
    ASSERT_EQ(embedded(file), expected) << "round " << round;
    found_total += expected.size();
    write_zip(zip_path, {{"libmixed.so", elf}});
    ZipLimits limits;
    limits.stream_above = 0;
    limits.chunk = 4096;
    for (bool search : {true, false}) {
      ScanOptions options;
      options.embedded = search;  // false: --list, the fatbin sections only
      const ZipScan zip = scan_zip(zip_path, options, limits);
      EXPECT_TRUE(zip.self.problems.empty()) << zip.self.problems.front();
      if (!search || expected.empty()) {
        EXPECT_TRUE(zip.members.empty() || zip.members[0].containers.empty()) << "round " << round;
        continue;
      }
      ASSERT_EQ(zip.members.size(), 1u) << "round " << round;
      const FileScan& m = zip.members[0];
      EXPECT_EQ(embedded(m), expected) << "round " << round;
      for (const auto& c : m.containers) EXPECT_EQ(c.section, ".data");
      EXPECT_EQ(m.notes, file.notes);
      EXPECT_EQ(m.problems, file.problems);
    }
  }
  EXPECT_GT(found_total, 60u);  // the rounds did hold containers to find
}

// ---------------------------------------------------------------------------
// Items 7 and 11: the files of installed distributions.

std::string make_site(const std::string& name) {
  const std::string site = scratch_dir(name) + "/lib/python3.11/site-packages";
  fs::create_directories(site);
  return site;
}

void write_dist(const std::string& site, const std::string& dir, const std::string& metadata,
                const std::string& record) {
  fs::create_directories(site + "/" + dir);
  if (!metadata.empty()) std::ofstream(site + "/" + dir + "/METADATA") << metadata;
  if (!record.empty()) std::ofstream(site + "/" + dir + "/RECORD") << record;
}

TEST(ScanSafety, DistInfoFilesThatAreNotRegularFilesAreRefused) {
  const std::string site = make_site("special-dist-info");
  fs::create_directories(site + "/good");
  fs::copy_file(fixture("sm80.so"), site + "/good/libgood.so");
  // A FIFO RECORD blocked the scan forever; so did a FIFO METADATA.
  write_dist(site, "a_fifo_record-1.0.dist-info", "Name: a\nVersion: 1.0\n", "");
  ASSERT_EQ(mkfifo((site + "/a_fifo_record-1.0.dist-info/RECORD").c_str(), 0600), 0);
  write_dist(site, "b_fifo_metadata-1.0.dist-info", "", "x,,\n");
  ASSERT_EQ(mkfifo((site + "/b_fifo_metadata-1.0.dist-info/METADATA").c_str(), 0600), 0);
  // Links to /dev/zero: 4-6 GB and growing.
  write_dist(site, "c_zero_record-1.0.dist-info", "Name: c\nVersion: 1.0\n", "");
  fs::create_symlink("/dev/zero", site + "/c_zero_record-1.0.dist-info/RECORD");
  write_dist(site, "d_zero_metadata-1.0.dist-info", "", "y,,\n");
  fs::create_symlink("/dev/zero", site + "/d_zero_metadata-1.0.dist-info/METADATA");
  // The package whose file is scanned, after them in order.
  write_dist(site, "good-2.0.dist-info", "Name: good\nVersion: 2.0\n", "good/libgood.so,,\n");

  const SmscanRun r = smscan({"--json", "-t", "sm_80", site}, 30);
  ASSERT_FALSE(r.timed_out) << "smscan blocked on a RECORD or METADATA that is not a regular file";
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.peak_rss_kb, 256 * 1024) << "read an endless file";
  for (const char* refused : {"a_fifo_record-1.0.dist-info/RECORD", "c_zero_record-1.0.dist-info/RECORD"})
    EXPECT_NE(r.err.find(std::string(refused) + ": not a regular file"), std::string::npos) << r.err;
  const json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  ASSERT_EQ(doc["files"].size(), 1u);
  EXPECT_EQ(doc["files"][0]["package"]["name"], "good");
  // Without METADATA, the name comes from the directory, as before.
  PackageIndex index;
  std::vector<std::string> problems;
  index.add_site_packages(site, problems);
  EXPECT_EQ(index.size(), 3u);  // b, d and good; a and c have no RECORD to read
}

TEST(ScanSafety, RecordPathsOutsideSitePackagesClaimNothing) {
  const std::string site = make_site("record-escape");
  fs::create_directories(site + "/torch/lib");
  fs::copy_file(fixture("sm80.so"), site + "/torch/lib/libtorch_cuda.so");
  const std::string lib = site + "/torch/lib/libtorch_cuda.so";
  // "aaa" sorts first; its RECORD names torch's library by "../" and by an
  // absolute path (the first claim used to win: torch's library was aaa's).
  write_dist(site, "aaa-1.0.dist-info", "Name: aaa\nVersion: 1.0\n",
             "../site-packages/torch/lib/libtorch_cuda.so,,\n" + lib + ",,\n../../../bin/aaa,,\n");
  write_dist(site, "torch-2.5.1.dist-info", "Name: torch\nVersion: 2.5.1\n", "torch/lib/libtorch_cuda.so,,\n");
  PackageIndex index;
  std::vector<std::string> problems;
  index.add_site_packages(site, problems);
  const Distribution* owner = index.owner_of(lib);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->name, "torch");
  EXPECT_TRUE(index.claimants_of(lib).empty());

  // A plain relative path in another RECORD: a double claim, noted, and the
  // file attributed to neither.
  write_dist(site, "bbb-1.0.dist-info", "Name: bbb\nVersion: 1.0\n", "torch/lib/libtorch_cuda.so,,\n");
  PackageIndex twice;
  twice.add_site_packages(site, problems);
  EXPECT_EQ(twice.owner_of(lib), nullptr);
  EXPECT_EQ(twice.claimants_of(lib), (std::vector<Distribution>{{"bbb", "1.0"}, {"torch", "2.5.1"}}));
  const SmscanRun r = smscan({"--json", "-t", "sm_80", site}, 60);
  const json doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  ASSERT_EQ(doc["files"].size(), 1u);
  const json& file = doc["files"][0];
  EXPECT_TRUE(!file.contains("package") || file["package"].is_null()) << file;
  ASSERT_TRUE(doc["files"][0].contains("notes"));
  EXPECT_NE(doc["files"][0]["notes"][0].get<std::string>().find("bbb 1.0, torch 2.5.1"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Item 8: a wheel that is not a regular file by the time it is opened.

// scan_zip(path) in a child that is killed after 10 s: whether it returned,
// and its zip's read error.
std::pair<bool, std::string> scan_zip_in_child(const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) return {false, "pipe"};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(10);
    const ZipScan zip = scan_zip(path, {});
    const std::string& why = zip.self.read_error;
    (void)!write(fds[1], why.data(), why.size());
    _exit(0);
  }
  close(fds[1]);
  std::string why;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) why.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, why};
}

TEST(ScanSafety, WheelThatIsNotARegularFileIsRefusedWithoutBlocking) {
  const std::string dir = scratch_dir("wheel-swap");
  // The walk saw a regular file; a FIFO took its name before scan_zip.
  ASSERT_EQ(mkfifo((dir + "/swapped-1.0-py3-none-any.whl").c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", dir + "/zero-1.0-py3-none-any.whl");
  // /proc files claim size 0 and read on: pagemap would give 256 GB; kmsg
  // (as root) blocks.
  fs::create_symlink("/proc/self/pagemap", dir + "/pagemap-1.0-py3-none-any.whl");
  std::vector<std::string> wheels = {"swapped", "zero", "pagemap"};
  if (geteuid() == 0) {
    fs::create_symlink("/proc/kmsg", dir + "/kmsg-1.0-py3-none-any.whl");
    wheels.push_back("kmsg");
  }
  for (const auto& w : wheels) {
    const auto [returned, why] = scan_zip_in_child(dir + "/" + w + "-1.0-py3-none-any.whl");
    EXPECT_TRUE(returned) << w << ": scan_zip blocked";
    EXPECT_FALSE(why.empty()) << w;
  }
  EXPECT_NE(scan_zip_in_child(dir + "/swapped-1.0-py3-none-any.whl").second.find("not a regular file"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// Item 9: GNU long names in static archives.

void add_member(Bytes& a, const std::string& name, const Bytes& data) {
  char header[61];
  std::snprintf(header, sizeof header, "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name.c_str(), "0", "0", "0", "644",
                data.size());
  a.insert(a.end(), header, header + 60);
  a.insert(a.end(), data.begin(), data.end());
  if (data.size() % 2) a.push_back('\n');
}

TEST(ScanSafety, LongNameTableIsNotCopiedForEachMember) {
  // A 1 MB "//" table of one unterminated name, and 3,000 members naming
  // it: 1.18 MB that copied 3 GB of names and aborted.
  Bytes a(kArMagic.begin(), kArMagic.end());
  add_member(a, "//", Bytes(size_t{1} << 20, 'n'));
  for (int i = 0; i < 3000; ++i) add_member(a, "/0", Bytes{'x', 'y'});
  const std::string path = scratch_dir("long-names") + "/libnames.a";
  write_bytes(path, a);

  std::vector<std::string> problems;
  auto members = read_archive(ByteView(a.data(), a.size()), problems);
  ASSERT_TRUE(members);
  ASSERT_EQ(members->size(), 3000u);
  size_t names = 0;
  for (const auto& m : *members) names += m.name.size();
  EXPECT_LE(names, a.size() * 2) << "names must stay proportional to the file";
  EXPECT_EQ((*members)[0].name.substr(0, 4), "nnnn");

  const SmscanRun r = smscan({"--json", "-t", "sm_80", path}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  EXPECT_LT(r.peak_rss_kb, 256 * 1024);  // a sanitizer runtime's quarantine and shadow add to it (the bug: 4.4 GB)
#else
  EXPECT_LT(r.peak_rss_kb, 128 * 1024);
#endif
}

// ---------------------------------------------------------------------------
// Item 10: section tables that do not read are damage, not "nothing to run".

struct Edit {
  const char* what;
  std::function<void(Bytes&, const Elf64_Ehdr&)> apply;
};

template <typename T>
void poke(Bytes& b, uint64_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

std::vector<Edit> broken_section_tables() {
  const uint64_t shnum_at = offsetof(Elf64_Ehdr, e_shnum), shstrndx_at = offsetof(Elf64_Ehdr, e_shstrndx);
  auto section0 = [](const Elf64_Ehdr& e, size_t field) { return e.e_shoff + field; };
  return {
      {"e_shnum 0, extended count 0xffffffff",
       [=](Bytes& b, const Elf64_Ehdr& e) {
         poke<uint16_t>(b, shnum_at, 0);
         poke<uint64_t>(b, section0(e, offsetof(Elf64_Shdr, sh_size)), 0xffffffff);
       }},
      {"e_shnum 0, extended count 0",
       [=](Bytes& b, const Elf64_Ehdr&) { poke<uint16_t>(b, shnum_at, 0); }},
      {"SHN_XINDEX, link to itself",
       [=](Bytes& b, const Elf64_Ehdr& e) {
         poke<uint16_t>(b, shstrndx_at, SHN_XINDEX);
         poke<uint32_t>(b, section0(e, offsetof(Elf64_Shdr, sh_link)), 0);
       }},
      {"SHN_XINDEX, link out of range",
       [=](Bytes& b, const Elf64_Ehdr& e) {
         poke<uint16_t>(b, shstrndx_at, SHN_XINDEX);
         poke<uint32_t>(b, section0(e, offsetof(Elf64_Shdr, sh_link)), 0xfffffff);
       }},
      {"section names index not a string table",
       [=](Bytes& b, const Elf64_Ehdr&) { poke<uint16_t>(b, shstrndx_at, 1); }},
  };
}

TEST(ScanSafety, BrokenSectionTablesAreDamage) {
  const Bytes original = read_bytes(fixture("sm80.so"));
  Elf64_Ehdr ehdr;
  std::memcpy(&ehdr, original.data(), sizeof ehdr);
  const std::string dir = scratch_dir("broken-sections");
  write_bytes(dir + "/original.so", original);
  ASSERT_EQ(smscan({"-t", "sm_120", dir + "/original.so"}).exit_code, 1);  // sm_80 only: FAIL on sm_120
  for (const auto& edit : broken_section_tables()) {
    Bytes b = original;
    edit.apply(b, ehdr);
    const std::string path = dir + "/lib.so";
    write_bytes(path, b);
    const SmscanRun r = smscan({"-t", "sm_120", path}, 60);
    EXPECT_EQ(r.exit_code, 2) << edit.what << ":\n" << r.out << r.err;
    // The same member in a wheel, streamed (the shared section-table reader).
    const std::string whl = dir + "/broken-1.0-py3-none-any.whl";
    {
      archive* w = archive_write_new();
      archive_write_set_format_zip(w);
      archive_write_open_filename(w, whl.c_str());
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, "broken/lib.so");
      archive_entry_set_size(e, static_cast<la_int64_t>(b.size()));
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_write_header(w, e);
      archive_write_data(w, b.data(), b.size());
      archive_entry_free(e);
      archive_write_close(w);
      archive_write_free(w);
    }
    for (uint64_t stream_above : {uint64_t{16} << 20, uint64_t{0}}) {
      ZipLimits limits;
      limits.stream_above = stream_above;
      const ZipScan zip = scan_zip(whl, {}, limits);
      ASSERT_EQ(zip.members.size(), 1u) << edit.what << (stream_above ? "" : ", streamed");
      EXPECT_FALSE(zip.members[0].problems.empty()) << edit.what << (stream_above ? "" : ", streamed");
    }
  }
}

TEST(ScanSafety, ValidExtendedSectionNumberingStillReads) {
  // The same library with its count and name index moved into section 0,
  // as objects of 65,280+ sections have them: read as before.
  const Bytes original = read_bytes(fixture("sm80.so"));
  Elf64_Ehdr ehdr;
  std::memcpy(&ehdr, original.data(), sizeof ehdr);
  Bytes b = original;
  poke<uint16_t>(b, offsetof(Elf64_Ehdr, e_shnum), 0);
  poke<uint16_t>(b, offsetof(Elf64_Ehdr, e_shstrndx), SHN_XINDEX);
  poke<uint64_t>(b, ehdr.e_shoff + offsetof(Elf64_Shdr, sh_size), ehdr.e_shnum);
  poke<uint32_t>(b, ehdr.e_shoff + offsetof(Elf64_Shdr, sh_link), ehdr.e_shstrndx);
  const FileScan before = scan_bytes(ByteView(original.data(), original.size()), "lib.so", {});
  const FileScan after = scan_bytes(ByteView(b.data(), b.size()), "lib.so", {});
  EXPECT_TRUE(after.problems.empty()) << after.problems.front();
  EXPECT_EQ(test::image_names(after), test::image_names(before));
  ASSERT_FALSE(before.containers.empty());
}

}  // namespace
}  // namespace smwatch
