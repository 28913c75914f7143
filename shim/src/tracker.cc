// What the process loaded and launched: every module judged with the
// inspector's rules for the GPU in use and each what-if target, every kernel
// handle tied to its module, every failing call attributed.
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>


#include "image_reader.h"
#include "shim.h"
#include "smwatch/demangle.h"
#include "smwatch/verdict.h"

namespace smwatch::shim {
namespace {

// Every record's pid and time.
void stamp(record::Common& r) {
  r.pid = getpid();
  r.time = now_seconds();
}

struct Module {
  uint64_t id = 0;
  std::string call, source, caller;
  LoadedImage image;
  std::string archs;
  bool kernel_names_read = false;
  // Registered from the .nv_fatbin section of a loaded object (the CUDA
  // runtime's modules): the same code runs on every GPU, so what-if targets
  // are judged on it. Otherwise the image was chosen or generated at run time
  // for the GPU in use (a cubin cuBLASLt copied out of its fatbins, cuFFT's
  // fatbins kept in its data, NVRTC, Triton's cache, XLA): on another GPU
  // another image would be loaded, so `smwatch report` judges it against the
  // device code of the library that loaded it.
  bool registered = false;
  // The loaded object it came from (registered) or that loaded it (run-time
  // code) has code for the GPU in use, by its whole device code.
  bool library_serves_gpu = false;
};

struct Kernel {
  std::shared_ptr<Module> module;
  std::string mangled;
  std::vector<std::string> missing_targets;  // what-if targets without code for it
  bool launched = false;
};

struct Gpu {
  bool known = false;
  uint16_t cc = 0;
  std::string name;
};

struct Tracker {
  std::recursive_mutex lock;
  std::unordered_map<void*, std::shared_ptr<Module>> modules;   // CUmodule / CUlibrary
  std::unordered_map<void*, std::shared_ptr<Kernel>> kernels;   // CUkernel / CUfunction
  std::set<std::pair<void*, int>> reported_launch_errors;
  // Failing look-ups reported so far, by (module, hash of the name, error):
  // at most kMaxLookupFailures of them; repeats are only counted.
  std::set<std::tuple<void*, uint64_t, int>> reported_lookup_errors;
  uint64_t repeated_failures = 0;    // not reported again: the same call failed the same way before
  uint64_t unreported_failures = 0;  // not reported: new, but past kMaxLookupFailures
  std::map<std::string, size_t> missing_per_target;
  // Loaded objects whose device code was summarised (a `library` record
  // written): whether it serves the GPU in use.
  std::unordered_map<std::string, bool> libraries;
  uint64_t handled_lookups = 0;  // look-ups of kernels built for other GPUs
  uint64_t next_module_id = 1;
  size_t modules_loaded = 0, failures = 0, kernels_used = 0, runtime_kernels = 0;
  Gpu gpu;
};

constexpr size_t kMaxLookupFailures = 1024;

Tracker& tracker() {
  static Tracker* t = new Tracker;  // never destroyed (see sink.cc)
  return *t;
}

// Launch counters, sharded so that threads launching at once do not share a
// cache line.
struct alignas(64) Counter {
  std::atomic<uint64_t> value{0};
};
Counter g_launches[16];
thread_local const unsigned t_shard = static_cast<unsigned>(gettid()) % 16;

// Functions already launched once: a fixed open-addressing set, so the
// launch path never locks or allocates. When it fills up, new functions are
// treated as seen (only the first-launch report is skipped).
constexpr size_t kSeenSlots = size_t{1} << 16;
std::atomic<uintptr_t> g_seen[kSeenSlots];

bool first_sight(const void* f) {
  const auto key = reinterpret_cast<uintptr_t>(f);
  size_t slot = (key * 0x9E3779B97F4A7C15ull) >> (64 - 16);
  for (int probe = 0; probe < 64; ++probe, slot = (slot + 1) & (kSeenSlots - 1)) {
    uintptr_t cur = g_seen[slot].load(std::memory_order_relaxed);
    if (cur == key) return false;
    if (cur == 0) {
      uintptr_t expected = 0;
      if (g_seen[slot].compare_exchange_strong(expected, key, std::memory_order_relaxed)) return true;
      if (expected == key) return false;
    }
  }
  return false;
}



std::string sm(uint16_t cc) { return "sm_" + std::to_string(cc); }

std::string fmt_pointer(const void* p) {
  char buf[32];
  snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

void query_gpu_locked(Tracker& t) {
  if (t.gpu.known) return;
  using GetDevice = CUresult (*)(CUdevice*);
  using DeviceGet = CUresult (*)(CUdevice*, int);
  using Attribute = CUresult (*)(int*, CUdevice_attribute, CUdevice);
  using Name = CUresult (*)(char*, int, CUdevice);
  using Version = CUresult (*)(int*);
  auto ctx_device = reinterpret_cast<GetDevice>(real_driver_symbol("cuCtxGetDevice"));
  auto device_get = reinterpret_cast<DeviceGet>(real_driver_symbol("cuDeviceGet"));
  auto attribute = reinterpret_cast<Attribute>(real_driver_symbol("cuDeviceGetAttribute"));
  auto name = reinterpret_cast<Name>(real_driver_symbol("cuDeviceGetName"));
  auto version = reinterpret_cast<Version>(real_driver_symbol("cuDriverGetVersion"));
  if (!attribute || !device_get) return;
  CUdevice dev = 0;
  if (!ctx_device || ctx_device(&dev) != CUDA_SUCCESS)
    if (device_get(&dev, 0) != CUDA_SUCCESS) return;  // not initialised yet: ask again later
  int major = 0, minor = 0, driver = 0;
  if (attribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) != CUDA_SUCCESS ||
      attribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev) != CUDA_SUCCESS)
    return;
  char buf[256] = {};
  if (name) name(buf, sizeof buf - 1, dev);
  if (version) version(&driver);
  t.gpu = {true, static_cast<uint16_t>(major * 10 + minor), buf};
  record::Gpu gpu;
  stamp(gpu);
  gpu.ordinal = static_cast<int>(dev);
  gpu.name = t.gpu.name;
  gpu.cc = std::to_string(major) + "." + std::to_string(minor);
  gpu.arch = sm(t.gpu.cc);
  gpu.driver = driver;
  write_record(gpu);
}

// The targets to judge for: the GPU in use first, then the what-if list.
std::vector<uint16_t> judged_targets(const Tracker& t) {
  std::vector<uint16_t> out;
  if (t.gpu.known) out.push_back(t.gpu.cc);
  for (const auto& target : config().targets)
    if (std::find(out.begin(), out.end(), target.cc) == out.end()) out.push_back(target.cc);
  return out;
}

// What `kernel` can use on `cc`, by the inspector's judge.
ContainerFit kernel_fit(Module& m, const std::string& mangled, uint16_t cc) {
  if (!m.kernel_names_read) {
    read_kernel_names(m.image);
    m.kernel_names_read = true;
  }
  return judge_kernel_name(m.image.containers, mangled, cc);
}

// Summarises the device code of the loaded object holding `address` once (a
// `library` record: what `smwatch report` judges against, on any machine) and
// says whether it has code for the GPU in use. Module loads only: never on
// the launch path.
bool library_serves_gpu(Tracker& t, const void* address) {
  const std::string path = object_of(address);
  if (path.empty()) return false;
  if (auto it = t.libraries.find(path); it != t.libraries.end()) return it->second;
  ObjectCode code = read_object_code(address);
  bool serves = false;
  record::Library record;
  stamp(record);
  record.path = path;
  record.archs = compact_archs(code.containers);
  for (const auto& c : code.containers) record.fatbins += !c.images.empty();
  if (record.fatbins > 0)
    for (uint16_t cc : judged_targets(t)) {
      CodeVerdict v = judge_code(code.containers, cc);
      record.verdicts[sm(cc)] = verdict_name(v.verdict);
      if (t.gpu.known && cc == t.gpu.cc) serves = v.containers_sass + v.containers_jit > 0;
    }
  record.problems = std::move(code.problems);
  write_record(record);
  t.libraries.emplace(path, serves);
  return serves;
}

// A failing look-up the library made on purpose: 209 for a kernel whose code
// is only for other GPUs, in a library that serves this one (the judge:
// ContainerFit::kNotForThisGpu). A failed look-up returns no handle, so
// nothing of it can launch.
bool built_for_other_gpus(Tracker& t, CUresult result, Module* m, const std::string& mangled) {
  if (result != CUDA_ERROR_NO_BINARY_FOR_GPU || !m || !t.gpu.known || mangled.empty()) return false;
  if (kernel_fit(*m, mangled, t.gpu.cc) != ContainerFit::kNotForThisGpu) return false;
  if (m->library_serves_gpu) return true;
  CodeVerdict own = judge_code(m->image.containers, t.gpu.cc);  // the module's own code, for images off any object
  return own.containers_sass + own.containers_jit > 0;
}

void record_failure(Tracker& t, const char* call, CUresult result, const Module* m, const std::string& mangled,
                    const void* caller, bool for_other_gpus = false) {
  if (for_other_gpus) ++t.handled_lookups;
  else ++t.failures;
  const std::string kernel = mangled.empty() ? "" : demangle(mangled);
  const std::string source = m ? m->source : "<module not seen by smwatch>";
  const std::string archs = m ? m->archs : "";
  const std::string gpu = t.gpu.known ? sm(t.gpu.cc) : "unknown";
  std::string fix;
  if (for_other_gpus) {
    // No fix: nothing is missing.
  } else if (result == CUDA_ERROR_NO_BINARY_FOR_GPU || result == CUDA_ERROR_INVALID_IMAGE) {
    fix = t.gpu.known ? fix_hint(t.gpu.cc) : "install a build that includes code for this GPU";
  } else if (result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
    fix = "the PTX is newer than this driver: update the NVIDIA driver, or install a build with SASS for " + gpu;
  } else if (result == CUDA_ERROR_JIT_COMPILER_NOT_FOUND || result == CUDA_ERROR_INVALID_PTX) {
    fix = "PTX JIT is not possible here: install a build with SASS for " + gpu;
  }
  record::Failure record;
  stamp(record);
  record.call = call;
  record.error = static_cast<int>(result);
  record.error_name = error_name(result);
  record.kernel = kernel;
  record.mangled = mangled;
  record.source = source;
  record.archs = archs;
  record.gpu_arch = gpu;
  record.caller = object_of(caller);
  record.fix = fix;
  record.built_for_other_gpus = for_other_gpus;
  write_record(record);
  std::string line = std::string(error_name(result)) + " (" + std::to_string(static_cast<int>(result)) + ") from " +
                     call;
  if (!kernel.empty()) line += ": kernel " + kernel;
  line += " in " + source;
  if (!archs.empty()) line += " [has " + archs + "]";
  line += "; GPU is " + gpu + (t.gpu.name.empty() ? "" : " (" + t.gpu.name + ")");
  if (!fix.empty()) line += "; fix: " + fix;
  if (for_other_gpus) {
    log(LogLevel::kInfo, line + "; the kernel is built only for other GPUs and the library has code for this one: "
                                "a look-up it can handle, not a failure");
    return;
  }
  log(LogLevel::kError, line);
}

template <typename Fn>
void guarded(const char* where, Fn&& fn) {
  if (!active()) return;
  try {
    fn();
  } catch (const std::exception& e) {
    fail_open(where, e.what());
  } catch (...) {
    fail_open(where, "unknown exception");
  }
}

}  // namespace

