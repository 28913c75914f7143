// A stand-in libcuda.so.1 for CI, where there is no GPU. It implements the
// subset of the driver API that the shim hooks and the test programs use,
// and decides like the real driver (with the inspector's rules) whether a
// module has an image for the compute capability the test sets in
// FAKE_CUDA_CC (default 90): lazy loading by default, load-time failure
// with CUDA_MODULE_LOADING=EAGER. It is a test double, never shipped.
#include <cuda.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "smwatch/cubin.h"
#include "smwatch/decompress.h"
#include "smwatch/fatbin.h"
#include "smwatch/ptx.h"

// cuda.h maps cuGetProcAddress to _v2; this file defines both names itself.
#undef cuGetProcAddress

#define API extern "C" __attribute__((visibility("default")))

namespace {

using namespace smwatch;

struct FakeModule {
  // (kernel, usable on this GPU?) for every image's kernels.
  std::vector<std::pair<std::string, bool>> kernels;
  bool any_usable = false;
};
struct FakeKernel {
  std::string name;
  std::atomic<uint64_t> launches{0};
};

std::mutex g_lock;
std::atomic<uint64_t> g_launch_plain{0}, g_launch_ptsz{0}, g_launch_ex{0}, g_launch_coop{0};
bool g_initialized = false;

uint16_t gpu_cc() {
  const char* cc = getenv("FAKE_CUDA_CC");
  return static_cast<uint16_t>(cc ? atoi(cc) : 90);
}
bool eager() {
  const char* mode = getenv("CUDA_MODULE_LOADING");
  return mode && std::strcmp(mode, "EAGER") == 0;
}

void add_image_kernels(FakeModule& m, ByteView bytes, CodeKind kind, Arch arch) {
  bool usable = usability(kind, arch, gpu_cc()) != Usability::kNone;
  std::vector<std::string> names;
  if (kind == CodeKind::kSass) {
    if (auto c = read_cubin(bytes)) names = c->kernels;
  } else {
    std::string_view text = bytes.as_chars();
    if (auto p = read_ptx(text.substr(0, text.find('\0')))) names = p->kernels;
  }
  for (auto& n : names) m.kernels.emplace_back(n, usable);
  if (!names.empty()) m.any_usable |= usable;
}

// How many bytes from p on (up to n) are readable: like a careful driver,
// the stand-in never reads an image past readable memory (it answers
// CUDA_ERROR_INVALID_IMAGE instead), so that a hostile image can crash only
// the shim, never the driver, in the shim's tests.
size_t readable(const void* p, size_t n) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  if (p == nullptr || start + n < start) return 0;
  for (uintptr_t at = start; at < start + n; at = (at & ~(page - 1)) + page) {
    char byte;
    struct iovec local = {&byte, 1}, remote = {reinterpret_cast<void*>(at), 1};
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != 1) return at - start;
  }
  return n;
}

