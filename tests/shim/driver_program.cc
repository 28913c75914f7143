// A CUDA driver-API program for the shim's tests. Built twice:
//  - driver_direct: linked with -lcuda, calls the exported entry points;
//  - driver_runtime_style (SMWATCH_RUNTIME_STYLE): reaches the driver the way
//    the CUDA runtime does, dlsym(libcuda, "cuGetProcAddress_v2") once, then
//    cuGetProcAddress for "cuGetProcAddress" itself and everything else,
//    with the per-thread-default-stream flag for the launches.
// It prints the result of every call, so a run with and without the shim can
// be compared line for line.
#include <cuda.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "smwatch/elf_file.h"
#include "smwatch/fatbin.h"

namespace {

struct Api {
  CUresult (*init)(unsigned);
  CUresult (*module_load)(CUmodule*, const char*);
  CUresult (*module_load_data)(CUmodule*, const void*);
  CUresult (*module_load_fat_binary)(CUmodule*, const void*);
  CUresult (*module_get_function)(CUfunction*, CUmodule, const char*);
  CUresult (*library_load_data)(CUlibrary*, const void*, CUjit_option*, void**, unsigned, CUlibraryOption*, void**,
                                unsigned);
  CUresult (*library_get_kernel)(CUkernel*, CUlibrary, const char*);
  CUresult (*kernel_get_function)(CUfunction*, CUkernel);
  CUresult (*launch)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                     void**, void**);
  CUresult (*launch_ex)(const CUlaunchConfig*, CUfunction, void**, void**);
  CUresult (*launch_coop)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                          void**);
};

using CountsFn = void (*)(uint64_t*, uint64_t*, uint64_t*, uint64_t*);
CountsFn g_counts = nullptr;

#ifdef SMWATCH_RUNTIME_STYLE
Api load_api() {
  void* libcuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!libcuda) {
    printf("dlopen libcuda.so.1 failed: %s\n", dlerror());
    exit(3);
  }
  using Gpa = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
  auto first = reinterpret_cast<Gpa>(dlsym(libcuda, "cuGetProcAddress_v2"));
  Gpa gpa = nullptr;
  CUdriverProcAddressQueryResult status;
  first("cuGetProcAddress", reinterpret_cast<void**>(&gpa), 12080, 0, &status);
  auto get = [&](const char* name, cuuint64_t flags = 0) {
    void* fn = nullptr;
    CUresult r = gpa(name, &fn, 12080, flags, &status);
    if (r != CUDA_SUCCESS || !fn) {
      printf("cuGetProcAddress(%s) failed: %d\n", name, r);
      exit(3);
    }
    return fn;
  };
  const cuuint64_t pt = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
  Api api;
  api.init = reinterpret_cast<decltype(api.init)>(get("cuInit"));
  api.module_load = reinterpret_cast<decltype(api.module_load)>(get("cuModuleLoad"));
  api.module_load_data = reinterpret_cast<decltype(api.module_load_data)>(get("cuModuleLoadData"));
  api.module_load_fat_binary = reinterpret_cast<decltype(api.module_load_fat_binary)>(get("cuModuleLoadFatBinary"));
  api.module_get_function = reinterpret_cast<decltype(api.module_get_function)>(get("cuModuleGetFunction"));
  api.library_load_data = reinterpret_cast<decltype(api.library_load_data)>(get("cuLibraryLoadData"));
  api.library_get_kernel = reinterpret_cast<decltype(api.library_get_kernel)>(get("cuLibraryGetKernel"));
  api.kernel_get_function = reinterpret_cast<decltype(api.kernel_get_function)>(get("cuKernelGetFunction"));
  api.launch = reinterpret_cast<decltype(api.launch)>(get("cuLaunchKernel", pt));
  api.launch_ex = reinterpret_cast<decltype(api.launch_ex)>(get("cuLaunchKernelEx", pt));
  api.launch_coop = reinterpret_cast<decltype(api.launch_coop)>(get("cuLaunchCooperativeKernel", pt));
  g_counts = reinterpret_cast<CountsFn>(dlsym(libcuda, "fake_cuda_launch_counts"));
  return api;
}
#else
extern "C" void fake_cuda_launch_counts(uint64_t*, uint64_t*, uint64_t*, uint64_t*);
Api load_api() {
  g_counts = &fake_cuda_launch_counts;
  return Api{&cuInit,           &cuModuleLoad,        &cuModuleLoadData,   &cuModuleLoadFatBinary,
             &cuModuleGetFunction, &cuLibraryLoadData, &cuLibraryGetKernel, &cuKernelGetFunction,
             &cuLaunchKernel,   &cuLaunchKernelEx,    &cuLaunchCooperativeKernel};
}
#endif