void on_module_load(const char* call, void* handle, bool is_library, const void* image, const char* path,
                    const void* caller, CUresult result) {
  guarded(call, [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    query_gpu_locked(t);
    auto m = std::make_shared<Module>();
    m->id = t.next_module_id++;
    m->call = call;
    m->caller = object_of(caller);
    m->image = path ? read_image_file(path) : read_image_in_memory(image);
    m->source = path ? path : !m->image.object.empty() ? m->image.object : "<memory, loaded by " + m->caller + ">";
    m->kernel_names_read = path != nullptr || m->image.object.empty();
    m->registered = m->image.in_fatbin_section;
    m->archs = compact_archs(m->image.containers);
    // The whole object's device code, once per object: the one the code came
    // from, or, for code chosen at run time, the one that loaded it.
    if (result == CUDA_SUCCESS) {
      if (m->registered) m->library_serves_gpu = library_serves_gpu(t, image);
      else if (!m->caller.empty()) m->library_serves_gpu = library_serves_gpu(t, caller);
    }
    ++t.modules_loaded;
    bool has_code = false;
    for (const auto& c : m->image.containers) has_code |= !c.images.empty();
    record::Module record;
    for (uint16_t cc : judged_targets(t)) {
      // Runtime-chosen code is judged here for the GPU in use only.
      if (!m->registered && !(t.gpu.known && cc == t.gpu.cc)) continue;
      CodeVerdict v = judge_code(m->image.containers, cc);
      record.verdicts[sm(cc)] = has_code ? verdict_name(v.verdict) : "UNKNOWN";
      if (t.gpu.known && cc == t.gpu.cc && v.verdict == Verdict::kJit)
        log(LogLevel::kInfo, m->source + ": no " + sm(cc) + " SASS, the driver JIT-compiles its PTX (slower first launch)");
    }
    stamp(record);
    record.call = call;
    record.handle = fmt_pointer(handle);
    record.library = is_library;
    record.source = m->source;
    record.caller = m->caller;
    record.archs = m->archs;
    record.origin = m->registered ? record::kOriginFile : record::kOriginRuntime;
    record.result = static_cast<int>(result);
    record.result_name = error_name(result);
    record.problems = m->image.problems;
    write_record(record);
    if (result != CUDA_SUCCESS) record_failure(t, call, result, m.get(), "", caller);
    if (result == CUDA_SUCCESS && handle) t.modules[handle] = std::move(m);
  });
}

