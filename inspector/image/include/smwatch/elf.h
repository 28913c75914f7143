// ELF64 section tables, checked against the bytes a reader has of the file:
// the one set of layout rules for cubins in memory (cubin.cc), ELF members of
// wheels read as a stream (files/zip.cc) and the objects the shim finds
// loaded, read with pread (shim/src/image_reader.cc). Host files on disk are
// read with libelf (files/elf_file.cc says why) and share the fatbin-section
// rule below. The structs are glibc's <elf.h>; nothing here opens a file.
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smwatch/bytes.h"
#include "smwatch/result.h"

namespace smwatch {

bool looks_like_elf(ByteView bytes);  // the ELF magic, any class

// The sections that hold fatbin containers.
inline constexpr std::string_view kFatbinSection = ".nv_fatbin";         // linked device code
inline constexpr std::string_view kRelFatbinSection = "__nv_relfatbin";  // objects built with -rdc
inline bool is_fatbin_section(std::string_view name) { return name == kFatbinSection || name == kRelFatbinSection; }

// Of a file's fatbin sections (anything with a `name`), in file order, the
// ones cuobjdump reads: the .nv_fatbin sections when there is one, else the
// __nv_relfatbin ones.
template <typename Section>
std::vector<Section> sections_cuobjdump_reads(std::vector<Section> sections) {
  const bool linked = std::any_of(sections.begin(), sections.end(),
                                  [](const Section& s) { return s.name == kFatbinSection; });
  std::erase_if(sections, [&](const Section& s) { return s.name != (linked ? kFatbinSection : kRelFatbinSection); });
  return sections;
}

// The file header from the first bytes of a file: ELF magic, complete,
// 64-bit little-endian. Errors say which.
Result<Elf64_Ehdr> read_elf_header(ByteView head);

// The NUL-terminated string at `offset` of a string table's bytes; "" when it
// is not there whole.
std::string_view elf_string(ByteView table, uint64_t offset);

// The problem with a section whose contents run past the end of the file.
std::string elf_section_past_end(std::string_view name, const Elf64_Shdr& s, uint64_t file_size);

// A section header table. Extended numbering is read (e_shnum 0 with a table:
// the count is section 0's sh_size; e_shstrndx SHN_XINDEX: the name table is
// section 0's sh_link), up to 65,535 sections; a table that does not read
// (a count of 0 or past the end, a name table index that is 0, out of range
// or not a string table) is an error, never "no sections".
class ElfSections {
 public:
  // How many bytes of the file from e_shoff on open() needs: e_shnum entries;
  // under extended numbering, the first entry until it is known
  // (`first_entry`, the bytes at e_shoff), then the count it holds.
  static uint64_t table_size(const Elf64_Ehdr& ehdr, ByteView first_entry = {});
  // `table`: what the caller has of the file from e_shoff on; `file_size`:
  // the whole file's, which every section is checked against.
  static Result<ElfSections> open(const Elf64_Ehdr& ehdr, ByteView table, uint64_t file_size);

  uint16_t count() const { return count_; }
  Elf64_Shdr operator[](uint16_t i) const;  // i < count()
  uint16_t names_index() const { return names_index_; }
  // The header of the section name table; an error when it is not one.
  Result<Elf64_Shdr> names() const;
  // Whether a section's contents lie inside the file (SHT_NOBITS has none).
  bool fits(const Elf64_Shdr& s) const {
    return s.sh_type == SHT_NOBITS || (s.sh_offset <= file_size_ && s.sh_size <= file_size_ - s.sh_offset);
  }

 private:
  ElfSections(ByteView table, uint16_t count, uint16_t names_index, uint64_t file_size)
      : table_(table), count_(count), names_index_(names_index), file_size_(file_size) {}
  ByteView table_;
  uint16_t count_, names_index_;
  uint64_t file_size_;
};

// An ELF64 image wholly in memory (a cubin): its header, sections and their
// contents.
class ElfImage {
 public:
  static Result<ElfImage> open(ByteView bytes);
  const Elf64_Ehdr& header() const { return ehdr_; }
  const ElfSections& sections() const { return sections_; }
  // The section's bytes (empty for SHT_NOBITS); nothing when they run past the end.
  std::optional<ByteView> contents(const Elf64_Shdr& s) const;
  // A string at `offset` in string table section `index`; "" when not there.
  std::string_view string(uint32_t index, uint64_t offset) const;
  std::string_view section_name(const Elf64_Shdr& s) const { return string(sections_.names_index(), s.sh_name); }

 private:
  ElfImage(ByteView bytes, const Elf64_Ehdr& ehdr, ElfSections sections)
      : bytes_(bytes), ehdr_(ehdr), sections_(sections) {}
  ByteView bytes_;
  Elf64_Ehdr ehdr_;
  ElfSections sections_;
};

// What a file or a buffer holds, from its first bytes: the one sniffing of
// the formats smwatch reads. 8 bytes tell whether it may hold device code;
// a cubin is told from host ELF by e_machine, at byte 18. PTX text is told by
// its content or name, which the callers have.
enum class ByteKind : uint8_t { kOther, kFatbin, kCubin, kHostElf, kArchive, kZip };
ByteKind identify(ByteView head);

inline constexpr std::string_view kArMagic = "!<arch>\n";
inline constexpr std::string_view kThinArMagic = "!<thin>\n";

}  // namespace smwatch