std::vector<char> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The addresses, in this process, of the fatbin containers of a loaded
// shared object, in section order (the last is the one nvcc made from the
// fixture's own kernels).
std::vector<const void*> fatbins_in_loaded_object(const char* path) {
  std::vector<char> file = read_file(path);
  smwatch::ByteView bytes(file.data(), file.size());
  auto sections = smwatch::find_fatbin_sections(bytes);
  if (!sections || sections->empty()) return {};
  std::vector<std::string> problems;
  auto containers = smwatch::parse_fatbin_region(*bytes.slice((*sections)[0].offset, (*sections)[0].size),
                                                 (*sections)[0].offset, problems);
  struct Query { const char* name; std::vector<uint64_t> offsets; std::vector<const void*> addresses; } q{path, {}, {}};
  for (const auto& c : containers) q.offsets.push_back(c.offset);
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* q = static_cast<Query*>(data);
        std::string name = info->dlpi_name ? info->dlpi_name : "";
        std::string want = q->name;
        if (name.size() < want.size() || name.compare(name.size() - want.size(), want.size(), want) != 0) return 0;
        for (uint64_t offset : q->offsets)
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const auto& ph = info->dlpi_phdr[i];
            if (ph.p_type == PT_LOAD && offset >= ph.p_offset && offset < ph.p_offset + ph.p_filesz)
              q->addresses.push_back(reinterpret_cast<const void*>(info->dlpi_addr + ph.p_vaddr + (offset - ph.p_offset)));
          }
        return 1;
      },
      &q);
  return q.addresses;
}

const void* fatbin_in_loaded_object(const char* path) {
  auto all = fatbins_in_loaded_object(path);
  return all.empty() ? nullptr : all.back();
}

const char* arg(int argc, char** argv, const char* name, const char* fallback = nullptr) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

constexpr const char* kKernel = "_Z12scale_by_twoPfi";

// The descriptor of this process's smwatch report, if one is open: -1 when none.
int report_descriptor() {
  for (int fd = 3; fd < 1024; ++fd) {
    char link[4096];
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1);
    if (n > 0 && std::string(link, static_cast<size_t>(n)).find("/smwatch-") != std::string::npos) return fd;
  }
  return -1;
}

// Closes every descriptor above 2, as daemons and sandboxes do (closefrom).
void close_from_3() {
  for (int fd = 3; fd < 1024; ++fd) close(fd);
}