void on_module_unload(void* handle) {
  guarded("unload", [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    t.modules.erase(handle);  // kernels keep their module alive for late reports
  });
}

void on_kernel_lookup(const char* call, void* module_or_library, const char* name, void* handle,
                      const void* caller, CUresult result) {
  guarded(call, [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    auto it = t.modules.find(module_or_library);
    std::shared_ptr<Module> m = it == t.modules.end() ? nullptr : it->second;
    const std::string mangled = name ? name : "";
    if (result != CUDA_SUCCESS) {
      if (result == CUDA_ERROR_NOT_FOUND) return;
      // Once per (module, name, error): a program that retries a failing
      // look-up a million times gets one record and a count.
      auto key = std::make_tuple(module_or_library, std::hash<std::string_view>{}(mangled), static_cast<int>(result));
      if (t.reported_lookup_errors.count(key)) {
        ++t.repeated_failures;
      } else if (t.reported_lookup_errors.size() >= kMaxLookupFailures) {
        if (t.unreported_failures++ == 0)
          log(LogLevel::kWarn, "more than " + std::to_string(kMaxLookupFailures) +
                                   " different failing look-ups: further ones are only counted (exit record)");
      } else {
        t.reported_lookup_errors.insert(key);
        record_failure(t, call, result, m.get(), mangled, caller, built_for_other_gpus(t, result, m.get(), mangled));
      }
      return;
    }
    if (!handle || !m) return;
    auto k = std::make_shared<Kernel>();
    k->module = m;
    k->mangled = mangled;
    if (m->registered)
      for (const auto& target : config().targets) {
        ContainerFit fit = kernel_fit(*m, mangled, target.cc);
        if (fit == ContainerFit::kNone) k->missing_targets.push_back(target.sm_name());
      }
    t.kernels[handle] = std::move(k);
  });
}

