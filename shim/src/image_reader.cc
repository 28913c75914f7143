#include "image_reader.h"

#include "smwatch/device_code.h"
#include "shim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>

#include "smwatch/cubin.h"
#include "smwatch/decompress.h"
#include "smwatch/elf.h"
#include "smwatch/ptx.h"

namespace smwatch::shim {
namespace {

constexpr size_t kMaxImage = size_t{4} << 30;

// How many bytes from p on (up to n) this process can read, for images
// outside any loaded object, e.g. on the heap. The kernel answers: one
// process_vm_readv on our own pid copies one byte of every page and stops at
// the first page it cannot read (unmapped, a PROT_NONE guard page,
// write-only), with EFAULT instead of a fault. (mincore, used before, only
// says whether a mapping exists, so a guard page passed as readable and the
// shim crashed its host on an image that ends next to one.) Where the call is
// refused (a seccomp filter), nothing is taken as readable: the shim then
// reports less, it never reads blind.
size_t readable_by_probe(const void* p, size_t n) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(p), end = start + n;
  if (n == 0 || end < start) return 0;
  constexpr size_t kBatch = 256;  // pages per call (IOV_MAX is 1024)
  struct iovec remote[kBatch];
  char sink[kBatch];
  uintptr_t next = start;
  bool top = false;  // the last page of the address space was probed
  while (next < end && !top) {
    size_t count = 0;
    while (count < kBatch && next < end && !top) {
      remote[count++] = {reinterpret_cast<void*>(next), 1};
      uintptr_t following = (next & ~(page - 1)) + page;
      top = following < next;
      next = following;
    }
    struct iovec local = {sink, count};
    ssize_t got = process_vm_readv(getpid(), &local, 1, remote, count, 0);
    if (got < 0) got = 0;  // EFAULT on the first page, or the call is refused
    if (static_cast<size_t>(got) < count) return reinterpret_cast<uintptr_t>(remote[got].iov_base) - start;
  }
  return n;
}

struct SegmentQuery {
  uintptr_t address;
  uintptr_t end = 0;  // end of the readable segment holding `address`
};

// The end of the readable PT_LOAD segment of a loaded object that holds p.
uintptr_t readable_segment_end(const void* p) {
  SegmentQuery q{reinterpret_cast<uintptr_t>(p)};
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        auto* q = static_cast<SegmentQuery*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_R)) continue;
          uintptr_t start = info->dlpi_addr + ph.p_vaddr, end = start + ph.p_memsz;
          if (q->address >= start && q->address < end) {
            q->end = end;
            return 1;
          }
        }
        return 0;
      },
      &q);
  return q.end;
}

// How many bytes from p may be read, up to `wanted`.
size_t readable(const void* p, size_t wanted) {
  if (uintptr_t end = readable_segment_end(p)) return std::min<size_t>(wanted, end - reinterpret_cast<uintptr_t>(p));
  return readable_by_probe(p, wanted);
}

// `known_end`: where the bytes from p on are the shim's own (a file read
// into a buffer), so readable without asking; nullptr for memory of the host.
void parse_bytes(LoadedImage& out, const uint8_t* p, size_t available, const uint8_t* known_end = nullptr) {
  auto readable = [known_end](const uint8_t* at, size_t wanted) {
    if (known_end) return at < known_end ? std::min<size_t>(wanted, static_cast<size_t>(known_end - at)) : size_t{0};
    return shim::readable(at, wanted);
  };
  ByteView head(p, std::min<size_t>(available, 64));
  const ByteKind kind = identify(head);
  if (kind == ByteKind::kFatbin) {
    auto entries = head.read<uint64_t>(8);
    size_t want = entries ? std::min<uint64_t>(*entries + kFatbinHeaderSize, kMaxImage) : available;
    size_t have = readable(p, want);
    if (have < want) out.problems.push_back("fatbin extends past readable memory; read what is there");
    out.base = p;
    out.size = have;
    out.containers = parse_fatbin_region(ByteView(p, have), 0, out.problems);
  } else if (kind == ByteKind::kCubin) {
    auto extent = elf_extent(ByteView(p, readable(p, 64)));
    size_t want = extent ? std::min<uint64_t>(*extent, kMaxImage) : 64;
    size_t have = readable(p, want);
    auto container = single_image_container(ByteView(p, have), CodeKind::kSass, true);
    out.base = p;
    out.size = have;
    if (!container) {
      out.problems.push_back(container.error().message);
      return;
    }
    out.containers.push_back(std::move(*container));
  } else {
    // PTX text, NUL-terminated: find its end one readable page at a time.
    size_t length = 0;
    const size_t step = 4096;
    while (length < kMaxImage) {
      size_t have = readable(p + length, step);
      if (have == 0) break;
      const void* nul = std::memchr(p + length, 0, have);
      if (nul) {
        length = static_cast<const uint8_t*>(nul) - p;
        break;
      }
      length += have;
    }
    auto container = single_image_container(ByteView(p, length), CodeKind::kPtx, true);
    out.base = p;
    out.size = length;
    if (!container) {
      out.problems.push_back("image is neither fatbin, cubin nor PTX (" + container.error().message + ")");
      return;
    }
    out.containers.push_back(std::move(*container));
  }
}

