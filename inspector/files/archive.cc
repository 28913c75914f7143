#include "smwatch/archive.h"

#include <fmt/format.h>

#include <charconv>

#include "smwatch/elf.h"

namespace smwatch {
namespace {

constexpr size_t kHeaderSize = 60;
// A member's name is a file name (ar stores the base name), so at most
// NAME_MAX bytes; longer names are cut. Every member's header is 60 bytes of
// the file, so the names kept stay proportional to the file: 3,000 members
// named "/0" into a 1 MB table of one name without its end once copied 3 GB.
constexpr size_t kMaxName = 255;

std::string capped_name(std::string_view name) {
  if (name.size() <= kMaxName) return std::string(name);
  return std::string(name.substr(0, kMaxName)) + "...";
}

std::string_view field(ByteView header, size_t at, size_t len) {
  std::string_view s = header.as_chars().substr(at, len);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

bool looks_like_archive(ByteView bytes) { return identify(bytes) == ByteKind::kArchive; }

Result<std::vector<ArchiveMember>> read_archive(ByteView bytes, std::vector<std::string>& problems) {
  if (bytes.starts_with(kThinArMagic)) return make_error("thin archive: its members live in other files; scan those");
  if (!bytes.starts_with(kArMagic)) return make_error("not an ar archive");
  std::vector<ArchiveMember> members;
  std::string_view long_names;
  uint64_t pos = kArMagic.size();
  while (pos < bytes.size()) {
    auto header = bytes.slice(pos, kHeaderSize);
    if (!header) {
      problems.push_back(fmt::format("archive member header at offset {:#x} is truncated", pos));
      break;
    }
    if (field(*header, 58, 2) != "`\n") {
      problems.push_back(fmt::format("archive member header at offset {:#x} is corrupt", pos));
      break;
    }
    uint64_t size = 0;
    std::string_view size_text = field(*header, 48, 10);
    auto parsed = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (parsed.ec != std::errc() || parsed.ptr != size_text.data() + size_text.size()) {
      problems.push_back(fmt::format("archive member at offset {:#x} has a bad size field", pos));
      break;
    }
    const uint64_t data_at = pos + kHeaderSize;
    if (!bytes.contains(data_at, size)) {
      problems.push_back(fmt::format("archive member at offset {:#x} declares {} bytes, past the end of the file",
                                     pos, size));
      break;
    }
    ByteView data = *bytes.slice(data_at, size);
    std::string name(field(*header, 0, 16));
    if (name == "/" || name == "/SYM64/" || name == "__.SYMDEF" || name == "__.SYMDEF SORTED") {
      // symbol index: no code
    } else if (name == "//") {
      long_names = data.as_chars();
    } else {
      if (name.size() > 1 && name[0] == '/') {  // GNU long name: "/offset" into the "//" member
        uint64_t at = 0;
        auto r = std::from_chars(name.data() + 1, name.data() + name.size(), at);
        if (r.ec != std::errc() || at >= long_names.size()) {
          problems.push_back(fmt::format("archive member at offset {:#x} names a missing long name", pos));
          name = fmt::format("member@{:#x}", pos);
        } else {
          std::string_view rest = long_names.substr(at, kMaxName + 1);  // a view: the table is not copied
          name = capped_name(rest.substr(0, rest.find_first_of("/\n")));
        }
      } else if (name.starts_with("#1/")) {  // BSD: the name precedes the data
        uint64_t len = 0;
        auto r = std::from_chars(name.data() + 3, name.data() + name.size(), len);
        if (r.ec != std::errc() || len > size) {
          problems.push_back(fmt::format("archive member at offset {:#x} has a bad BSD name", pos));
          break;
        }
        std::string_view bsd = data.as_chars().substr(0, len);
        name = capped_name(bsd.substr(0, bsd.find('\0')));
        data = data.tail(len);
      } else if (!name.empty() && name.back() == '/') {
        name.pop_back();
      }
      members.push_back({name, static_cast<uint64_t>(data.data() - bytes.data()), data});
    }
    pos = data_at + size + (size & 1);  // members are 2-byte aligned
  }
  return members;
}

}  // namespace smwatch