void on_library_module(void* library, void* module) {
  guarded("cuLibraryGetModule", [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    auto it = t.modules.find(library);
    if (it != t.modules.end()) t.modules[module] = it->second;
  });
}

void on_kernel_get_function(void* kernel, void* function, CUresult result) {
  if (result != CUDA_SUCCESS || !function) return;
  guarded("cuKernelGetFunction", [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    auto it = t.kernels.find(kernel);
    if (it != t.kernels.end()) t.kernels[function] = it->second;
  });
}

void on_launch(const char* call, CUfunction function, CUresult result) {
  if (!active()) return;
  g_launches[t_shard].value.fetch_add(1, std::memory_order_relaxed);
  if (result == CUDA_SUCCESS && !first_sight(function)) return;
  // Slow path: the first launch of a function, or a failed launch.
  guarded(call, [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    auto it = t.kernels.find(function);
    std::shared_ptr<Kernel> k = it == t.kernels.end() ? nullptr : it->second;
    if (result != CUDA_SUCCESS) {
      if (t.reported_launch_errors.insert({function, static_cast<int>(result)}).second)
        record_failure(t, call, result, k ? k->module.get() : nullptr, k ? k->mangled : "", nullptr);
      else
        ++t.repeated_failures;
      return;
    }
    ++t.kernels_used;
    if (!k || k->launched) return;
    k->launched = true;
    if (!k->module->registered && !config().targets.empty()) {
      ++t.runtime_kernels;
      record::RuntimeKernel record;
      stamp(record);
      record.kernel = demangle(k->mangled);
      record.mangled = k->mangled;
      record.source = k->module->source;
      record.caller = k->module->caller;
      record.archs = k->module->archs;
      write_record(record);
    }
    for (const auto& target : k->missing_targets) {
      ++t.missing_per_target[target];
      record::Missing record;
      stamp(record);
      record.target = target;
      record.kernel = demangle(k->mangled);
      record.mangled = k->mangled;
      record.source = k->module->source;
      record.archs = k->module->archs;
      write_record(record);
      log(LogLevel::kInfo, "what-if " + target + ": kernel " + demangle(k->mangled) + " in " + k->module->source +
                               " has no code for it [has " + k->module->archs + "]");
    }
  });
}