// The [sh_addr, sh_addr + sh_size) ranges of the fatbin sections of the ELF
// file open as `fd` (the ones cuobjdump reads: .nv_fatbin, else
// __nv_relfatbin), through the inspector's ElfSections: a few KB read with
// pread, nothing mapped, every size checked.
std::vector<std::pair<uint64_t, uint64_t>> fatbin_section_ranges(int fd, bool& absolute) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  struct stat st {};
  uint8_t head[sizeof(Elf64_Ehdr)];
  if (fstat(fd, &st) != 0 || pread(fd, head, sizeof head, 0) != static_cast<ssize_t>(sizeof head)) return ranges;
  auto eh = read_elf_header(ByteView(head, sizeof head));
  if (!eh || eh->e_shnum == 0 || eh->e_shnum >= 4096) return ranges;
  absolute = eh->e_type == ET_EXEC;
  std::vector<uint8_t> table(ElfSections::table_size(*eh));
  if (pread(fd, table.data(), table.size(), static_cast<off_t>(eh->e_shoff)) != static_cast<ssize_t>(table.size()))
    return ranges;
  auto sections = ElfSections::open(*eh, ByteView(table.data(), table.size()), static_cast<uint64_t>(st.st_size));
  if (!sections) return ranges;
  auto names = sections->names();
  if (!names) return ranges;
  std::vector<uint8_t> strings(std::min<uint64_t>(names->sh_size, 1 << 16));
  if (pread(fd, strings.data(), strings.size(), static_cast<off_t>(names->sh_offset)) !=
      static_cast<ssize_t>(strings.size()))
    return ranges;
  struct Named {
    std::string_view name;
    uint64_t start, end;
  };
  std::vector<Named> fatbins;
  for (uint16_t i = 0; i < sections->count(); ++i) {
    const Elf64_Shdr s = (*sections)[i];
    const std::string_view name = elf_string(ByteView(strings.data(), strings.size()), s.sh_name);
    if (is_fatbin_section(name)) fatbins.push_back({name, s.sh_addr, s.sh_addr + s.sh_size});
  }
  for (const Named& f : sections_cuobjdump_reads(std::move(fatbins))) ranges.emplace_back(f.start, f.end);
  return ranges;
}

// Guards object_sections' cache; held across fork (image_reader_fork).
std::mutex g_sections_lock;

struct Sections {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // empty when none
  bool absolute = false;  // ET_EXEC: addresses are not relative to the load base
};

// The fatbin sections of the loaded object `info` names, read once per object.
Sections object_sections(const Dl_info& info) {
  static auto* cache = new std::map<std::string, Sections>;  // never destroyed: used until exit
  std::lock_guard<std::mutex> guard(g_sections_lock);
  auto it = cache->find(info.dli_fname);
  if (it != cache->end()) return it->second;
  Sections sections;
  int fd = ::open(info.dli_fname, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    sections.ranges = fatbin_section_ranges(fd, sections.absolute);
    ::close(fd);
  }
  cache->emplace(info.dli_fname, sections);
  return sections;
}

// Whether p lies in a fatbin section of the loaded object holding it.
bool in_fatbin_section(const void* p) {
  Dl_info info{};
  if (!dladdr(p, &info) || info.dli_fname == nullptr || info.dli_fbase == nullptr) return false;
  const Sections sections = object_sections(info);
  const uint64_t at =
      reinterpret_cast<uintptr_t>(p) - (sections.absolute ? 0 : reinterpret_cast<uintptr_t>(info.dli_fbase));
  for (const auto& [start, end] : sections.ranges)
    if (at >= start && at < end) return true;
  return false;
}

