// How the shim gets between the host and the driver:
//  - dlsym/dlvsym (trampolines_x86_64.S): a request for a hooked cu* name
//    gets the shim's wrapper around the real function;
//  - cuGetProcAddress and cuGetProcAddress_v2, which the CUDA runtime uses
//    for everything after one dlsym: hooked names get wrappers, including
//    "cuGetProcAddress" itself, so later look-ups cannot escape;
//  - exported cu* symbols for programs linked with -lcuda.
// A wrapper is bound to the exact real function it wraps (the driver hands
// out different ones per requested version and per-thread-stream flag), so a
// few wrapper "slots" exist per hooked name. Anything else passes untouched.
#include <dlfcn.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "shim.h"

extern "C" {
// Read by the trampolines.
__attribute__((visibility("hidden"))) void* smwatch_real_dlsym = nullptr;
__attribute__((visibility("hidden"))) void* smwatch_real_dlvsym = nullptr;
__attribute__((visibility("hidden"))) void* smwatch_dlsym_decide(void* handle, const char* name);
__attribute__((visibility("hidden"))) void* smwatch_dlsym_decide_cuda(void* handle, const char* name);
}

namespace smwatch::shim {
namespace {

using DlsymFn = void* (*)(void*, const char*);

SMWATCH_EARLY void resolve_real_dl() {
  if (__atomic_load_n(&smwatch_real_dlsym, __ATOMIC_ACQUIRE)) return;
  void* real_dlvsym = libc_symbol("dlvsym");
  void* real_dlsym = libc_symbol("dlsym");
  __atomic_store_n(&smwatch_real_dlvsym, real_dlvsym, __ATOMIC_RELEASE);
  __atomic_store_n(&smwatch_real_dlsym, real_dlsym, __ATOMIC_RELEASE);
}

void* call_real_dlsym(void* handle, const char* name) {
  resolve_real_dl();
  auto fn = reinterpret_cast<DlsymFn>(__atomic_load_n(&smwatch_real_dlsym, __ATOMIC_ACQUIRE));
  return fn ? fn(handle, name) : nullptr;
}

// The driver library, learned from the first real driver function seen.
std::atomic<void*> g_driver_handle{nullptr};

void note_driver(void* real_function) {
  if (g_driver_handle.load(std::memory_order_acquire) || !real_function) return;
  Dl_info info{};
  if (!dladdr(real_function, &info) || !info.dli_fname) return;
  void* handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  void* expected = nullptr;
  if (handle && !g_driver_handle.compare_exchange_strong(expected, handle)) dlclose(handle);
}

constexpr int kSlots = 6;

// One hooked driver function. Handler(real, caller, args...) calls `real`
// and reports; Hook<...>::wrap(real) hands out a wrapper bound to `real`.
template <typename Fn, auto Handler>
struct Hook;

template <typename... Args, auto Handler>
struct Hook<CUresult (*)(Args...), Handler> {
  using Fn = CUresult (*)(Args...);
  static inline std::atomic<void*> real[kSlots];

  template <int S>
  static CUresult wrapper(Args... args) {
    auto fn = reinterpret_cast<Fn>(real[S].load(std::memory_order_acquire));
    return Handler(fn, __builtin_return_address(0), args...);
  }
  template <int... S>
  static constexpr std::array<void*, kSlots> make(std::integer_sequence<int, S...>) {
    return {reinterpret_cast<void*>(&wrapper<S>)...};
  }
  static inline const std::array<void*, kSlots> wrappers = make(std::make_integer_sequence<int, kSlots>());