std::string object_of(const void* address) {
  Dl_info info{};
  return address && dladdr(address, &info) && info.dli_fname ? info.dli_fname : "";
}

void tracker_fork(ForkStage stage) {
  Tracker& t = tracker();
  switch (stage) {
    case ForkStage::kPrepare: t.lock.lock(); break;
    case ForkStage::kParent: t.lock.unlock(); break;
    case ForkStage::kChild:
      new (&t.lock) std::recursive_mutex;  // see sink.cc
      // Counts start again: the child's report covers the child.
      for (auto& c : g_launches) c.value.store(0, std::memory_order_relaxed);
      t.modules_loaded = t.failures = t.kernels_used = t.runtime_kernels = 0;
      t.repeated_failures = t.unreported_failures = t.handled_lookups = 0;
      t.reported_lookup_errors.clear();
      t.missing_per_target.clear();
      t.libraries.clear();  // the child's report gets its own library records
      t.gpu.known = false;
      break;
  }
}

void write_exit_summary() {
  guarded("exit", [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    if (t.modules_loaded == 0 && t.failures == 0) return;  // this process never used CUDA
    uint64_t launches = 0;
    for (const auto& c : g_launches) launches += c.value.load(std::memory_order_relaxed);
    const uint64_t dropped = records_dropped();
    record::Exit exit;
    stamp(exit);
    exit.launches = launches;
    exit.modules = t.modules_loaded;
    exit.kernels_used = t.kernels_used;
    exit.failures = t.failures;
    exit.runtime_kernels = t.runtime_kernels;
    exit.repeated_failures = t.repeated_failures;
    exit.unreported_failures = t.unreported_failures;
    exit.handled_lookups = t.handled_lookups;
    for (const auto& target : config().targets) exit.missing[target.sm_name()] = t.missing_per_target[target.sm_name()];
    exit.dropped_records = dropped;
    write_record(exit);
    std::string line = "pid " + std::to_string(getpid()) + ": " + std::to_string(t.modules_loaded) + " modules, " +
                       std::to_string(t.kernels_used) + " kernels used, " + std::to_string(launches) + " launches, " +
                       std::to_string(t.failures) + (t.failures == 1 ? " failure" : " failures");
    if (t.repeated_failures) line += " (and " + std::to_string(t.repeated_failures) + " repeats not shown)";
    if (t.unreported_failures)
      line += " (and " + std::to_string(t.unreported_failures) + " more, past the first " +
              std::to_string(kMaxLookupFailures) + " different ones)";
    if (t.handled_lookups)
      line += "; " + std::to_string(t.handled_lookups) +
              " look-ups of kernels built only for other GPUs, handled by their libraries";
    if (t.gpu.known) line += "; GPU " + sm(t.gpu.cc) + " (" + t.gpu.name + ")";
    if (dropped) line += "; " + std::to_string(dropped) + " report records did not fit (file size limit or full disk)";
    for (const auto& target : config().targets)
      line += "; what-if " + target.sm_name() + ": " + std::to_string(t.missing_per_target[target.sm_name()]) +
              " of the kernels used lack code";
    if (t.runtime_kernels > 0)
      line += "; " + std::to_string(t.runtime_kernels) +
              " kernels chosen or generated at run time for this GPU (smwatch report judges them)";
    log(t.failures ? LogLevel::kError : LogLevel::kWarn, line);
  });
}

}  // namespace smwatch::shim
