#include "smwatch/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace smwatch {

Result<std::string> capture_output(const std::vector<std::string>& command, size_t max_bytes) {
  if (command.empty() || command[0].empty()) return make_error("no program to run");
  const std::string& program = command[0];
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return make_error("cannot run '" + program + "': pipe: " + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<std::string> args = command;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return make_error("cannot run '" + program + "': " + std::strerror(rc));
  }
  std::string out;
  bool too_much = false;
  char buf[1 << 14];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (out.size() + static_cast<size_t>(n) > max_bytes) too_much = true;
    if (!too_much) out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error("'" + program + "': waitpid: " + std::strerror(errno));
  }
  if (WIFSIGNALED(status))
    return make_error("'" + program + "' was killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error("'" + program + "' failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  if (too_much) return make_error("'" + program + "' printed more than " + std::to_string(max_bytes >> 20) + " MiB");
  return out;
}

}  // namespace smwatch