CUresult parse_module(const void* image, size_t known_size, FakeModule& m) {
  auto p = static_cast<const uint8_t*>(image);
  if (!known_size && readable(p, 16) < 16) return CUDA_ERROR_INVALID_IMAGE;
  uint32_t magic;
  std::memcpy(&magic, p, 4);
  if (magic == kFatbinWrapperMagic) {
    std::memcpy(&p, p + 8, sizeof p);
    if (readable(p, 16) < 16) return CUDA_ERROR_INVALID_IMAGE;
    std::memcpy(&magic, p, 4);
  }
  if (magic == kFatbinMagic) {
    uint64_t entries;
    std::memcpy(&entries, p + 8, 8);
    if (entries > (uint64_t{1} << 32) || readable(p, kFatbinHeaderSize + entries) < kFatbinHeaderSize + entries)
      return CUDA_ERROR_INVALID_IMAGE;
    ByteView all(p, kFatbinHeaderSize + entries);
    std::vector<std::string> problems;
    auto containers = parse_fatbin_region(all, 0, problems);
    if (containers.empty()) return CUDA_ERROR_INVALID_IMAGE;
    // The driver loads one container per call.
    for (const auto& img : containers[0].images) {
      auto payload = image_payload(all, img);
      if (!payload) return CUDA_ERROR_INVALID_IMAGE;
      auto bytes = decompress_image(img, *payload);
      if (!bytes) return CUDA_ERROR_INVALID_IMAGE;
      add_image_kernels(m, ByteView(bytes->data(), bytes->size()), img.kind, img.arch);
    }
    return CUDA_SUCCESS;
  }
  ByteView head(p, known_size ? std::min<size_t>(known_size, 64) : readable(p, 64));
  if (looks_like_cubin(head)) {
    auto extent = elf_extent(head);
    if (!known_size && (!extent || *extent > (uint64_t{1} << 32) || readable(p, *extent) < *extent))
      return CUDA_ERROR_INVALID_IMAGE;
    ByteView bytes(p, known_size ? known_size : *extent);
    auto cubin = read_cubin(bytes);
    if (!cubin) return CUDA_ERROR_INVALID_IMAGE;
    add_image_kernels(m, bytes, CodeKind::kSass, cubin->arch);
    return CUDA_SUCCESS;
  }
  size_t length = known_size;
  if (!known_size) {
    // NUL-terminated text: no terminator before unreadable memory is an invalid image.
    const void* nul = nullptr;
    for (size_t have; !nul; length += have) {
      have = readable(p + length, 4096 - (reinterpret_cast<uintptr_t>(p + length) & 4095));
      if (have == 0) return CUDA_ERROR_INVALID_IMAGE;
      nul = std::memchr(p + length, 0, have);
      if (nul) have = static_cast<const uint8_t*>(nul) - (p + length);
    }
  }
  std::string_view text(reinterpret_cast<const char*>(p), length);
  auto ptx = read_ptx(text);
  if (!ptx) return CUDA_ERROR_INVALID_IMAGE;
  add_image_kernels(m, ByteView(text.data(), text.size()), CodeKind::kPtx, ptx->target);
  return CUDA_SUCCESS;
}

CUresult load(void** out, const void* image, size_t known_size) {
  if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (!out || !image) return CUDA_ERROR_INVALID_VALUE;
  auto* m = new FakeModule;
  CUresult r = parse_module(image, known_size, *m);
  if (r == CUDA_SUCCESS && eager() && !m->kernels.empty() && !m->any_usable) r = CUDA_ERROR_NO_BINARY_FOR_GPU;
  if (r != CUDA_SUCCESS) {
    delete m;
    return r;
  }
  *out = m;
  return CUDA_SUCCESS;
}

// Read to the end, not mapped: so that the stand-in itself lives through a
// file cut while it is read, and drains a FIFO, in the shim's tests.
CUresult load_file(void** out, const char* path) {
  int fd = path ? open(path, O_RDONLY) : -1;
  if (fd < 0) return CUDA_ERROR_FILE_NOT_FOUND;
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) bytes.insert(bytes.end(), buf, buf + n);
  close(fd);
  if (bytes.empty()) return CUDA_ERROR_INVALID_IMAGE;
  return load(out, bytes.data(), bytes.size());
}

CUresult get_kernel(void** out, void* module, const char* name) {
  if (!module || !name || !out) return CUDA_ERROR_INVALID_HANDLE;
  // Test hook: a name "fake_fail_<code>..." fails with that error code.
  if (std::strncmp(name, "fake_fail_", 10) == 0) return static_cast<CUresult>(atoi(name + 10));
  auto* m = static_cast<FakeModule*>(module);
  bool found = false, usable = false;
  for (const auto& [kernel, ok] : m->kernels)
    if (kernel == name) {
      found = true;
      usable |= ok;
    }
  if (!found) return CUDA_ERROR_NOT_FOUND;
  if (!usable) return CUDA_ERROR_NO_BINARY_FOR_GPU;
  auto* k = new FakeKernel;
  k->name = name;
  *out = k;
  return CUDA_SUCCESS;
}

CUresult launch(void* f, std::atomic<uint64_t>& counter) {
  // Test hook: an odd handle (never a real one) fails like a stale handle.
  if (!f || (reinterpret_cast<uintptr_t>(f) & 1)) return CUDA_ERROR_INVALID_HANDLE;
  static_cast<FakeKernel*>(f)->launches.fetch_add(1, std::memory_order_relaxed);
  counter.fetch_add(1, std::memory_order_relaxed);
  return CUDA_SUCCESS;
}

}  // namespace

