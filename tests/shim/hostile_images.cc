// Hostile module images for the shim's tests: damaged copies of the
// fixtures' fatbins, cubins and PTX (truncated, bytes flipped, size fields
// overwritten), placed in memory so that they end right before a PROT_NONE
// guard page, before unmapped memory or before readable zeros, and loaded
// through the driver API (linked with -lcuda: the stand-in driver in CI).
//
//   hostile_images --fixtures DIR --mode guard
//       a fixed list of truncated images, each ending at a guard page, in
//       this process; prints one line per load with the driver's result.
//   hostile_images --fixtures DIR --mode random --count N [--seed S]
//       N mutated images; each batch runs in a forked child, and a child
//       killed by a signal counts as one crashed host (at the image after the
//       last one it finished); the run goes on from the next image. Prints
//       the counts and a digest of every driver result, so a run with and
//       without the shim can be compared.
#include <cuda.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr const char* kKernel = "_Z12scale_by_twoPfi";
const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

struct Seed {
  std::string name;
  std::vector<uint8_t> bytes;
  bool text = false;  // PTX: NUL-terminated
};

std::vector<Seed> load_seeds(const std::string& dir) {
  std::vector<Seed> seeds;
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    std::string ext = path.extension().string();
    if (ext != ".fatbin" && ext != ".cubin" && ext != ".ptx") continue;
    std::ifstream in(path, std::ios::binary);
    Seed s{path.filename().string(), {std::istreambuf_iterator<char>(in), {}}, ext == ".ptx"};
    if (s.text) s.bytes.push_back(0);
    if (!s.bytes.empty() && s.bytes.size() < (size_t{8} << 20)) seeds.push_back(std::move(s));
  }
  return seeds;
}

enum Placement { kGuard, kUnmapped, kSlack, kWrapperGuard, kPlacements };
const char* const kPlacementNames[] = {"guard", "unmapped", "slack", "wrapper+guard"};

// Memory holding `image` so that it ends exactly where the placement says.
struct Placed {
  uint8_t* map = nullptr;
  size_t map_size = 0;
  const void* pointer = nullptr;  // what the driver is given
  struct {
    int magic;
    int version;
    const void* data;
    void* filename;
  } wrapper{};

  Placed(const std::vector<uint8_t>& image, Placement placement) {
    size_t pages = (image.size() + kPage - 1) / kPage;
    if (pages == 0) pages = 1;
    // Behind the image: one page (PROT_NONE, or unmapped), or two pages of
    // zeros; then, for the last two, a PROT_NONE page, so that no reader
    // strays into whatever the next mapping is.
    map_size = (pages + (placement == kSlack ? 3 : placement == kUnmapped ? 2 : 1)) * kPage;
    void* m = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      perror("mmap");
      exit(3);
    }
    map = static_cast<uint8_t*>(m);
    uint8_t* at = map + pages * kPage - image.size();
    if (!image.empty()) std::memcpy(at, image.data(), image.size());
    if (placement == kGuard || placement == kWrapperGuard) mprotect(map + pages * kPage, kPage, PROT_NONE);
    if (placement == kUnmapped) {
      munmap(map + pages * kPage, kPage);
      mprotect(map + (pages + 1) * kPage, kPage, PROT_NONE);
    }
    if (placement == kSlack) mprotect(map + (pages + 2) * kPage, kPage, PROT_NONE);
    pointer = at;
    if (placement == kWrapperGuard) {
      wrapper = {static_cast<int>(0x466243B1), 1, at, nullptr};
      pointer = &wrapper;
    }
  }
  ~Placed() { munmap(map, map_size); }  // (a hole in the range is fine for munmap)
};

