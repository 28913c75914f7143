// Configuration from the environment, the per-process JSONL report, log
// lines on stderr, and what happens at fork and exit.
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>


#include "shim.h"
#include "smwatch/text.h"
#include "smwatch/version.h"

namespace smwatch::shim {
namespace {

enum class FileState { kNotOpened, kOpen, kUnavailable };

// This process's report file. The shim keeps no descriptor open between
// records: the host may close descriptors it does not know about (closefrom,
// daemonising, sandboxes) and open its own under the same numbers, dup2 over
// them, or fork. Each record opens the file by its path, checks with fstat
// that it is still the file the shim created (device and inode), writes and
// closes again, so every descriptor the shim touches is one it opened itself
// a moment before.
// In a forked child all of it starts again (ReportFile{}): the child writes a
// report of its own, and the parent's file is the parent's.
struct ReportFile {
  FileState state = FileState::kNotOpened;
  std::string path;          // absolute, so that a chdir of the host changes nothing
  dev_t dev = 0;             // identity of the file created, checked before every use
  ino_t ino = 0;
  uint64_t dropped = 0;      // records that did not fit (or found the file gone)
  bool warned_write = false;
  bool warned_gone = false;
};

struct Sink {
  std::recursive_mutex lock;
  Config config;
  ReportFile file;
};

// Never destroyed: hosts call into CUDA from their own exit handlers and
// static destructors, after ours would have run.
Sink* g_sink = nullptr;
std::atomic<bool> g_active{true};
std::once_flag g_init_once;

LogLevel parse_level(const char* text) {
  if (text == nullptr) return LogLevel::kWarn;
  std::string s(text);
  if (s == "quiet" || s == "off" || s == "0") return LogLevel::kQuiet;
  if (s == "error") return LogLevel::kError;
  if (s == "info") return LogLevel::kInfo;
  if (s == "debug") return LogLevel::kDebug;
  return LogLevel::kWarn;
}

void write_all_to_stderr(const std::string& text) {
  // One write per line, so lines of concurrent processes do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

void init_once() {
  g_sink = new Sink;
  // secure_getenv: in setuid/setgid programs (AT_SECURE) the environment is
  // not trusted, so no report directory, no targets - the shim stays passive.
  Config& c = g_sink->config;
  const char* disable = secure_getenv("SMWATCH_DISABLE");
  c.disabled = disable != nullptr && *disable && std::strcmp(disable, "0") != 0;
  c.log_level = parse_level(secure_getenv("SMWATCH_LOG"));
  if (const char* dir = secure_getenv("SMWATCH_REPORT"); dir && *dir) c.report_dir = dir;
  if (const char* targets = secure_getenv("SMWATCH_TARGETS"); targets && *targets) {
    auto parsed = parse_target_list(targets);
    if (parsed) c.targets = *parsed;
    else log(LogLevel::kWarn, std::string("SMWATCH_TARGETS ignored: ") + parsed.error().message);
  }
  if (c.disabled) g_active = false;
  // Hold every lock across fork, so the child never inherits one taken by a
  // thread that does not exist there (tracker's first: that is the order the
  // code takes them in; image_reader's is never held with another). What the
  // child keeps and starts again: ReportFile (here) and tracker_fork's list.
  pthread_atfork(
      [] {
        tracker_fork(ForkStage::kPrepare);
        g_sink->lock.lock();
        image_reader_fork(ForkStage::kPrepare);
      },
      [] {
        image_reader_fork(ForkStage::kParent);
        g_sink->lock.unlock();
        tracker_fork(ForkStage::kParent);
      },
      [] {
        image_reader_fork(ForkStage::kChild);
        // A recursive mutex remembers its owner's thread id, which the
        // child's one thread does not have: make a fresh one.
        new (&g_sink->lock) std::recursive_mutex;
        // Nothing to close: the shim holds no descriptor between records.
        g_sink->file = ReportFile{};
        tracker_fork(ForkStage::kChild);
      });
  atexit([] { write_exit_summary(); });
}

std::string read_proc(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < 65536) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  for (char& ch : out)
    if (ch == '\0') ch = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Opens this process's report file, once; warns once and gives up when the
// directory is missing and cannot be made, read-only, full, a symbolic link,
// or writable by others without the sticky bit.
void open_report_locked() {
  Sink& s = *g_sink;
  ReportFile& f = s.file;
  if (f.state != FileState::kNotOpened) return;
  f.state = FileState::kUnavailable;
  std::string dir = s.config.report_dir;
  if (dir.empty()) return;
  if (dir[0] != '/') {
    // Records reopen the file by its path: made absolute now, the host may chdir.
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) {
      log(LogLevel::kWarn, "report directory " + dir + " is relative and the working directory is unknown: no report file for this process");
      return;
    }
    dir = std::string(cwd) + "/" + dir;
  }
  int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0 && errno == ENOENT && ::mkdir(dir.c_str(), 0700) == 0)
    dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0) {
    int err = errno;
    log(LogLevel::kWarn, "report directory " + dir + " unusable (" +
                             (err == ELOOP || err == ENOTDIR ? std::string("a symbolic link or not a directory; not followed")
                                                             : std::string(std::strerror(err))) +
                             "): no report file for this process");
    return;
  }
  struct stat st {};
  if (fstat(dirfd, &st) != 0 || ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) ||
      (st.st_uid != geteuid() && st.st_uid != 0)) {
    ::close(dirfd);
    log(LogLevel::kWarn, "report directory " + dir +
                             " is writable by others or owned by another user: no report file for this process");
    return;
  }
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  // Milliseconds since the epoch: names of one pid sort by start time.
  const int64_t start_ms = int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
  std::string name = "smwatch-" + std::to_string(getpid()) + "-" + std::to_string(start_ms) + ".jsonl";
  int fd = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  int err = errno;
  ::close(dirfd);
  if (fd < 0) {
    log(LogLevel::kWarn, "cannot create report " + dir + "/" + name + ": " + std::strerror(err));
    return;
  }
  struct stat created {};
  const bool known = fstat(fd, &created) == 0;
  ::close(fd);  // ours, opened just now; every record opens the file again
  if (!known) return;
  f.path = dir + "/" + name;
  f.dev = created.st_dev;
  f.ino = created.st_ino;
  f.state = FileState::kOpen;
  record::Process process;
  process.pid = getpid();
  process.time = now_seconds();
  process.ppid = getppid();
  process.cmdline = read_proc("/proc/self/cmdline");
  process.smwatch = kVersion;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  process.exe = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "";
  for (const auto& t : s.config.targets) process.targets.push_back(t.sm_name());
  write_record(process);
}

}  // namespace