API CUresult cuInit(unsigned) {
  g_initialized = true;
  return CUDA_SUCCESS;
}
API CUresult cuDriverGetVersion(int* v) {
  *v = 13000;
  return CUDA_SUCCESS;
}
API CUresult cuDeviceGetCount(int* n) {
  *n = 1;
  return g_initialized ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
}
API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
  if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
  *d = 0;
  return CUDA_SUCCESS;
}
API CUresult cuCtxGetDevice(CUdevice*) { return CUDA_ERROR_INVALID_CONTEXT; }  // no context: the shim asks device 0
API CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attr, CUdevice) {
  if (attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) *value = gpu_cc() / 10;
  else if (attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR) *value = gpu_cc() % 10;
  else return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}
API CUresult cuDeviceGetName(char* name, int len, CUdevice) {
  snprintf(name, static_cast<size_t>(len), "Fake GPU sm_%u", gpu_cc());
  return CUDA_SUCCESS;
}
API CUresult cuGetErrorName(CUresult r, const char** name) {
  switch (r) {
    case CUDA_SUCCESS: *name = "CUDA_SUCCESS"; return CUDA_SUCCESS;
    case CUDA_ERROR_NO_BINARY_FOR_GPU: *name = "CUDA_ERROR_NO_BINARY_FOR_GPU"; return CUDA_SUCCESS;
    case CUDA_ERROR_NOT_FOUND: *name = "CUDA_ERROR_NOT_FOUND"; return CUDA_SUCCESS;
    case CUDA_ERROR_INVALID_IMAGE: *name = "CUDA_ERROR_INVALID_IMAGE"; return CUDA_SUCCESS;
    case CUDA_ERROR_INVALID_HANDLE: *name = "CUDA_ERROR_INVALID_HANDLE"; return CUDA_SUCCESS;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}
API CUresult cuModuleLoad(CUmodule* m, const char* path) { return load_file(reinterpret_cast<void**>(m), path); }
API CUresult cuModuleLoadData(CUmodule* m, const void* image) { return load(reinterpret_cast<void**>(m), image, 0); }
API CUresult cuModuleLoadDataEx(CUmodule* m, const void* image, unsigned, CUjit_option*, void**) {
  return load(reinterpret_cast<void**>(m), image, 0);
}
API CUresult cuModuleLoadFatBinary(CUmodule* m, const void* image) { return load(reinterpret_cast<void**>(m), image, 0); }
API CUresult cuModuleUnload(CUmodule m) {
  delete reinterpret_cast<FakeModule*>(m);
  return CUDA_SUCCESS;
}
API CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
  return get_kernel(reinterpret_cast<void**>(f), m, name);
}
API CUresult cuLibraryLoadData(CUlibrary* lib, const void* code, CUjit_option*, void**, unsigned, CUlibraryOption*,
                               void**, unsigned) {
  return load(reinterpret_cast<void**>(lib), code, 0);
}
API CUresult cuLibraryLoadFromFile(CUlibrary* lib, const char* path, CUjit_option*, void**, unsigned, CUlibraryOption*,
                                   void**, unsigned) {
  return load_file(reinterpret_cast<void**>(lib), path);
}
API CUresult cuLibraryUnload(CUlibrary lib) {
  delete reinterpret_cast<FakeModule*>(lib);
  return CUDA_SUCCESS;
}
API CUresult cuLibraryGetKernel(CUkernel* k, CUlibrary lib, const char* name) {
  return get_kernel(reinterpret_cast<void**>(k), lib, name);
}
API CUresult cuKernelGetFunction(CUfunction* f, CUkernel k) {
  if (!k) return CUDA_ERROR_INVALID_HANDLE;
  *f = reinterpret_cast<CUfunction>(k);  // as CUDA 12 allows: a kernel handle works as a function
  return CUDA_SUCCESS;
}
#define LAUNCH_ARGS                                                                                         \
  CUfunction f, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream, void**, void**
