#include "smwatch/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include <fmt/format.h>

namespace smwatch {
namespace {

// A mapped file that another process cuts (truncate, or a rewrite in place)
// turns every read of a page past its new end into SIGBUS, whose default
// action ends the process: one file cut during a scan of a tree lost the
// results of every other file. Each mapping is registered here; the SIGBUS
// handler puts zero pages in place of the part of a registered mapping that
// faulted, marks it cut, and returns, so the read goes on (and reads zeros).
// The file is then reported as changed while read (MappedFile::changed).
// A SIGBUS anywhere else goes to the handler that was there before.
struct Guard {
  std::atomic<bool> used{false};
  std::atomic<uintptr_t> start{0};  // 0: not armed
  std::atomic<size_t> length{0};
  std::atomic<bool> cut{false};
};
constexpr size_t kGuards = 4096;
Guard g_guards[kGuards];
struct sigaction g_previous {};
uintptr_t g_page = 4096;

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Guard& g : g_guards) {
    const uintptr_t start = g.start.load(std::memory_order_acquire);
    const size_t length = g.length.load(std::memory_order_acquire);
    if (start == 0 || addr < start || addr - start >= length) continue;
    // From the faulting page to the end of the mapping: private zero pages.
    const uintptr_t page = addr & ~(g_page - 1);
    const uintptr_t end = (start + length + g_page - 1) & ~(g_page - 1);
    void* zeros = mmap(reinterpret_cast<void*>(page), end - page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros != MAP_FAILED) {
      g.cut.store(true, std::memory_order_release);
      errno = saved_errno;
      return;  // the read is tried again, and now finds zeros
    }
    break;
  }
  errno = saved_errno;
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) return g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != nullptr) {
    return g_previous.sa_handler(sig);
  }
  // Not ours, and nobody else's: the default action, when the read is tried again.
  signal(sig, SIG_DFL);
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous);
  });
}

int arm(void* data, size_t size) {
  for (size_t i = 0; i < kGuards; ++i) {
    bool expected = false;
    if (!g_guards[i].used.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    g_guards[i].cut.store(false, std::memory_order_relaxed);
    g_guards[i].length.store(size, std::memory_order_release);
    g_guards[i].start.store(reinterpret_cast<uintptr_t>(data), std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

void disarm(int guard) {
  if (guard < 0) return;
  Guard& g = g_guards[guard];
  g.start.store(0, std::memory_order_release);
  g.length.store(0, std::memory_order_release);
  g.used.store(false, std::memory_order_release);
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return make_error(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(std::string("cannot stat: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("not a regular file");
  }
  if (st.st_size == 0) return MappedFile(fd, nullptr, 0, -1);
  install_handler();
  void* data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    return make_error(std::string("cannot map: ") + std::strerror(err));
  }
  const int guard = arm(data, static_cast<size_t>(st.st_size));
  if (guard < 0) {  // never read through a mapping that a cut could turn into a signal
    munmap(data, static_cast<size_t>(st.st_size));
    ::close(fd);
    return make_error(fmt::format("cannot map: {} files are mapped already", kGuards));
  }
  return MappedFile(fd, data, static_cast<size_t>(st.st_size), guard);
}

std::optional<std::string> MappedFile::changed() const {
  struct stat st {};
  const bool cut = guard_ >= 0 && g_guards[guard_].cut.load(std::memory_order_acquire);
  const bool stat_ok = fd_ >= 0 && fstat(fd_, &st) == 0;
  if (!cut && (!stat_ok || static_cast<uint64_t>(st.st_size) == size_)) return std::nullopt;
  const std::string now = stat_ok ? fmt::format("{} now", st.st_size) : "unknown now";
  return fmt::format("the file changed size while it was read ({} bytes when opened, {}): cut by another "
                     "process? What was read past the cut counts as zeros; scan it again",
                     size_, now);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      guard_(std::exchange(other.guard_, -1)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    guard_ = std::exchange(other.guard_, -1);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
  disarm(guard_);
  guard_ = -1;
  if (data_) munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace smwatch