void ensure_initialized() { std::call_once(g_init_once, init_once); }

const Config& config() {
  ensure_initialized();
  return g_sink->config;
}

bool active() { return g_active.load(std::memory_order_relaxed); }

void fail_open(const char* where, const char* what) {
  if (!g_active.exchange(false)) return;
  write_all_to_stderr(std::string("smwatch: internal error in ") + where + " (" + printable(what) +
                      "); smwatch turns itself off, the program goes on unchanged\n");
}

double now_seconds() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void log(LogLevel level, const std::string& line) {
  LogLevel threshold = g_sink ? g_sink->config.log_level : LogLevel::kWarn;
  if (level > threshold || level == LogLevel::kQuiet) return;
  // Lines carry text from outside (paths, kernel, GPU and symbol names, the
  // environment): escaped with the project's one escaper, so that a name can
  // neither start a line of its own nor reach the terminal as a control.
  write_all_to_stderr("smwatch: " + printable(line) + "\n");
}

uint64_t records_dropped() {
  ensure_initialized();
  std::lock_guard<std::recursive_mutex> guard(g_sink->lock);
  return g_sink->file.dropped;
}

namespace {

// Opens the report file again for one record, and only if the name still
// leads to the file the shim created (not a link, not a file put in its
// place): the descriptor returned is the shim's own, opened just now, for the
// caller to close. -1 when the file is gone, replaced or cannot be opened
// (the host may be at its descriptor limit): that record is left out.
int reopen_report(ReportFile& f, struct stat& st) {
  int fd = ::open(f.path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  std::string why;
  if (fd < 0) {
    why = std::strerror(errno);
  } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != f.dev || st.st_ino != f.ino) {
    why = "it was replaced";
    ::close(fd);
    fd = -1;
  }
  if (fd < 0 && !f.warned_gone) {
    f.warned_gone = true;
    log(LogLevel::kWarn, "report " + f.path + " cannot be written (" + why +
                             "): records are left out, and the exit record counts them if it can");
  }
  return fd;
}

}  // namespace

void write_record(const record::Record& record) {
  ensure_initialized();
  std::lock_guard<std::recursive_mutex> guard(g_sink->lock);
  open_report_locked();
  Sink& s = *g_sink;
  ReportFile& f = s.file;
  if (f.state != FileState::kOpen) return;
  const std::string line = record::encode(record) + "\n";
  struct stat st {};
  const int fd = reopen_report(f, st);
  if (fd < 0) {
    ++f.dropped;
    return;
  }
  // Bytes of whole records in the file: a partly written record is always cut off again.
  const uint64_t length = static_cast<uint64_t>(st.st_size);
  // Room kept behind every other record for the exit record: its size grows
  // only with the number of what-if targets.
  const bool is_exit = std::holds_alternative<record::Exit>(record);
  const uint64_t reserve = is_exit ? 0 : 1024 + 64 * s.config.targets.size();
  std::string why;
  struct rlimit limit {};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      length + line.size() + reserve > limit.rlim_cur) {
    // Checked, not tried: a write that starts at the limit raises SIGXFSZ,
    // which kills the program unless it ignores the signal.
    why = "the file size limit (RLIMIT_FSIZE) is reached";
  } else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(length),
                       static_cast<off_t>(line.size() + reserve)) != 0 &&
             (errno == ENOSPC || errno == EDQUOT)) {
    // Where the file system can, the blocks for this record and the exit
    // record are allocated first (beyond the end, the size unchanged).
    why = std::strerror(errno);
  } else {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) {
      ::close(fd);
      return;
    }
    why = n < 0 ? std::strerror(errno) : "short write";
    // Whole records or nothing: cut a partly written one off again. Should
    // that fail (it cannot on a file we own), stop writing rather than
    // append to a broken line.
    if (n > 0 && ftruncate(fd, static_cast<off_t>(length)) != 0) f.state = FileState::kUnavailable;
  }
  ::close(fd);
  ++f.dropped;
  if (!f.warned_write) {
    f.warned_write = true;
    log(LogLevel::kWarn, "report " + f.path + " is full (" + why +
                             "): records that do not fit are left out whole, and the exit record counts them");
  }
}

}  // namespace smwatch::shim

// Read the environment as soon as the shim is loaded, before any hook runs.
__attribute__((constructor)) static void smwatch_shim_load() { smwatch::shim::ensure_initialized(); }

// libstdc++.a's std::random_device refers to arc4random, new in glibc 2.36;
// the shim never uses it, and this hidden stand-in keeps libsmwatch.so
// loadable on glibc 2.35 systems (Ubuntu 22.04) too.
#include <sys/random.h>
extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value = 0;
  if (getrandom(&value, sizeof value, 0) != sizeof value) value = static_cast<uint32_t>(clock());
  return value;
}
