#include "smwatch/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace smwatch {

namespace {

using Clock = std::chrono::steady_clock;

// The child and whatever it started in its process group.
void kill_group(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);  // in case it left the group
}

}  // namespace

Result<std::string> capture_output(const std::vector<std::string>& command, size_t max_bytes,
                                   std::chrono::milliseconds timeout) {
  if (command.empty() || command[0].empty()) return make_error("no program to run");
  const std::string& program = command[0];
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return make_error("cannot run '" + program + "': pipe: " + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  // Our standard input is not the helper's: `smwatch explain < log` must not
  // lose lines to a probe that reads.
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Its own process group, so that a timeout or too much output kills what it
  // started too (a background child holding the pipe).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<std::string> args = command;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return make_error("cannot run '" + program + "': " + std::strerror(rc));
  }
  std::string out;
  bool too_much = false, timed_out = false, exited = false;
  int status = 0;
  const auto deadline = Clock::now() + timeout;
  char buf[1 << 14];
  // Read until end of file; stop at the limit or the deadline. Once the child
  // has exited, all it wrote is in the pipe: what is readable is drained and
  // a descendant that still holds the pipe open is not waited for.
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, exited ? 0 : static_cast<int>(std::min<long long>(left, 100)));
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        break;
      }
      if (out.size() + static_cast<size_t>(n) > max_bytes) {
        too_much = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (exited) break;  // drained
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) exited = true;
    else if (w < 0 && errno != EINTR) break;
  }
  close(fds[0]);
  if (too_much || timed_out) kill_group(pid);
  while (!exited && waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error("'" + program + "': waitpid: " + std::strerror(errno));
  }
  if (too_much) return make_error("'" + program + "' printed more than " + std::to_string(max_bytes >> 20) + " MiB");
  if (timed_out)
    return make_error("'" + program + "' did not finish within " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
  if (WIFSIGNALED(status))
    return make_error("'" + program + "' was killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error("'" + program + "' failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  return out;
}

}  // namespace smwatch