// Fills in the kernel names of every image from `all`, the bytes the
// image's offsets count from.
void read_names_in(LoadedImage& image, ByteView all) {
  for (auto& container : image.containers) {
    for (auto& img : container.images) {
      if (img.kernels_read) continue;
      auto payload = image_payload(all, img);
      if (!payload) continue;
      read_image_kernels(img, *payload, image.problems);
    }
  }
}

}  // namespace

LoadedImage read_image_in_memory(const void* image) {
  LoadedImage out;
  if (image == nullptr || readable(image, 16) < 16) {
    out.problems.push_back("image pointer is not readable memory");
    return out;
  }
  auto p = static_cast<const uint8_t*>(image);
  uint32_t magic;
  std::memcpy(&magic, p, 4);
  if (magic == kFatbinWrapperMagic && readable(p, 16) == 16) {
    // struct { int magic; int version; const void* data; void* filename; }
    const void* data;
    std::memcpy(&data, p + 8, sizeof data);
    if (data == nullptr || readable(data, 16) < 16) {
      out.problems.push_back("fatbin wrapper points at unreadable memory");
      return out;
    }
    p = static_cast<const uint8_t*>(data);
  }
  out.object = object_of(p);
  out.in_fatbin_section = !out.object.empty() && in_fatbin_section(p);
  parse_bytes(out, p, readable(p, 64));
  // Heap images may be freed as soon as the load returns: read names now.
  if (out.object.empty()) read_kernel_names(out);
  return out;
}

// Reads a file like smscan does: with pread into memory of our own, never
// mapped (a mapping of a file that another process cuts raises SIGBUS in
// the host), and only a regular file, opened O_NONBLOCK (a FIFO or a device
// the driver has already read could block the open, or the read, forever).
LoadedImage read_image_file(const char* path) {
  LoadedImage out;
  const std::string name = path ? path : "(null)";
  auto refuse = [&](const std::string& why) {
    out.problems.push_back("cannot read " + name + ": " + why);
    return out;
  };
  struct stat named {}, st {};
  if (!path || ::stat(path, &named) != 0) return refuse(path ? std::strerror(errno) : "no path");
  // Checked on the name first, so that nothing else (a FIFO, a device) is even opened.
  if (!S_ISREG(named.st_mode)) return refuse("not a regular file");
  int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return refuse(std::strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != named.st_dev || st.st_ino != named.st_ino) {
    ::close(fd);
    return refuse("replaced while opened");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxImage) {
    ::close(fd);
    return refuse("larger than 4 GiB");
  }
  std::vector<uint8_t> bytes;
  try {
    bytes.resize(static_cast<size_t>(st.st_size));
  } catch (const std::bad_alloc&) {
    ::close(fd);
    return refuse("no memory for " + std::to_string(st.st_size) + " bytes");
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done == 0) return refuse(bytes.empty() ? "empty" : "cut to nothing while read");
  if (done < bytes.size()) out.problems.push_back(name + " became shorter while read; read what was there");
  const uint8_t* data = bytes.data();
  parse_bytes(out, data, done, data + done);
  read_names_in(out, ByteView(data, done));
  out.base = nullptr;  // the buffer goes away here; every name is read
  out.size = 0;
  return out;
}

ObjectCode read_object_code(const void* address) {
  ObjectCode out;
  Dl_info info{};
  if (!address || !dladdr(address, &info) || info.dli_fname == nullptr || info.dli_fbase == nullptr) return out;
  out.path = info.dli_fname;
  const Sections sections = object_sections(info);
  for (const auto& [start, end] : sections.ranges) {
    const auto* p = reinterpret_cast<const uint8_t*>(start + (sections.absolute ? 0 : reinterpret_cast<uintptr_t>(info.dli_fbase)));
    const size_t want = std::min<uint64_t>(end - start, kMaxImage);
    const size_t have = readable(p, want);
    if (have < want) out.problems.push_back("fatbin section extends past readable memory; read what is there");
    auto found = parse_fatbin_region(ByteView(p, have), 0, out.problems);
    for (auto& c : found) out.containers.push_back(std::move(c));
  }
  return out;
}

void read_kernel_names(LoadedImage& image) {
  // The object may have been unloaded since: check the mapping again.
  if (image.base == nullptr || readable(image.base, image.size) < image.size) return;
  read_names_in(image, ByteView(image.base, image.size));
}

void image_reader_fork(ForkStage stage) {
  switch (stage) {
    case ForkStage::kPrepare: g_sections_lock.lock(); break;
    case ForkStage::kParent: g_sections_lock.unlock(); break;
    case ForkStage::kChild: new (&g_sections_lock) std::mutex; break;
  }
}

}  // namespace smwatch::shim