// --steal-report closefrom|dup2 --host-file F: after the shim's first records,
// the program takes descriptor numbers the shim may hold (closes them all and
// opens F, or dup2s F over the report's descriptor) and writes to F; the
// shim must never write into F. Prints what it did.
void steal_report(const char* how, const char* host_file) {
  int target = report_descriptor();
  if (std::strcmp(how, "closefrom") == 0) close_from_3();
  int fd = open(host_file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (std::strcmp(how, "dup2") == 0 && target >= 0 && fd != target) {
    dup2(fd, target);
    close(fd);
    fd = target;
  }
  const char data[] = "the host's own data\n";
  ssize_t ignored = write(fd, data, sizeof data - 1);
  (void)ignored;
  printf("steal-report %s: report descriptor %s, host file on %s\n", how, target >= 0 ? "found" : "none",
         fd == target ? "its number" : "a number of its own");
}

// --fork-pipe 1: after closing every descriptor above 2, a pipe whose write
// end takes the lowest number (the one a report descriptor had); a forked
// child writes through it. The shim's fork handler must leave it alone.
void fork_through_pipe() {
  close_from_3();
  int p[2];
  if (pipe(p) != 0) return;
  int read_end = dup(p[0]);
  dup2(p[1], p[0]);  // the write end on the lowest number
  close(p[1]);
  const int write_end = p[0];
  pid_t child = fork();
  if (child == 0) {
    const char ping[] = "ping";
    _exit(write(write_end, ping, 4) == 4 ? 0 : 1);
  }
  close(write_end);
  int status = 0;
  waitpid(child, &status, 0);
  char got[8] = {};
  ssize_t n = read(read_end, got, sizeof got - 1);
  printf("fork-pipe: child exit=%d, parent read \"%s\"\n", WEXITSTATUS(status), n > 0 ? got : "");
}

// --dlopen-race N --ctor-lib L: one thread loads modules without a pause
// while another dlopens and dlcloses L N times; L's constructor loads a
// module, with the loader's lock held. Prints when both are done.
void dlopen_race(const Api& api, const std::vector<char>& image, int rounds, const char* lib) {
  std::atomic<bool> done{false};
  std::atomic<long> loads{0};
  std::thread loader([&] {
    while (!done.load()) {
      CUmodule m = nullptr;
      if (api.module_load_data(&m, image.data()) == CUDA_SUCCESS) ++loads;
    }
  });
  int opened = 0;
  for (int i = 0; i < rounds; ++i) {
    void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h) {
      ++opened;
      dlclose(h);
    }
  }
  done = true;
  loader.join();
  printf("dlopen-race: %d of %d dlopens, loads %s\n", opened, rounds, loads > 0 ? "done" : "none");
}

// --truncate-race SECONDS: cuModuleLoad of a copy of --cubin80's file while
// another thread keeps cutting it to nothing and writing it again.
void truncate_race(const Api& api, const char* source, const char* copy, double seconds) {
  std::vector<char> bytes = read_file(source);
  int fd = open(copy, O_RDWR | O_CREAT | O_TRUNC, 0644);
  std::atomic<bool> done{false};
  std::thread cutter([&] {
    while (!done.load()) {
      ssize_t ignored = pwrite(fd, bytes.data(), bytes.size(), 0);
      (void)ignored;
      ignored = ftruncate(fd, 0);
    }
  });
  long calls = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    CUmodule m = nullptr;
    api.module_load(&m, copy);
    ++calls;
  }
  done = true;
  cutter.join();
  close(fd);
  printf("truncate-race: the program lived through %s cuModuleLoad calls\n", calls > 0 ? "its" : "no");
}