  static void* wrap(void* real_function) {
    if (!real_function) return real_function;
    note_driver(real_function);
    for (int s = 0; s < kSlots; ++s) {
      void* cur = real[s].load(std::memory_order_acquire);
      if (cur == real_function) return wrappers[s];
      if (cur == nullptr) {
        void* expected = nullptr;
        if (real[s].compare_exchange_strong(expected, real_function) || expected == real_function)
          return wrappers[s];
      }
    }
    return real_function;  // out of slots: this variant passes through unwatched
  }
};

// ---- handlers -------------------------------------------------------------

template <typename Fn, typename... A>
CUresult call(Fn real, A... args) {
  return real ? real(args...) : CUDA_ERROR_NOT_INITIALIZED;
}

CUresult on_cuModuleLoad(CUresult (*real)(CUmodule*, const char*), const void* caller, CUmodule* m, const char* path) {
  CUresult r = call(real, m, path);
  on_module_load("cuModuleLoad", r == CUDA_SUCCESS && m ? *m : nullptr, false, nullptr, path, caller, r);
  return r;
}
CUresult on_cuModuleLoadData(CUresult (*real)(CUmodule*, const void*), const void* caller, CUmodule* m,
                             const void* image) {
  CUresult r = call(real, m, image);
  on_module_load("cuModuleLoadData", r == CUDA_SUCCESS && m ? *m : nullptr, false, image, nullptr, caller, r);
  return r;
}
CUresult on_cuModuleLoadDataEx(CUresult (*real)(CUmodule*, const void*, unsigned, CUjit_option*, void**),
                               const void* caller, CUmodule* m, const void* image, unsigned n, CUjit_option* o,
                               void** v) {
  CUresult r = call(real, m, image, n, o, v);
  on_module_load("cuModuleLoadDataEx", r == CUDA_SUCCESS && m ? *m : nullptr, false, image, nullptr, caller, r);
  return r;
}
CUresult on_cuModuleLoadFatBinary(CUresult (*real)(CUmodule*, const void*), const void* caller, CUmodule* m,
                                  const void* image) {
  CUresult r = call(real, m, image);
  on_module_load("cuModuleLoadFatBinary", r == CUDA_SUCCESS && m ? *m : nullptr, false, image, nullptr, caller, r);
  return r;
}
CUresult on_cuModuleUnload(CUresult (*real)(CUmodule), const void*, CUmodule m) {
  CUresult r = call(real, m);
  if (r == CUDA_SUCCESS) on_module_unload(m);
  return r;
}
CUresult on_cuModuleGetFunction(CUresult (*real)(CUfunction*, CUmodule, const char*), const void* caller,
                                CUfunction* f, CUmodule m, const char* name) {
  CUresult r = call(real, f, m, name);
  on_kernel_lookup("cuModuleGetFunction", m, name, r == CUDA_SUCCESS && f ? *f : nullptr, caller, r);
  return r;
}
CUresult on_cuLibraryLoadData(CUresult (*real)(CUlibrary*, const void*, CUjit_option*, void**, unsigned,
                                               CUlibraryOption*, void**, unsigned),
                              const void* caller, CUlibrary* lib, const void* code, CUjit_option* jo, void** jv,
                              unsigned jn, CUlibraryOption* lo, void** lv, unsigned ln) {
  CUresult r = call(real, lib, code, jo, jv, jn, lo, lv, ln);
  on_module_load("cuLibraryLoadData", r == CUDA_SUCCESS && lib ? *lib : nullptr, true, code, nullptr, caller, r);
  return r;
}
CUresult on_cuLibraryLoadFromFile(CUresult (*real)(CUlibrary*, const char*, CUjit_option*, void**, unsigned,
                                                   CUlibraryOption*, void**, unsigned),
                                  const void* caller, CUlibrary* lib, const char* path, CUjit_option* jo, void** jv,
                                  unsigned jn, CUlibraryOption* lo, void** lv, unsigned ln) {
  CUresult r = call(real, lib, path, jo, jv, jn, lo, lv, ln);
  on_module_load("cuLibraryLoadFromFile", r == CUDA_SUCCESS && lib ? *lib : nullptr, true, nullptr, path, caller, r);
  return r;
}
CUresult on_cuLibraryUnload(CUresult (*real)(CUlibrary), const void*, CUlibrary lib) {
  CUresult r = call(real, lib);
  if (r == CUDA_SUCCESS) on_module_unload(lib);
  return r;
}
CUresult on_cuLibraryGetKernel(CUresult (*real)(CUkernel*, CUlibrary, const char*), const void* caller, CUkernel* k,
                               CUlibrary lib, const char* name) {
  CUresult r = call(real, k, lib, name);
  on_kernel_lookup("cuLibraryGetKernel", lib, name, r == CUDA_SUCCESS && k ? *k : nullptr, caller, r);
  return r;
}
CUresult on_cuLibraryGetModule(CUresult (*real)(CUmodule*, CUlibrary), const void*, CUmodule* m, CUlibrary lib) {
  CUresult r = call(real, m, lib);
  if (r == CUDA_SUCCESS && m) on_library_module(lib, *m);
  return r;
}
CUresult on_cuKernelGetFunction(CUresult (*real)(CUfunction*, CUkernel), const void*, CUfunction* f, CUkernel k) {
  CUresult r = call(real, f, k);
  on_kernel_get_function(k, r == CUDA_SUCCESS && f ? *f : nullptr, r);
  return r;
}
CUresult on_cuLaunchKernel(CUresult (*real)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                            unsigned, CUstream, void**, void**),
                           const void*, CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                           unsigned bz, unsigned shared, CUstream stream, void** params, void** extra) {
  CUresult r = call(real, f, gx, gy, gz, bx, by, bz, shared, stream, params, extra);
  on_launch("cuLaunchKernel", f, r);
  return r;
}
CUresult on_cuLaunchKernelEx(CUresult (*real)(const CUlaunchConfig*, CUfunction, void**, void**), const void*,
                             const CUlaunchConfig* config, CUfunction f, void** params, void** extra) {
  CUresult r = call(real, config, f, params, extra);
  on_launch("cuLaunchKernelEx", f, r);
  return r;
}
CUresult on_cuLaunchCooperativeKernel(CUresult (*real)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                                                       unsigned, unsigned, CUstream, void**),
                                      const void*, CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                      unsigned by, unsigned bz, unsigned shared, CUstream stream, void** params) {
  CUresult r = call(real, f, gx, gy, gz, bx, by, bz, shared, stream, params);
  on_launch("cuLaunchCooperativeKernel", f, r);
  return r;
}

