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
#include <optional>
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

// What this process did: everything its report counts and which failures it
// has reported. A forked child starts with a fresh one (tracker_fork): its
// report covers the child alone.
struct ProcessActivity {
  // Failing look-ups reported so far, by (module, hash of the name, error),
  // and failing launches, by (function, error): at most kMaxLookupFailures
  // of each; repeats are only counted.
  std::set<std::tuple<void*, uint64_t, int>> reported_lookup_errors;
  std::set<std::pair<void*, int>> reported_launch_errors;
  uint64_t repeated_failures = 0;    // not reported again: the same call failed the same way before
  uint64_t unreported_failures = 0;  // not reported: new, but past kMaxLookupFailures
  std::map<std::string, size_t> missing_per_target;
  // Loaded objects whose device code was summarised (a `library` record
  // written): whether it serves the GPU in use.
  std::unordered_map<std::string, bool> libraries;
  uint64_t handled_lookups = 0;  // look-ups of kernels built for other GPUs
  size_t modules_loaded = 0, failures = 0, kernels_used = 0, runtime_kernels = 0;
  Gpu gpu;  // asked again in a child, whose report has a gpu record of its own
};

struct Tracker {
  std::recursive_mutex lock;
  // What the handles the program holds stand for: a forked child holds the
  // same handles, so these are inherited (tracker_fork says why each).
  std::unordered_map<void*, std::shared_ptr<Module>> modules;   // CUmodule / CUlibrary
  std::unordered_map<void*, std::shared_ptr<Kernel>> kernels;   // CUkernel / CUfunction
  uint64_t next_module_id = 1;
  ProcessActivity process;
};

constexpr size_t kMaxLookupFailures = 1024;

// Mirrors tracker().process.gpu.known, read without the lock: the GPU is
// asked for (driver calls) before the lock is taken.
std::atomic<bool> g_gpu_known{false};

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

// The GPU in use, asked of the driver. Called without any lock of ours
// held (real_driver_symbol may dlopen and dlsym, which take the loader's lock).
struct GpuAnswer {
  bool known = false;
  CUdevice device = 0;
  int major = 0, minor = 0, driver = 0;
  std::string name;
};
GpuAnswer ask_gpu() {
  GpuAnswer a;
  if (g_gpu_known.load(std::memory_order_acquire)) return a;
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
  if (!attribute || !device_get) return a;
  if (!ctx_device || ctx_device(&a.device) != CUDA_SUCCESS)
    if (device_get(&a.device, 0) != CUDA_SUCCESS) return a;  // not initialised yet: ask again later
  if (attribute(&a.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, a.device) != CUDA_SUCCESS ||
      attribute(&a.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, a.device) != CUDA_SUCCESS)
    return a;
  char buf[256] = {};
  if (name) name(buf, sizeof buf - 1, a.device);
  if (version) version(&a.driver);
  a.name = buf;
  a.known = true;
  return a;
}

// The first answer is kept and written as the gpu record.
void note_gpu_locked(Tracker& t, const GpuAnswer& a) {
  Gpu& gpu = t.process.gpu;
  if (gpu.known || !a.known) return;
  gpu = {true, static_cast<uint16_t>(a.major * 10 + a.minor), a.name};
  g_gpu_known.store(true, std::memory_order_release);
  record::Gpu r;
  stamp(r);
  r.ordinal = static_cast<int>(a.device);
  r.name = gpu.name;
  r.cc = std::to_string(a.major) + "." + std::to_string(a.minor);
  r.arch = sm(gpu.cc);
  r.driver = a.driver;
  write_record(r);
}

// The targets to judge for: the GPU in use first, then the what-if list.
std::vector<uint16_t> judged_targets(const Tracker& t) {
  std::vector<uint16_t> out;
  const Gpu& gpu = t.process.gpu;
  if (gpu.known) out.push_back(gpu.cc);
  for (const auto& target : config().targets)
    if (std::find(out.begin(), out.end(), target.cc) == out.end()) out.push_back(target.cc);
  return out;
}