// Loads `pointer` through entry point `how` (0..2), looks up the fixtures'
// kernel when that worked, unloads. Returns (load result, lookup result).
std::pair<int, int> load_and_lookup(const void* pointer, int how) {
  int load_rc = 0, lookup_rc = -1;
  if (how == 2) {
    CUlibrary lib = nullptr;
    load_rc = cuLibraryLoadData(&lib, pointer, nullptr, nullptr, 0, nullptr, nullptr, 0);
    if (load_rc == CUDA_SUCCESS) {
      CUkernel k = nullptr;
      lookup_rc = cuLibraryGetKernel(&k, lib, kKernel);
      cuLibraryUnload(lib);
    }
  } else {
    CUmodule mod = nullptr;
    load_rc = how == 0 ? cuModuleLoadData(&mod, pointer) : cuModuleLoadFatBinary(&mod, pointer);
    if (load_rc == CUDA_SUCCESS) {
      CUfunction f = nullptr;
      lookup_rc = cuModuleGetFunction(&f, mod, kKernel);
      cuModuleUnload(mod);
    }
  }
  return {load_rc, lookup_rc};
}

struct Rng {
  uint64_t state;
  uint64_t next() {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

struct Case {
  std::vector<uint8_t> image;
  Placement placement;
  int how;
  std::string what;
};

// Image `index` of a random run: a function of (seed, index) only.
Case make_case(const std::vector<Seed>& seeds, uint64_t seed, uint64_t index) {
  Rng rng{seed * 1000003 + index};
  const Seed& base = seeds[rng.below(seeds.size())];
  Case c;
  c.image = base.bytes;
  c.placement = static_cast<Placement>(rng.below(kPlacements));
  c.how = static_cast<int>(rng.below(3));
  auto& b = c.image;
  const size_t mutation = rng.below(8);
  switch (mutation) {
    case 0: b.resize(1 + rng.below(b.size() - 1 ? b.size() - 1 : 1)); break;  // truncated anywhere
    case 1: b.resize(1 + rng.below(std::min<size_t>(b.size(), 256))); break;    // truncated in the headers
    case 2:                                                                    // a few bytes anywhere
      for (size_t k = 1 + rng.below(8); k > 0; --k) b[rng.below(b.size())] ^= static_cast<uint8_t>(1 + rng.below(255));
      break;
    case 3:  // a few bytes in the headers
      for (size_t k = 1 + rng.below(4); k > 0; --k)
        b[rng.below(std::min<size_t>(b.size(), 128))] ^= static_cast<uint8_t>(1 + rng.below(255));
      break;
    case 4: {  // a size or offset field overwritten with an interesting value
      const uint64_t values[] = {0, 1, 0x7FFFFFFF, 0xFFFFFFFF, ~uint64_t{0}, b.size(), b.size() * 2, b.size() + 64,
                                 uint64_t{1} << 40};
      size_t at = rng.below(std::min<size_t>(b.size(), 256)) & ~size_t{3};
      uint64_t v = values[rng.below(std::size(values))];
      size_t width = rng.below(2) ? 8 : 4;
      if (at + width <= b.size()) std::memcpy(&b[at], &v, width);
      break;
    }
    case 5:  // the fatbin header's size of its entries, or the ELF section table offset, made larger
      if (b.size() >= 16) {
        uint64_t v;
        std::memcpy(&v, &b[8], 8);
        v += 1 + rng.below(4 * kPage);
        std::memcpy(&b[8], &v, 8);
      }
      if (b.size() >= 0x40) {
        uint64_t v;
        std::memcpy(&v, &b[0x28], 8);
        if (rng.below(2)) v += 1 + rng.below(4 * kPage);
        std::memcpy(&b[0x28], &v, 8);
      }
      break;
    case 6:  // truncated and damaged
      b.resize(1 + rng.below(b.size()));
      b[rng.below(b.size())] ^= 0xFF;
      break;
    default:  // PTX without its terminating NUL; other images unchanged
      if (base.text) b.pop_back();
      break;
  }
  if (b.empty()) b.push_back(0);
  c.what = base.name + " mutation " + std::to_string(mutation) + " size " + std::to_string(b.size()) + " " +
           kPlacementNames[c.placement] + " entry " + std::to_string(c.how);
  return c;
}

int random_mode(const std::vector<Seed>& seeds, uint64_t count, uint64_t seed) {
  std::map<std::pair<int, int>, uint64_t> results;
  uint64_t digest = 1469598103934665603ull, crashed = 0, next = 0;
  while (next < count) {
    int fds[2];
    if (pipe(fds) != 0) return 3;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      cuInit(0);
      for (uint64_t i = next; i < count; ++i) {
        Case c = make_case(seeds, seed, i);
        auto [load_rc, lookup_rc] = [&] {
          Placed placed(c.image, c.placement);
          return load_and_lookup(placed.pointer, c.how);
        }();
        int32_t msg[3] = {static_cast<int32_t>(i), load_rc, lookup_rc};
        if (write(fds[1], msg, sizeof msg) != sizeof msg) _exit(4);
      }
      _exit(0);
    }
    close(fds[1]);
    int32_t msg[3];
    int64_t last = static_cast<int64_t>(next) - 1;
    while (read(fds[0], msg, sizeof msg) == sizeof msg) {
      last = msg[0];
      ++results[{msg[1], msg[2]}];
      for (int32_t v : msg) digest = (digest ^ static_cast<uint32_t>(v)) * 1099511628211ull;
    }
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
      uint64_t bad = static_cast<uint64_t>(last + 1);
      ++crashed;
      printf("CRASH %s at image %llu: %s\n",
             WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "nonzero exit", (unsigned long long)bad,
             bad < count ? make_case(seeds, seed, bad).what.c_str() : "?");
      digest = (digest ^ 0xDEAD) * 1099511628211ull;
      next = bad + 1;
    } else {
      next = count;
    }
  }
  printf("images=%llu crashed=%llu\n", (unsigned long long)count, (unsigned long long)crashed);
  for (const auto& [rc, n] : results) printf("load rc=%d lookup rc=%d: %llu\n", rc.first, rc.second, (unsigned long long)n);
  printf("results digest %016llx\n", (unsigned long long)digest);
  return 0;
}