void* wrap_by_name(const char* name, void* real_function);

// SMWATCH_LOG=debug: every entry point asked for, to see what a library uses.
void log_request(const char* how, const char* symbol, int version, cuuint64_t flags, const void* caller) {
  if (config().log_level < LogLevel::kDebug || !symbol) return;
  const std::string object = object_of(caller);
  log(LogLevel::kDebug, std::string(how) + " " + symbol + " version " + std::to_string(version) + " flags " +
                            std::to_string(flags) + " from " + (object.empty() ? "?" : object));
}

CUresult on_cuGetProcAddress_v2(CUresult (*real)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*),
                                const void* caller, const char* symbol, void** pfn, int version, cuuint64_t flags,
                                CUdriverProcAddressQueryResult* status) {
  log_request("cuGetProcAddress_v2", symbol, version, flags, caller);
  CUresult r = call(real, symbol, pfn, version, flags, status);
  if (r == CUDA_SUCCESS && symbol && pfn && *pfn && active()) *pfn = wrap_by_name(symbol, *pfn);
  return r;
}
CUresult on_cuGetProcAddress(CUresult (*real)(const char*, void**, int, cuuint64_t), const void* caller,
                             const char* symbol, void** pfn, int version, cuuint64_t flags) {
  log_request("cuGetProcAddress", symbol, version, flags, caller);
  CUresult r = call(real, symbol, pfn, version, flags);
  if (r == CUDA_SUCCESS && symbol && pfn && *pfn && active()) *pfn = wrap_by_name(symbol, *pfn);
  return r;
}

// The hook of a handler: its wrappers and the real functions they call.
#define SMWATCH_HOOK_TYPE(HANDLER, PARAMS) Hook<CUresult(*) PARAMS, &HANDLER>
// The two cuGetProcAddress hooks, told apart by identity in wrap_by_name.
using GetProcAddressV1 = Hook<CUresult (*)(const char*, void**, int, cuuint64_t), &on_cuGetProcAddress>;
using GetProcAddressV2 = Hook<CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*),
                              &on_cuGetProcAddress_v2>;

struct HookEntry {
  const char* name;  // as asked of dlsym or cuGetProcAddress
  void* (*wrap)(void*);
};

// Every hooked name (hooks.def). The names cuGetProcAddress is asked for are
// base names; dlsym may see the per-thread-stream exports (_ptsz) too.
const HookEntry kHooks[] = {
#define SMWATCH_HOOK(NAME, HANDLER, PARAMS, ARGS) {#NAME, &SMWATCH_HOOK_TYPE(HANDLER, PARAMS)::wrap},
#include "hooks.def"
#undef SMWATCH_HOOK
};

void* wrap_by_name(const char* name, void* real_function) {
  if (std::strcmp(name, "cuGetProcAddress") == 0) {
    // The driver answers with the v1 or the v2 function depending on the
    // requested version; they differ in signature, so match by identity.
    if (real_function == real_driver_symbol("cuGetProcAddress_v2")) return GetProcAddressV2::wrap(real_function);
    if (real_function == real_driver_symbol("cuGetProcAddress")) return GetProcAddressV1::wrap(real_function);
    return real_function;
  }
  for (const HookEntry& hook : kHooks)
    if (std::strcmp(hook.name, name) == 0) return hook.wrap(real_function);
  return real_function;
}

}  // namespace

