#include "run.h"

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

extern char** environ;

namespace smwatch::cli {

namespace fs = std::filesystem;

std::string self_exe_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

ShimSearch find_shim(const std::string& exe_dir) {
  ShimSearch s;
  std::error_code ec;
  if (const char* env = getenv("SMWATCH_LIB"); env != nullptr && *env) {
    s.tried.push_back(env);
    if (fs::is_regular_file(env, ec)) s.path = fs::absolute(env, ec).lexically_normal().string();
    else s.error = std::string("$SMWATCH_LIB is set to '") + env + "', which is not a file";
    return s;
  }
  if (exe_dir.empty()) {
    s.error = "cannot tell where the smwatch executable is (/proc/self/exe); set SMWATCH_LIB";
    return s;
  }
  // SMWATCH_SHIM_FROM_BIN: where `cmake --install` puts it, relative to bin/.
  for (const char* rel : {SMWATCH_SHIM_FROM_BIN, "../lib/libsmwatch.so", "libsmwatch.so", "../shim/libsmwatch.so"}) {
    fs::path candidate = (fs::path(exe_dir) / rel).lexically_normal();
    if (std::find(s.tried.begin(), s.tried.end(), candidate.string()) != s.tried.end()) continue;
    s.tried.push_back(candidate.string());
    if (fs::is_regular_file(candidate, ec)) {
      s.path = candidate.string();
      return s;
    }
  }
  s.error = "libsmwatch.so not found";
  return s;
}

bool prepend_preload(const std::string& lib, const char* existing, std::string& out, std::string& error) {
  if (lib.find_first_of(" :") != std::string::npos) {
    error = "cannot preload '" + lib + "': LD_PRELOAD splits paths at spaces and colons; move the library or set SMWATCH_LIB to a copy elsewhere";
    return false;
  }
  out = lib;
  std::string rest = existing ? existing : "";
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t end = rest.find_first_of(" :", pos);
    if (end == std::string::npos) end = rest.size();
    std::string item = rest.substr(pos, end - pos);
    if (!item.empty() && item != lib) out += ":" + item;
    pos = end + 1;
  }
  return true;
}

std::string make_report_dir(std::string& error) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/smwatch-run-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    error = "cannot create a report directory " + pattern + ": " + std::strerror(errno);
    return "";
  }
  return pattern;
}

namespace {

std::atomic<pid_t> g_child{0};
volatile sig_atomic_t g_pending = 0;
static_assert(std::atomic<pid_t>::is_always_lock_free, "used from a signal handler");

void forward_signal(int sig, siginfo_t* info, void*) {
  // Keys typed at a terminal (Ctrl-C) reach the whole foreground process
  // group, the child included: the kernel sends those (SI_KERNEL). Passing
  // them on would deliver them twice (two KeyboardInterrupts in Python).
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  pid_t child = g_child.load();
  if (child > 0) kill(child, sig);
  else g_pending = sig;  // arrived before the child existed
}

}  // namespace

int run_child(const std::vector<std::string>& command, const std::vector<std::pair<std::string, std::string>>& env,
              std::string& error) {
  if (command.empty()) {
    error = "no command to run";
    return 125;
  }
  // The environment: ours, with `env` replacing or adding variables.
  std::map<std::string, std::string> overrides(env.begin(), env.end());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (!overrides.count(name)) env_strings.push_back(std::move(entry));
  }
  for (const auto& [name, value] : overrides) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = command;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  // Forward signals, except those ignored when we started: a command started
  // in the background by a non-interactive shell keeps ignoring SIGINT.
  const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_actions[3];
  bool installed[3] = {};
  for (size_t i = 0; i < 3; ++i) {
    struct sigaction current {};
    sigaction(forwarded[i], nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    installed[i] = sigaction(forwarded[i], &sa, &old_actions[i]) == 0;
  }
  auto restore = [&] {
    for (size_t i = 0; i < 3; ++i)
      if (installed[i]) sigaction(forwarded[i], &old_actions[i], nullptr);
  };

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    restore();
    error = "cannot run '" + command[0] + "': " + std::strerror(rc);
    return rc == ENOENT ? 127 : 126;
  }
  g_child.store(pid);
  if (g_pending) kill(pid, g_pending);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      error = std::string("waitpid: ") + std::strerror(errno);
      status = -1;
      break;
    }
  }
  g_child.store(0);
  g_pending = 0;
  restore();
  if (status == -1) return 125;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

}  // namespace smwatch::cli