// --fifo PATH: cuModuleLoad of a FIFO that a writer fills once and closes;
// the driver drains it. Nothing may wait for a second writer.
void load_fifo(const Api& api, const char* source, const char* path) {
  std::vector<char> bytes = read_file(source);
  unlink(path);
  if (mkfifo(path, 0600) != 0) {
    printf("mkfifo failed\n");
    return;
  }
  std::thread writer([&] {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return;
    ssize_t ignored = write(fd, bytes.data(), bytes.size());
    (void)ignored;
    close(fd);
  });
  CUmodule m = nullptr;
  CUresult r = api.module_load(&m, path);
  writer.join();
  printf("cuModuleLoad(fifo) rc=%d\n", r);
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const char* fatbin80 = arg(argc, argv, "--fatbin80");
  const char* multi = arg(argc, argv, "--multi");
  const char* so80 = arg(argc, argv, "--so80");
  const char* cubin80 = arg(argc, argv, "--cubin80");
  const char* multi_so = arg(argc, argv, "--multi-so");  // optional
  const int launches = atoi(arg(argc, argv, "--launches", "1000"));
  const int threads = atoi(arg(argc, argv, "--threads", "1"));
  const char* crash = arg(argc, argv, "--crash", "");
  const bool do_fork = arg(argc, argv, "--fork", nullptr) != nullptr;
  const bool fork_repeats = arg(argc, argv, "--fork-repeats", nullptr) != nullptr;
  if (!fatbin80 || !multi || !so80 || !cubin80) {
    fprintf(stderr, "usage: %s --fatbin80 F --multi F --so80 F --cubin80 F [--launches N] [--threads N] "
                    "[--fork 1] [--crash segv|abort|kill] [--fsize BYTES [--xfsz ignore|default]] [--bad-lookups N] "
                    "[--distinct-bad-lookups N] [--odd-cubin F] [--distinct-bad-launches N] [--fork-repeats 1] "
                    "[--steal-report closefrom|dup2 --host-file F] [--fork-pipe 1] [--dlopen-race N --ctor-lib F] "
                    "[--truncate-race SECONDS --copy F] [--fifo F] "
                    "[--other-gpus-so F] [--other-gpus-only-so F]\n", argv[0]);
    return 2;
  }
  // A file size limit (the shim's report fills up), with SIGXFSZ ignored or
  // left to kill the process as it does by default.
  if (const char* fsize = arg(argc, argv, "--fsize")) {
    struct rlimit limit = {strtoull(fsize, nullptr, 10), RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &limit);
    if (std::strcmp(arg(argc, argv, "--xfsz", "ignore"), "ignore") == 0) signal(SIGXFSZ, SIG_IGN);
  }
  Api api = load_api();
  printf("cuInit rc=%d\n", api.init(0));

  // 1. A heap copy of an sm_80-only fatbin through the library API.
  std::vector<char> heap80 = read_file(fatbin80);
  CUlibrary lib80 = nullptr;
  printf("cuLibraryLoadData(heap sm80) rc=%d\n", api.library_load_data(&lib80, heap80.data(), nullptr, nullptr, 0,
                                                                         nullptr, nullptr, 0));
  if (const char* how = arg(argc, argv, "--steal-report")) steal_report(how, arg(argc, argv, "--host-file", "/dev/null"));
  CUkernel k80 = nullptr;
  printf("cuLibraryGetKernel(sm80) rc=%d\n", api.library_get_kernel(&k80, lib80, kKernel));

  // 2. The multi-architecture fatbin through the module API, launched.
  std::vector<char> heap_multi = read_file(multi);
  CUmodule mod = nullptr;
  printf("cuModuleLoadData(heap multi) rc=%d\n", api.module_load_data(&mod, heap_multi.data()));
  CUfunction f = nullptr;
  printf("cuModuleGetFunction(multi) rc=%d\n", api.module_get_function(&f, mod, kKernel));
  printf("cuModuleGetFunction(multi, missing name) rc=%d\n", api.module_get_function(&f, mod, "no_such_kernel") );
  api.module_get_function(&f, mod, kKernel);

  // 3. An sm_80-only fatbin inside a loaded shared object, and the runtime's
  //    registration wrapper around it.
  void* so = dlopen(so80, RTLD_NOW | RTLD_LOCAL);
  const void* in_object = so ? fatbin_in_loaded_object(so80) : nullptr;
  printf("in-object fatbin %s\n", in_object ? "found" : "NOT FOUND");
  CUlibrary lib_so = nullptr;
  printf("cuLibraryLoadData(in-object sm80) rc=%d\n", api.library_load_data(&lib_so, in_object, nullptr, nullptr, 0,
                                                                             nullptr, nullptr, 0));
  CUkernel k_so = nullptr;
  printf("cuLibraryGetKernel(in-object sm80) rc=%d\n", api.library_get_kernel(&k_so, lib_so, kKernel));
  struct { int magic; int version; const void* data; void* filename; } wrapper{
      static_cast<int>(smwatch::kFatbinWrapperMagic), 1, in_object, nullptr};
  CUmodule wrapped = nullptr;
  printf("cuModuleLoadFatBinary(wrapper) rc=%d\n", api.module_load_fat_binary(&wrapped, &wrapper));
  CUfunction f_wrapped = nullptr;
  printf("cuModuleGetFunction(wrapper) rc=%d\n", api.module_get_function(&f_wrapped, wrapped, kKernel));

  // 4. A cubin file by path.
  CUmodule mod_file = nullptr;
  printf("cuModuleLoad(sm80.cubin) rc=%d\n", api.module_load(&mod_file, cubin80));
  CUfunction f_file = nullptr;
  printf("cuModuleGetFunction(sm80.cubin) rc=%d\n", api.module_get_function(&f_file, mod_file, kKernel));

  // 4b. A multi-architecture fatbin registered from a loaded object's
  //     .nv_fatbin (as the CUDA runtime does), its kernel launched once.
  if (multi_so) {
    void* handle = dlopen(multi_so, RTLD_NOW | RTLD_LOCAL);
    const void* registered = handle ? fatbin_in_loaded_object(multi_so) : nullptr;
    CUlibrary lib_multi = nullptr;
    printf("cuLibraryLoadData(in-object multi) rc=%d\n",
           api.library_load_data(&lib_multi, registered, nullptr, nullptr, 0, nullptr, nullptr, 0));
    CUkernel k_multi = nullptr;
    printf("cuLibraryGetKernel(in-object multi) rc=%d\n", api.library_get_kernel(&k_multi, lib_multi, kKernel));
    CUfunction f_multi = nullptr;
    api.kernel_get_function(&f_multi, k_multi);
    printf("launch(in-object multi) rc=%d\n", api.launch(f_multi, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr));
  }

  // 4c. A library looking up a kernel built only for other GPUs (sm_100a),
  //     as NCCL does: every container of the object registered, the kernel
  //     looked up in each (--other-gpus-so: the object also has code for
  //     this GPU; --other-gpus-only-so: it has none).
  for (const char* option : {"--other-gpus-so", "--other-gpus-only-so"}) {
    const char* path = arg(argc, argv, option);
    if (!path) continue;
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    std::vector<const void*> containers = handle ? fatbins_in_loaded_object(path) : std::vector<const void*>{};
    printf("%s: %zu containers\n", option, containers.size());
    for (const void* container : containers) {
      CUlibrary lib = nullptr;
      CUresult load_rc = api.library_load_data(&lib, container, nullptr, nullptr, 0, nullptr, nullptr, 0);
      CUkernel kernel = nullptr;
      CUresult rc = load_rc == CUDA_SUCCESS ? api.library_get_kernel(&kernel, lib, "_Z21fp8_only_on_blackwellPf")
                                            : load_rc;
      if (rc != CUDA_ERROR_NOT_FOUND) printf("%s: cuLibraryGetKernel(fp8_only_on_blackwell) rc=%d\n", option, rc);
    }
  }

  // 4b. Failing look-ups, repeated (--bad-lookups N: the same two failures N
  //     times each) or all different (--distinct-bad-lookups N); the
  //     stand-in driver fails a name "fake_fail_<code>...".
  const int bad_lookups = atoi(arg(argc, argv, "--bad-lookups", "0"));
  const int distinct_bad = atoi(arg(argc, argv, "--distinct-bad-lookups", "0"));
  int lookup_failed = 0;
  for (int i = 0; i < bad_lookups; ++i) {
    CUfunction bad = nullptr;
    CUkernel bad_kernel = nullptr;
    lookup_failed += api.module_get_function(&bad, mod, "fake_fail_300_same") != CUDA_SUCCESS;
    lookup_failed += api.library_get_kernel(&bad_kernel, lib80, kKernel) != CUDA_SUCCESS;
  }
  for (int i = 0; i < distinct_bad; ++i) {
    CUfunction bad = nullptr;
    lookup_failed += api.module_get_function(&bad, mod, ("fake_fail_300_" + std::to_string(i)).c_str()) != 0;
  }
  if (bad_lookups || distinct_bad) printf("failed look-ups: %d\n", lookup_failed);
  // 4c. Names from outside with control characters: a cubin at an odd path
  //     (--odd-cubin) and an odd kernel name.
  if (const char* odd = arg(argc, argv, "--odd-cubin")) {
    CUmodule odd_mod = nullptr;
    printf("cuModuleLoad(odd path) rc=%d\n", api.module_load(&odd_mod, odd));
    CUfunction odd_f = nullptr;
    printf("cuModuleGetFunction(odd path) rc=%d\n", api.module_get_function(&odd_f, odd_mod, kKernel));
    printf("cuModuleGetFunction(odd name) rc=%d\n",
           api.module_get_function(&odd_f, odd_mod, "fake_fail_300_\x1b]0;title\x07\x1b[31mred\nsmwatch: forged line"));
  }

  // 4d. Launches that fail, each of a different function handle (the
  //     stand-in driver fails odd handles).
  const int distinct_bad_launches = atoi(arg(argc, argv, "--distinct-bad-launches", "0"));
  int launch_failed = 0;
  for (int i = 0; i < distinct_bad_launches; ++i) {
    auto bad = reinterpret_cast<CUfunction>(static_cast<uintptr_t>(2 * i + 1));
    launch_failed += api.launch(bad, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr) != CUDA_SUCCESS;
  }
  if (distinct_bad_launches) printf("failed launches: %d\n", launch_failed);
  if (const char* race = arg(argc, argv, "--dlopen-race"))
    dlopen_race(api, heap_multi, atoi(race), arg(argc, argv, "--ctor-lib", ""));
  if (const char* race = arg(argc, argv, "--truncate-race"))
    truncate_race(api, cubin80, arg(argc, argv, "--copy", "/tmp/smwatch-truncate-race.cubin"), atof(race));
  if (const char* fifo = arg(argc, argv, "--fifo")) load_fifo(api, cubin80, fifo);

  // 5. Launches, from several threads if asked.
  // --fork-repeats: the parent fails a look-up and a launch, and the child
  // fails the same two: the child's report must have them too.
  auto fail_twice = [&] {
    CUfunction bad = nullptr;
    int failed = api.module_get_function(&bad, mod, "fake_fail_300_fork") != CUDA_SUCCESS;
    failed += api.launch(reinterpret_cast<CUfunction>(uintptr_t{1}), 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr) !=
              CUDA_SUCCESS;
    return failed;
  };
  if (fork_repeats) printf("parent failed %d\n", fail_twice());
  if (do_fork) {
    pid_t child = fork();
    if (child == 0) {
      CUmodule child_mod = nullptr;
      int rc = api.module_load_data(&child_mod, heap_multi.data());
      CUfunction child_f = nullptr;
      api.module_get_function(&child_f, child_mod, kKernel);
      int bad = 0;
      for (int i = 0; i < 10; ++i) bad += api.launch(child_f, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr) != 0;
      printf("child load rc=%d launch failures=%d\n", rc, bad);
      if (fork_repeats) printf("child failed %d\n", fail_twice());
      exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child exit=%d\n", WEXITSTATUS(status));
  }
  if (arg(argc, argv, "--fork-pipe")) fork_through_pipe();
  std::vector<std::thread> pool;
  std::atomic<int> failed{0};
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < launches; ++i)
        if (api.launch(f, 1, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr) != CUDA_SUCCESS) ++failed;
    });
  for (auto& t : pool) t.join();
  printf("cuLaunchKernel x%d on %d threads: %d failed\n", launches, threads, failed.load());
  CUlaunchConfig config{};
  config.gridDimX = config.gridDimY = config.gridDimZ = config.blockDimX = config.blockDimY = config.blockDimZ = 1;
  printf("cuLaunchKernelEx rc=%d\n", api.launch_ex(&config, f, nullptr, nullptr));
  printf("cuLaunchCooperativeKernel rc=%d\n", api.launch_coop(f, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr));
  printf("cuLaunchKernel(null) rc=%d\n", api.launch(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr));
  uint64_t plain = 0, ptsz = 0, ex = 0, coop = 0;
  if (g_counts) g_counts(&plain, &ptsz, &ex, &coop);
  printf("driver saw launches: plain=%llu ptsz=%llu ex=%llu coop=%llu\n", (unsigned long long)plain,
         (unsigned long long)ptsz, (unsigned long long)ex, (unsigned long long)coop);

  if (std::strcmp(crash, "segv") == 0) raise(SIGSEGV);
  if (std::strcmp(crash, "abort") == 0) abort();
  if (std::strcmp(crash, "kill") == 0) raise(SIGKILL);
  return 0;
}