void* real_driver_symbol(const char* name) {
  void* handle = g_driver_handle.load(std::memory_order_acquire);
  if (!handle) {
    handle = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) return nullptr;
    void* expected = nullptr;
    if (!g_driver_handle.compare_exchange_strong(expected, handle)) {
      dlclose(handle);
      handle = expected;
    }
  }
  return call_real_dlsym(handle, name);
}

const char* error_name(CUresult result) {
  using Fn = CUresult (*)(CUresult, const char**);
  // Not a function-local static: its initialisation guard would be a lock
  // held across dlsym (the loader's lock), the deadlock the tracker avoids.
  static std::atomic<void*> resolved{nullptr};
  void* f = resolved.load(std::memory_order_acquire);
  if (!f) {
    f = real_driver_symbol("cuGetErrorName");
    resolved.store(f, std::memory_order_release);
  }
  auto fn = reinterpret_cast<Fn>(f);
  const char* name = nullptr;
  if (fn && fn(result, &name) == CUDA_SUCCESS && name) return name;
  switch (result) {
    case CUDA_SUCCESS: return "CUDA_SUCCESS";
    case CUDA_ERROR_NO_BINARY_FOR_GPU: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
    case CUDA_ERROR_INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
    case CUDA_ERROR_INVALID_PTX: return "CUDA_ERROR_INVALID_PTX";
    case CUDA_ERROR_UNSUPPORTED_PTX_VERSION: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
    case CUDA_ERROR_JIT_COMPILER_NOT_FOUND: return "CUDA_ERROR_JIT_COMPILER_NOT_FOUND";
    case CUDA_ERROR_NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
    default: return "CUDA_ERROR_UNKNOWN_CODE";
  }
}

}  // namespace smwatch::shim

using namespace smwatch::shim;

extern "C" SMWATCH_EARLY void* smwatch_dlsym_decide(void* handle, const char* name) {
  resolve_real_dl();
  if (!name || name[0] != 'c' || name[1] != 'u') return nullptr;
  return smwatch_dlsym_decide_cuda(handle, name);
}

// A request for a cu* name: by then every runtime in the process is up.
extern "C" void* smwatch_dlsym_decide_cuda(void* handle, const char* name) {
  if (!active()) return nullptr;
  bool hooked = std::strcmp(name, "cuGetProcAddress") == 0;
  for (const HookEntry& hook : kHooks) hooked |= std::strcmp(hook.name, name) == 0;
  if (!hooked) return nullptr;
  void* real = call_real_dlsym(handle, name);
  if (!real) return nullptr;  // let glibc answer (and set dlerror) itself
  note_driver(real);
  if (std::strcmp(name, "cuGetProcAddress") == 0) return GetProcAddressV1::wrap(real);
  return wrap_by_name(name, real);
}

// ---- exported symbols, for programs linked with -lcuda ----------------------
namespace {

// The next definition of `name` after the shim (the driver's), looked up once.
template <typename H>
typename H::Fn next_definition(std::atomic<void*>& cache, const char* name) {
  void* fn = cache.load(std::memory_order_acquire);
  if (!fn) {
    fn = call_real_dlsym(RTLD_NEXT, name);
    // A driver opened with RTLD_LOCAL is not in the global scope: ask it directly.
    if (!fn) fn = real_driver_symbol(name);
    note_driver(fn);
    cache.store(fn, std::memory_order_release);
  }
  return reinterpret_cast<typename H::Fn>(fn);
}

}  // namespace

// One exported function per hooks.def line. NAME appears only under # and ##:
// cuda.h defines some driver names as macros (cuGetProcAddress is
// cuGetProcAddress_v2), which must not be expanded here.
#define SMWATCH_EXPORT(NAME, HANDLER, PARAMS, ARGS)                                                \
  extern "C" __attribute__((visibility("default"))) CUresult smwatch_export_##NAME PARAMS __asm__(#NAME); \
  static std::atomic<void*> g_next_##NAME{nullptr};                                              \
  extern "C" CUresult smwatch_export_##NAME PARAMS {                                             \
    return HANDLER(next_definition<SMWATCH_HOOK_TYPE(HANDLER, PARAMS)>(g_next_##NAME, #NAME),      \
                   __builtin_return_address(0), UNPAREN ARGS);                                    \
  }

#define UNPAREN(...) __VA_ARGS__
#define SMWATCH_HOOK SMWATCH_EXPORT
#include "hooks.def"
#undef SMWATCH_HOOK
