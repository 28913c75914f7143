// `cuobjdump --list-elf --list-ptx`, line for line (smscan --list).
#include "smwatch/report.h"

#include <fmt/format.h>

#include <filesystem>

#include "smwatch/text.h"

namespace smwatch {

void print_cuobjdump_list(std::ostream& out, const FileScan& file) {
  // cuobjdump names images "<stem>.<n>.<arch>.cubin|ptx", counting ELF and PTX
  // images separately through the whole file; a bare cubin is "<stem>.<arch>.cubin".
  namespace fs = std::filesystem;
  // A zip member is named by its own file name, as cuobjdump names the extracted file.
  const fs::path path(file.zip_member.empty() ? file.path : file.zip_member);
  const std::string stem = path.filename().stem().string();
  size_t elf = 0, ptx = 0;
  auto print_images = [&](const FatbinContainer& c) {
    if (c.embedded) return;  // found outside the fatbin sections: cuobjdump does not list these
    for (const auto& img : c.images) {
      if (img.kind == CodeKind::kSass) {
        // The family suffix is not part of an ELF image's name (sm_100f SASS is plain sm_100 code).
        std::string arch = "sm_" + std::to_string(img.arch.number) +
                           (img.arch.variant == ArchVariant::kArchSpecific ? "a" : "");
        ++elf;
        if (file.format == FileFormat::kCubin)
          out << fmt::format("ELF file {:>4}: {}.{}.cubin\n", elf, printable(stem), arch);
        else
          out << fmt::format("ELF file {:>4}: {}.{}.{}.cubin\n", elf, printable(stem), elf, arch);
      } else if (img.kind == CodeKind::kPtx) {  // cuobjdump's lists leave LTO-IR out
        ++ptx;
        out << fmt::format("PTX file {:>4}: {}.{}.sm_{}{}.ptx\n", ptx, printable(stem), ptx, img.arch.number, img.arch.suffix());
      }
    }
  };
  if (file.format == FileFormat::kPtx) return;  // cuobjdump: "does not contain device code"
  if (file.format == FileFormat::kArchive) {
    const std::string abs = fs::absolute(path).lexically_normal().string();
    for (size_t m = 0; m < file.members.size(); ++m) {
      out << "\nmember " << printable(abs) << ":" << printable(file.members[m]) << ":\n";
      for (const auto& c : file.containers)
        if (c.member_index == static_cast<int>(m)) print_images(c);
    }
    return;
  }
  for (const auto& c : file.containers) print_images(c);
}

}  // namespace smwatch