// Reads the kernel names of a module's image, once. The reading checks the
// image's memory with dl_iterate_phdr, which takes the loader's lock, so it
// works on a copy made under the tracker's lock and publishes the names
// under it again, never holding it meanwhile.
void read_kernel_names_unlocked(Tracker& t, const std::shared_ptr<Module>& m) {
  LoadedImage copy;
  {
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    if (m->kernel_names_read) return;
    copy = m->image;
  }
  read_kernel_names(copy);
  std::lock_guard<std::recursive_mutex> guard(t.lock);
  if (m->kernel_names_read) return;
  m->image = std::move(copy);
  m->kernel_names_read = true;
}

// What `kernel` can use on `cc`, by the inspector's judge.
ContainerFit kernel_fit(const Module& m, const std::string& mangled, uint16_t cc) {
  return judge_kernel_name(m.image.containers, mangled, cc);
}

// Whether a failing call with this key is reported: once per key, and for at
// most kMaxLookupFailures different keys of a kind (look-ups, launches); the
// others are counted for the exit record.
template <typename Key>
bool admit_failure(ProcessActivity& p, std::set<Key>& reported, const Key& key, const char* kind) {
  if (reported.count(key)) {
    ++p.repeated_failures;
    return false;
  }
  if (reported.size() >= kMaxLookupFailures) {
    if (p.unreported_failures++ == 0)
      log(LogLevel::kWarn, "more than " + std::to_string(kMaxLookupFailures) + " different failing " + kind +
                               ": further ones are only counted (exit record)");
    return false;
  }
  reported.insert(key);
  return true;
}

// The device code of the loaded object `path` (holding `address`), unless its
// `library` record was written already. Read before the tracker's lock is
// taken: read_object_code calls dladdr and checks memory with
// dl_iterate_phdr, which take the loader's lock.
std::optional<ObjectCode> library_code_unlocked(Tracker& t, const std::string& path, const void* address) {
  {
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    if (t.process.libraries.count(path)) return std::nullopt;
  }
  return read_object_code(address);
}

// Summarises the device code of the loaded object `path` once (a `library`
// record: what `smwatch report` judges against, on any machine) and says
// whether it has code for the GPU in use. Module loads only: never on the
// launch path. Under the tracker's lock; `code` from library_code_unlocked.
bool library_serves_gpu_locked(Tracker& t, const std::string& path, std::optional<ObjectCode>& code) {
  if (auto it = t.process.libraries.find(path); it != t.process.libraries.end()) return it->second;
  if (!code) return false;  // summarised by another thread meanwhile, then forgotten by a fork: not again
  const Gpu& g = t.process.gpu;
  bool serves = false;
  record::Library record;
  stamp(record);
  record.path = path;
  record.archs = compact_archs(code->containers);
  for (const auto& c : code->containers) record.fatbins += !c.images.empty();
  if (record.fatbins > 0)
    for (uint16_t cc : judged_targets(t)) {
      CodeVerdict v = judge_code(code->containers, cc);
      record.verdicts[sm(cc)] = verdict_name(v.verdict);
      if (g.known && cc == g.cc) serves = v.containers_sass + v.containers_jit > 0;
    }
  record.problems = std::move(code->problems);
  write_record(record);
  t.process.libraries.emplace(path, serves);
  return serves;
}

// A failing look-up the library made on purpose: 209 for a kernel whose code
// is only for other GPUs, in a library that serves this one (the judge:
// ContainerFit::kNotForThisGpu). A failed look-up returns no handle, so
// nothing of it can launch. The module's kernel names are read already.
bool built_for_other_gpus(const Tracker& t, CUresult result, const Module* m, const std::string& mangled) {
  const Gpu& g = t.process.gpu;
  if (result != CUDA_ERROR_NO_BINARY_FOR_GPU || !m || !g.known || mangled.empty()) return false;
  if (kernel_fit(*m, mangled, g.cc) != ContainerFit::kNotForThisGpu) return false;
  if (m->library_serves_gpu) return true;
  CodeVerdict own = judge_code(m->image.containers, g.cc);  // the module's own code, for images off any object
  return own.containers_sass + own.containers_jit > 0;
}