API CUresult cuLaunchKernel(LAUNCH_ARGS) { return launch(f, g_launch_plain); }
API CUresult cuLaunchKernel_ptsz(LAUNCH_ARGS) { return launch(f, g_launch_ptsz); }
API CUresult cuLaunchKernelEx(const CUlaunchConfig*, CUfunction f, void**, void**) { return launch(f, g_launch_ex); }
API CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig*, CUfunction f, void**, void**) { return launch(f, g_launch_ex); }
#define COOP_ARGS CUfunction f, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream, void**
API CUresult cuLaunchCooperativeKernel(COOP_ARGS) { return launch(f, g_launch_coop); }
API CUresult cuLaunchCooperativeKernel_ptsz(COOP_ARGS) { return launch(f, g_launch_coop); }

// Test-only: how often each launch entry point was reached.
API void fake_cuda_launch_counts(uint64_t* plain, uint64_t* ptsz, uint64_t* ex, uint64_t* coop) {
  *plain = g_launch_plain;
  *ptsz = g_launch_ptsz;
  *ex = g_launch_ex;
  *coop = g_launch_coop;
}

API CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                                 CUdriverProcAddressQueryResult* status);
API CUresult cuGetProcAddress(const char* symbol, void** pfn, int version, cuuint64_t flags) {
  return cuGetProcAddress_v2(symbol, pfn, version, flags, nullptr);
}
API CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                                 CUdriverProcAddressQueryResult* status) {
  const bool per_thread = flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
  struct Entry { const char* name; void* fn; void* ptsz; };
  const Entry table[] = {
      {"cuInit", (void*)&cuInit, nullptr},
      {"cuDriverGetVersion", (void*)&cuDriverGetVersion, nullptr},
      {"cuDeviceGetCount", (void*)&cuDeviceGetCount, nullptr},
      {"cuDeviceGet", (void*)&cuDeviceGet, nullptr},
      {"cuDeviceGetAttribute", (void*)&cuDeviceGetAttribute, nullptr},
      {"cuDeviceGetName", (void*)&cuDeviceGetName, nullptr},
      {"cuCtxGetDevice", (void*)&cuCtxGetDevice, nullptr},
      {"cuGetErrorName", (void*)&cuGetErrorName, nullptr},
      {"cuModuleLoad", (void*)&cuModuleLoad, nullptr},
      {"cuModuleLoadData", (void*)&cuModuleLoadData, nullptr},
      {"cuModuleLoadDataEx", (void*)&cuModuleLoadDataEx, nullptr},
      {"cuModuleLoadFatBinary", (void*)&cuModuleLoadFatBinary, nullptr},
      {"cuModuleUnload", (void*)&cuModuleUnload, nullptr},
      {"cuModuleGetFunction", (void*)&cuModuleGetFunction, nullptr},
      {"cuLibraryLoadData", (void*)&cuLibraryLoadData, nullptr},
      {"cuLibraryLoadFromFile", (void*)&cuLibraryLoadFromFile, nullptr},
      {"cuLibraryUnload", (void*)&cuLibraryUnload, nullptr},
      {"cuLibraryGetKernel", (void*)&cuLibraryGetKernel, nullptr},
      {"cuKernelGetFunction", (void*)&cuKernelGetFunction, nullptr},
      {"cuLaunchKernel", (void*)&cuLaunchKernel, (void*)&cuLaunchKernel_ptsz},
      {"cuLaunchKernelEx", (void*)&cuLaunchKernelEx, (void*)&cuLaunchKernelEx_ptsz},
      {"cuLaunchCooperativeKernel", (void*)&cuLaunchCooperativeKernel, (void*)&cuLaunchCooperativeKernel_ptsz},
      // Like the real driver: v2 for CUDA 12.0 and newer, v1 before.
      {"cuGetProcAddress", version >= 12000 ? (void*)&cuGetProcAddress_v2 : (void*)&cuGetProcAddress, nullptr},
  };
  if (status) *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  for (const Entry& e : table) {
    if (std::strcmp(e.name, symbol) != 0) continue;
    *pfn = per_thread && e.ptsz ? e.ptsz : e.fn;
    if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return CUDA_SUCCESS;
  }
  *pfn = nullptr;
  return CUDA_ERROR_NOT_FOUND;
}
