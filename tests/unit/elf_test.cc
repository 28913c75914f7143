// ElfSections / ElfImage (smwatch/elf.h), the one ELF64 section-table reader
// of cubins, streamed wheel members and the shim: hand-made files, cut and
// bent until every check has said no, and the same fatbin sections as libelf
// on every fixture.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include <string>
#include <vector>

#include "smwatch/elf.h"
#include "smwatch/elf_file.h"
#include "test_support.h"

namespace smwatch {
namespace {

using test::put;

constexpr uint64_t kTableAt = 192;
constexpr std::string_view kNames("\0.shstrtab\0.nv_fatbin\0__nv_relfatbin\0.text\0", 43);

// An ELF64 file: [0] null, [1] .shstrtab at 64, [2] .nv_fatbin at 128 and
// [3] __nv_relfatbin at 144 (16 bytes each), [4] .text (NOBITS), the table
// at 192.
std::vector<uint8_t> make_elf() {
  std::vector<uint8_t> b(kTableAt + 5 * sizeof(Elf64_Shdr));
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_DYN;
  eh.e_shoff = kTableAt;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 5;
  eh.e_shstrndx = 1;
  put(b, 0, eh);
  std::memcpy(&b[64], kNames.data(), kNames.size());
  auto section = [&](int i, uint32_t name, uint32_t type, uint64_t offset, uint64_t size) {
    Elf64_Shdr s{};
    s.sh_name = name;
    s.sh_type = type;
    s.sh_offset = offset;
    s.sh_size = size;
    s.sh_addr = 0x1000 + offset;
    put(b, kTableAt + i * sizeof(Elf64_Shdr), s);
  };
  section(1, 1, SHT_STRTAB, 64, kNames.size());
  section(2, 11, SHT_PROGBITS, 128, 16);
  section(3, 22, SHT_PROGBITS, 144, 16);
  section(4, 37, SHT_NOBITS, 1 << 20, 1 << 20);
  return b;
}

ByteView view(const std::vector<uint8_t>& b) { return ByteView(b.data(), b.size()); }

Elf64_Ehdr& ehdr_of(std::vector<uint8_t>& b) { return *reinterpret_cast<Elf64_Ehdr*>(b.data()); }
Elf64_Shdr& shdr_of(std::vector<uint8_t>& b, int i) {
  return *reinterpret_cast<Elf64_Shdr*>(b.data() + kTableAt + i * sizeof(Elf64_Shdr));
}

TEST(Elf, ReadsTheSectionsOfAWellFormedFile) {
  const auto b = make_elf();
  auto elf = ElfImage::open(view(b));
  ASSERT_TRUE(elf) << elf.error().message;
  ASSERT_EQ(elf->sections().count(), 5);
  std::vector<std::string> names;
  for (uint16_t i = 0; i < elf->sections().count(); ++i) names.emplace_back(elf->section_name(elf->sections()[i]));
  EXPECT_EQ(names, (std::vector<std::string>{"", ".shstrtab", ".nv_fatbin", "__nv_relfatbin", ".text"}));
  auto fatbin = elf->contents(elf->sections()[2]);
  ASSERT_TRUE(fatbin);
  EXPECT_EQ(fatbin->data(), b.data() + 128);
  EXPECT_EQ(fatbin->size(), 16u);
  // NOBITS has no contents in the file, wherever it says it is.
  EXPECT_TRUE(elf->sections().fits(elf->sections()[4]));
  EXPECT_EQ(elf->contents(elf->sections()[4])->size(), 0u);
}

TEST(Elf, HeaderErrorsSayWhy) {
  auto b = make_elf();
  EXPECT_EQ(read_elf_header(ByteView(b.data(), 3)).error().message, "not an ELF file");
  EXPECT_EQ(read_elf_header(ByteView(b.data(), 63)).error().message, "ELF header truncated");
  b[EI_CLASS] = ELFCLASS32;
  EXPECT_EQ(read_elf_header(view(b)).error().message, "not a 64-bit little-endian ELF file");
  b[EI_CLASS] = ELFCLASS64;
  b[EI_DATA] = ELFDATA2MSB;
  EXPECT_EQ(read_elf_header(view(b)).error().message, "not a 64-bit little-endian ELF file");
  EXPECT_FALSE(ElfImage::open(view(b)));
}

TEST(Elf, TruncatedSectionTableIsAnError) {
  const auto b = make_elf();
  // Every cut inside the table: the file ends before its last entry.
  for (size_t size = kTableAt; size < b.size(); size += 8) {
    auto elf = ElfImage::open(ByteView(b.data(), size));
    ASSERT_FALSE(elf) << "cut at " << size;
    EXPECT_EQ(elf.error().message,
              fmt::format("ELF section header table (offset 0xc0, 5 entries) runs past the end ({} bytes)", size));
  }
  // The whole file is there, but the reader has fewer bytes of the table
  // (a stream or a short pread).
  auto eh = read_elf_header(view(b));
  ASSERT_TRUE(eh);
  EXPECT_FALSE(ElfSections::open(*eh, ByteView(b.data() + kTableAt, 5 * sizeof(Elf64_Shdr) - 1), b.size()));
  EXPECT_TRUE(ElfSections::open(*eh, ByteView(b.data() + kTableAt, 5 * sizeof(Elf64_Shdr)), b.size()));
}

TEST(Elf, TableOffsetsThatOverflowAreErrors) {
  auto b = make_elf();
  ehdr_of(b).e_shoff = UINT64_MAX - 100;
  EXPECT_FALSE(ElfImage::open(view(b)));
  ehdr_of(b).e_shoff = kTableAt;
  ehdr_of(b).e_shentsize = 40;
  auto elf = ElfImage::open(view(b));
  ASSERT_FALSE(elf);
  EXPECT_EQ(elf.error().message, "ELF section header size 40 (expected 64)");
}

TEST(Elf, SectionsPastTheEndAreFoundAndNamed) {
  auto b = make_elf();
  shdr_of(b, 2).sh_offset = b.size() - 8;  // 16 bytes from 8 before the end
  shdr_of(b, 3).sh_offset = UINT64_MAX - 4;
  auto elf = ElfImage::open(view(b));
  ASSERT_TRUE(elf) << elf.error().message;
  const ElfSections& sections = elf->sections();
  EXPECT_FALSE(sections.fits(sections[2]));
  EXPECT_FALSE(sections.fits(sections[3]));
  EXPECT_FALSE(elf->contents(sections[2]));
  EXPECT_FALSE(elf->contents(sections[3]));
  EXPECT_TRUE(sections.fits(sections[1]));
  EXPECT_EQ(elf_section_past_end(".nv_fatbin", sections[2], b.size()),
            "section .nv_fatbin (offset 0x1f8, 16 bytes) runs past the end of the file (512 bytes)");
}

TEST(Elf, NameIndexOutOfRange) {
  auto b = make_elf();
  ehdr_of(b).e_shstrndx = 5;
  auto elf = ElfImage::open(view(b));
  ASSERT_TRUE(elf);  // the table itself is fine
  auto names = elf->sections().names();
  ASSERT_FALSE(names);
  EXPECT_EQ(names.error().message, "ELF section name table index out of range");
  EXPECT_EQ(elf->section_name(elf->sections()[2]), "");
  ehdr_of(b).e_shstrndx = 1;
  ASSERT_TRUE(ElfImage::open(view(b))->sections().names());
}

TEST(Elf, NamesOutsideTheirTableAreEmpty) {
  auto b = make_elf();
  shdr_of(b, 2).sh_name = kNames.size();          // just past the table
  shdr_of(b, 3).sh_name = UINT32_MAX;             // far past it
  shdr_of(b, 1).sh_size = kNames.size() - 1;      // .text's name loses its NUL
  auto elf = ElfImage::open(view(b));
  ASSERT_TRUE(elf);
  EXPECT_EQ(elf->section_name(elf->sections()[2]), "");
  EXPECT_EQ(elf->section_name(elf->sections()[3]), "");
  EXPECT_EQ(elf->section_name(elf->sections()[4]), "");
  EXPECT_EQ(elf->section_name(elf->sections()[1]), ".shstrtab");
  EXPECT_EQ(elf_string(ByteView(kNames.data(), kNames.size()), 11), ".nv_fatbin");
  EXPECT_EQ(elf_string(ByteView(kNames.data(), kNames.size()), kNames.size()), "");
  // The name table's own extent is checked: past the end, no names at all.
  shdr_of(b, 1).sh_offset = b.size();
  EXPECT_EQ(ElfImage::open(view(b))->section_name(shdr_of(b, 1)), "");
}

TEST(Elf, NoSectionsIsNoError) {
  auto b = make_elf();
  ehdr_of(b).e_shnum = 0;
  ehdr_of(b).e_shoff = 0;  // no section table at all
  auto elf = ElfImage::open(view(b));
  ASSERT_TRUE(elf);
  EXPECT_EQ(elf->sections().count(), 0);
  EXPECT_FALSE(elf->sections().names());
}

TEST(Elf, ATableThatHoldsNoSectionIsAnError) {
  // e_shnum 0 with a table: the count is section 0's sh_size (extended
  // numbering); 0 there is no count at all (issue 24 item 10: read as "no
  // sections", a library's fatbins vanished).
  auto b = make_elf();
  const uint16_t count = ehdr_of(b).e_shnum;
  ehdr_of(b).e_shnum = 0;
  EXPECT_FALSE(ElfImage::open(view(b)));
  Elf64_Shdr first;
  std::memcpy(&first, b.data() + ehdr_of(b).e_shoff, sizeof first);
  first.sh_size = count;
  std::memcpy(b.data() + ehdr_of(b).e_shoff, &first, sizeof first);
  auto extended = ElfImage::open(view(b));
  ASSERT_TRUE(extended);
  EXPECT_EQ(extended->sections().count(), count);
}

TEST(Elf, CuobjdumpReadsNvFatbinElseRelfatbin) {
  using Sections = std::vector<ElfSection>;
  const Sections both{{"__nv_relfatbin", 1, 1}, {".nv_fatbin", 2, 1}, {"__nv_relfatbin", 3, 1}, {".nv_fatbin", 4, 1}};
  auto linked = sections_cuobjdump_reads(both);
  ASSERT_EQ(linked.size(), 2u);
  EXPECT_EQ(linked[0].offset, 2u);
  EXPECT_EQ(linked[1].offset, 4u);
  auto relocatable = sections_cuobjdump_reads(Sections{{"__nv_relfatbin", 1, 1}, {"__nv_relfatbin", 3, 1}});
  ASSERT_EQ(relocatable.size(), 2u);
  EXPECT_EQ(relocatable[1].offset, 3u);
  EXPECT_TRUE(sections_cuobjdump_reads(Sections{}).empty());
  EXPECT_TRUE(is_fatbin_section(".nv_fatbin"));
  EXPECT_TRUE(is_fatbin_section("__nv_relfatbin"));
  EXPECT_FALSE(is_fatbin_section(".nv_fatbin2"));
}

TEST(Elf, IdentifiesEveryKind) {
  auto kind_of = [](const std::string& name) {
    auto b = test::read_bytes(test::fixture(name));
    return identify(ByteView(b.data(), std::min<size_t>(b.size(), sizeof(Elf64_Ehdr))));
  };
  EXPECT_EQ(kind_of("sm80.so"), ByteKind::kHostElf);
  EXPECT_EQ(kind_of("kernels_sm80.o"), ByteKind::kHostElf);
  EXPECT_EQ(kind_of("sm80.cubin"), ByteKind::kCubin);
  EXPECT_EQ(kind_of("sm80.fatbin"), ByteKind::kFatbin);
  EXPECT_EQ(kind_of("libkernels.a"), ByteKind::kArchive);
  EXPECT_EQ(kind_of("sm80.ptx"), ByteKind::kOther);
  auto cubin = test::read_bytes(test::fixture("sm80.cubin"));
  EXPECT_EQ(identify(ByteView(cubin.data(), 8)), ByteKind::kHostElf);  // e_machine not yet seen
  EXPECT_EQ(identify(ByteView("!<thin>\n", 8)), ByteKind::kArchive);
  EXPECT_EQ(identify(ByteView("PK\x03\x04", 4)), ByteKind::kZip);
  EXPECT_EQ(identify(ByteView("PK\x05\x06", 4)), ByteKind::kZip);
  EXPECT_EQ(identify(ByteView("\x7f" "EL", 3)), ByteKind::kOther);
  EXPECT_EQ(identify(ByteView()), ByteKind::kOther);
}

// The view finds the same fatbin sections as libelf on every host fixture.
TEST(Elf, SameFatbinSectionsAsLibelf) {
  for (const char* name : {"sm80.so", "sm90a.so", "sm120.so", "multi.so", "family.so", "ptx80.so", "kernels_sm80.o",
                           "second_rdc.o", "second_sm90.o"}) {
    SCOPED_TRACE(name);
    auto b = test::read_bytes(test::fixture(name));
    auto expected = find_fatbin_sections(view(b));
    ASSERT_TRUE(expected) << expected.error().message;
    auto elf = ElfImage::open(view(b));
    ASSERT_TRUE(elf) << elf.error().message;
    std::vector<ElfSection> found;
    for (uint16_t i = 0; i < elf->sections().count(); ++i) {
      const Elf64_Shdr s = elf->sections()[i];
      const std::string_view section = elf->section_name(s);
      if (is_fatbin_section(section) && s.sh_type != SHT_NOBITS && elf->sections().fits(s))
        found.push_back({std::string(section), s.sh_offset, s.sh_size});
    }
    found = sections_cuobjdump_reads(std::move(found));
    ASSERT_FALSE(found.empty());
    ASSERT_EQ(found.size(), expected->size());
    for (size_t i = 0; i < found.size(); ++i) {
      EXPECT_EQ(found[i].name, (*expected)[i].name);
      EXPECT_EQ(found[i].offset, (*expected)[i].offset);
      EXPECT_EQ(found[i].size, (*expected)[i].size);
    }
  }
}

}  // namespace
}  // namespace smwatch