// `result_name` and `caller_object` come from the caller, found before the
// tracker's lock was taken (error_name may dlsym, object_of calls dladdr).
void record_failure(Tracker& t, const char* call, CUresult result, const char* result_name, const Module* m,
                    const std::string& mangled, const std::string& caller_object, bool for_other_gpus = false) {
  const Gpu& g = t.process.gpu;
  if (for_other_gpus) ++t.process.handled_lookups;
  else ++t.process.failures;
  const std::string kernel = mangled.empty() ? "" : demangle(mangled);
  const std::string source = m ? m->source : "<module not seen by smwatch>";
  const std::string archs = m ? m->archs : "";
  const std::string gpu = g.known ? sm(g.cc) : "unknown";
  std::string fix;
  if (for_other_gpus) {
    // No fix: nothing is missing.
  } else if (result == CUDA_ERROR_NO_BINARY_FOR_GPU || result == CUDA_ERROR_INVALID_IMAGE) {
    fix = g.known ? toolkit_fix_hint(g.cc) : "install a build that includes code for this GPU";
  } else if (result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
    fix = "the PTX is newer than this driver: update the NVIDIA driver, or install a build with SASS for " + gpu;
  } else if (result == CUDA_ERROR_JIT_COMPILER_NOT_FOUND || result == CUDA_ERROR_INVALID_PTX) {
    fix = "PTX JIT is not possible here: install a build with SASS for " + gpu;
  }
  record::Failure record;
  stamp(record);
  record.call = call;
  record.error = static_cast<int>(result);
  record.error_name = result_name;
  record.kernel = kernel;
  record.mangled = mangled;
  record.source = source;
  record.archs = archs;
  record.gpu_arch = gpu;
  record.caller = caller_object;
  record.fix = fix;
  record.built_for_other_gpus = for_other_gpus;
  write_record(record);
  std::string line = std::string(result_name) + " (" + std::to_string(static_cast<int>(result)) + ") from " + call;
  if (!kernel.empty()) line += ": kernel " + kernel;
  line += " in " + source;
  if (!archs.empty()) line += " [has " + archs + "]";
  line += "; GPU is " + gpu + (g.name.empty() ? "" : " (" + g.name + ")");
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

// No lock of ours is held while anything that takes the loader's lock runs
// (dladdr, dl_iterate_phdr, dlopen, dlsym): a library's constructor runs
// with the loader's lock held and may load a module, that is, wait for the
// tracker's lock. So the hooks find the caller's object, read the image and
// ask the driver first, and take the tracker's lock only for the bookkeeping.
void on_module_load(const char* call, void* handle, bool is_library, const void* image, const char* path,
                    const void* caller, CUresult result) {
  guarded(call, [&] {
    const GpuAnswer gpu = ask_gpu();
    auto m = std::make_shared<Module>();
    m->call = call;
    m->caller = object_of(caller);
    m->image = path ? read_image_file(path) : read_image_in_memory(image);
    m->source = path ? path : !m->image.object.empty() ? m->image.object : "<memory, loaded by " + m->caller + ">";
    m->kernel_names_read = path != nullptr || m->image.object.empty();
    m->registered = m->image.in_fatbin_section;
    m->archs = compact_archs(m->image.containers);
    const char* result_name = error_name(result);
    // The whole object's device code, once per object: the one the code came
    // from, or, for code chosen at run time, the one that loaded it.
    std::string library_path;
    std::optional<ObjectCode> library_code;
    if (result == CUDA_SUCCESS) {
      library_path = m->registered ? object_of(image) : m->caller;
      if (!library_path.empty())
        library_code = library_code_unlocked(tracker(), library_path, m->registered ? image : caller);
    }
    bool has_code = false;
    for (const auto& c : m->image.containers) has_code |= !c.images.empty();

    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    note_gpu_locked(t, gpu);
    const Gpu& g = t.process.gpu;
    if (!library_path.empty()) m->library_serves_gpu = library_serves_gpu_locked(t, library_path, library_code);
    m->id = t.next_module_id++;
    ++t.process.modules_loaded;
    record::Module record;
    for (uint16_t cc : judged_targets(t)) {
      // Runtime-chosen code is judged here for the GPU in use only.
      if (!m->registered && !(g.known && cc == g.cc)) continue;
      CodeVerdict v = judge_code(m->image.containers, cc);
      record.verdicts[sm(cc)] = has_code ? verdict_name(v.verdict) : "UNKNOWN";
      if (g.known && cc == g.cc && v.verdict == Verdict::kJit)
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
    record.result_name = result_name;
    record.problems = m->image.problems;
    write_record(record);
    if (result != CUDA_SUCCESS) record_failure(t, call, result, result_name, m.get(), "", m->caller);
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
    if (result == CUDA_ERROR_NOT_FOUND) return;
    Tracker& t = tracker();
    const bool failed = result != CUDA_SUCCESS;
    // Found before the tracker's lock is taken (see on_module_load).
    const std::string caller_object = failed ? object_of(caller) : "";
    const char* result_name = failed ? error_name(result) : "";
    std::shared_ptr<Module> m;
    {
      std::lock_guard<std::recursive_mutex> guard(t.lock);
      auto it = t.modules.find(module_or_library);
      if (it != t.modules.end()) m = it->second;
    }
    const bool judged = !failed && handle && m && m->registered && !config().targets.empty();
    // A 209 look-up may be of a kernel built only for other GPUs: the judge needs the names.
    const bool maybe_for_other_gpus = result == CUDA_ERROR_NO_BINARY_FOR_GPU && m && name;
    if (judged || maybe_for_other_gpus) read_kernel_names_unlocked(t, m);

    std::lock_guard<std::recursive_mutex> guard(t.lock);
    const std::string mangled = name ? name : "";
    if (failed) {
      // Once per (module, name, error): a program that retries a failing
      // look-up a million times gets one record and a count.
      auto key = std::make_tuple(module_or_library, std::hash<std::string_view>{}(mangled), static_cast<int>(result));
      if (admit_failure(t.process, t.process.reported_lookup_errors, key, "look-ups"))
        record_failure(t, call, result, result_name, m.get(), mangled, caller_object,
                       built_for_other_gpus(t, result, m.get(), mangled));
      return;
    }
    if (!handle || !m) return;
    auto k = std::make_shared<Kernel>();
    k->module = m;
    k->mangled = mangled;
    if (judged)
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
    const char* result_name = result != CUDA_SUCCESS ? error_name(result) : "";
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    ProcessActivity& p = t.process;
    auto it = t.kernels.find(function);
    std::shared_ptr<Kernel> k = it == t.kernels.end() ? nullptr : it->second;
    if (result != CUDA_SUCCESS) {
      // Once per (function, error), for as many different ones as look-ups.
      if (admit_failure(p, p.reported_launch_errors, std::make_pair(static_cast<void*>(function), static_cast<int>(result)),
                        "launches"))
        record_failure(t, call, result, result_name, k ? k->module.get() : nullptr, k ? k->mangled : "", "");
      return;
    }
    ++p.kernels_used;
    if (!k || k->launched) return;
    k->launched = true;
    if (!k->module->registered && !config().targets.empty()) {
      ++p.runtime_kernels;
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
      ++p.missing_per_target[target];
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

// What a forked child keeps and what starts again, the one list of it (the
// report file's part is in sink.cc):
//  - starts again: t.process (every count of the report, the failures
//    reported, the GPU) and the launch counters: the child's report covers
//    the child alone, and reports its failures even where the parent had
//    the same ones;
//  - kept: t.modules, t.kernels - the child holds the parent's handles,
//    which stand for the same code, and a failure with one is attributed;
//    next_module_id - ids stay unique across the two;
//  - kept: the first-launch set (g_seen, Kernel::launched) - a kernel the
//    parent launched had its records written in the parent's report, and
//    clearing 64 Ki slots would copy half a megabyte into every child;
//  - the lock: a fresh one, since the child's one thread does not own it.
void tracker_fork(ForkStage stage) {
  Tracker& t = tracker();
  switch (stage) {
    case ForkStage::kPrepare: t.lock.lock(); break;
    case ForkStage::kParent: t.lock.unlock(); break;
    case ForkStage::kChild:
      new (&t.lock) std::recursive_mutex;  // see sink.cc
      t.process = ProcessActivity{};
      g_gpu_known.store(false, std::memory_order_relaxed);
      for (auto& c : g_launches) c.value.store(0, std::memory_order_relaxed);
      break;
  }
}

static size_t missing_for(const ProcessActivity& p, const std::string& target) {
  auto it = p.missing_per_target.find(target);
  return it == p.missing_per_target.end() ? 0 : it->second;
}

void write_exit_summary() {
  guarded("exit", [&] {
    Tracker& t = tracker();
    std::lock_guard<std::recursive_mutex> guard(t.lock);
    const ProcessActivity& p = t.process;
    if (p.modules_loaded == 0 && p.failures == 0) return;  // this process never used CUDA
    uint64_t launches = 0;
    for (const auto& c : g_launches) launches += c.value.load(std::memory_order_relaxed);
    const uint64_t dropped = records_dropped();
    record::Exit exit;
    stamp(exit);
    exit.launches = launches;
    exit.modules = p.modules_loaded;
    exit.kernels_used = p.kernels_used;
    exit.failures = p.failures;
    exit.runtime_kernels = p.runtime_kernels;
    exit.repeated_failures = p.repeated_failures;
    exit.unreported_failures = p.unreported_failures;
    for (const auto& target : config().targets) exit.missing[target.sm_name()] = missing_for(p, target.sm_name());
    exit.handled_lookups = p.handled_lookups;
    exit.dropped_records = dropped;
    write_record(exit);
    std::string line = "pid " + std::to_string(getpid()) + ": " + std::to_string(p.modules_loaded) + " modules, " +
                       std::to_string(p.kernels_used) + " kernels used, " + std::to_string(launches) + " launches, " +
                       std::to_string(p.failures) + (p.failures == 1 ? " failure" : " failures");
    if (p.repeated_failures) line += " (and " + std::to_string(p.repeated_failures) + " repeats not shown)";
    if (p.unreported_failures)
      line += " (and " + std::to_string(p.unreported_failures) + " more, past the first " +
              std::to_string(kMaxLookupFailures) + " different ones)";
    if (p.handled_lookups)
      line += "; " + std::to_string(p.handled_lookups) +
              " look-ups of kernels built only for other GPUs, handled by their libraries";
    if (p.gpu.known) line += "; GPU " + sm(p.gpu.cc) + " (" + p.gpu.name + ")";
    if (dropped) line += "; " + std::to_string(dropped) + " report records did not fit (file size limit or full disk)";
    for (const auto& target : config().targets)
      line += "; what-if " + target.sm_name() + ": " + std::to_string(missing_for(p, target.sm_name())) +
              " of the kernels used lack code";
    if (p.runtime_kernels > 0)
      line += "; " + std::to_string(p.runtime_kernels) +
              " kernels chosen or generated at run time for this GPU (smwatch report judges them)";
    log(p.failures ? LogLevel::kError : LogLevel::kWarn, line);
  });
}

}  // namespace smwatch::shim