int guard_mode(const std::vector<Seed>& seeds) {
  cuInit(0);
  for (const Seed& seed : seeds) {
    std::vector<size_t> lengths = {4, 16, 17, 24, 32, 48, 64, 80, 100, 128, 200, 256, 400, 1000};
    lengths.push_back(seed.bytes.size() / 2);
    lengths.push_back(seed.bytes.size() - 1);
    lengths.push_back(seed.bytes.size());
    for (size_t length : lengths) {
      if (length == 0 || length > seed.bytes.size()) continue;
      std::vector<uint8_t> image(seed.bytes.begin(), seed.bytes.begin() + static_cast<long>(length));
      for (int how = 0; how < 3; ++how) {
        Placed placed(image, kGuard);
        auto [load_rc, lookup_rc] = load_and_lookup(placed.pointer, how);
        printf("%s first %zu bytes at a guard page, entry %d: load rc=%d lookup rc=%d\n", seed.name.c_str(), length,
               how, load_rc, lookup_rc);
      }
    }
  }
  printf("survived\n");
  return 0;
}

const char* arg(int argc, char** argv, const char* name, const char* fallback = nullptr) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const char* dir = arg(argc, argv, "--fixtures");
  std::string mode = arg(argc, argv, "--mode", "random");
  if (!dir) {
    fprintf(stderr, "usage: %s --fixtures DIR [--mode guard|random] [--count N] [--seed S]\n", argv[0]);
    return 2;
  }
  std::vector<Seed> seeds = load_seeds(dir);
  if (seeds.empty()) {
    fprintf(stderr, "no fatbin, cubin or ptx fixtures in %s\n", dir);
    return 2;
  }
  if (mode == "guard") return guard_mode(seeds);
  return random_mode(seeds, strtoull(arg(argc, argv, "--count", "2000"), nullptr, 10),
                     strtoull(arg(argc, argv, "--seed", "1"), nullptr, 10));
}
