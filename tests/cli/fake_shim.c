/* A STAND-IN for libsmwatch.so, for testing `smwatch run` without a GPU and
 * without the real shim (shim/, written in parallel): when preloaded it writes
 * the records of docs/report-format.md into $SMWATCH_REPORT, as the real shim
 * would for a program whose one module lacks code for the GPU:
 *   process; module; failure (only with SMWATCH_FAKE_FAILURE=1); one missing
 *   record per what-if target in $SMWATCH_TARGETS; exit (at normal exit).
 * It also writes $SMWATCH_FAKE_ENV_OUT (when set) with the environment the
 * child saw, so tests can check what smwatch set. No CUDA is involved. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char g_path[4096];
static pid_t g_pid;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Appends `s` as a JSON string (with quotes) to buf. */
static void json_string(char* buf, size_t cap, const char* s) {
  size_t n = strlen(buf);
  if (n + 2 >= cap) return;
  buf[n++] = '"';
  for (; *s && n + 8 < cap; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[n++] = '\\';
      buf[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
    } else {
      buf[n++] = (char)c;
    }
  }
  buf[n++] = '"';
  buf[n] = 0;
}

static void record(const char* text) {
  int fd = open(g_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  /* One write per record, as the real shim does. */
  ssize_t ignored = write(fd, text, strlen(text));
  (void)ignored;
  close(fd);
}

__attribute__((constructor)) static void fake_start(void) {
  const char* dir = getenv("SMWATCH_REPORT");
  if (!dir || !*dir) return;
  g_pid = getpid();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(g_path, sizeof g_path, "%s/smwatch-%d-%lld%09ld.jsonl", dir, (int)g_pid, (long long)ts.tv_sec, ts.tv_nsec);

  const char* env_out = getenv("SMWATCH_FAKE_ENV_OUT");
  if (env_out && *env_out) {
    FILE* f = fopen(env_out, "w");
    if (f) {
      fprintf(f, "LD_PRELOAD=%s\nSMWATCH_REPORT=%s\nSMWATCH_TARGETS=%s\n", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "",
              dir, getenv("SMWATCH_TARGETS") ? getenv("SMWATCH_TARGETS") : "");
      fclose(f);
    }
  }

  static char buf[16384];
  char exe[1024] = "";
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[len > 0 ? len : 0] = 0;
  snprintf(buf, sizeof buf, "{\"type\":\"process\",\"pid\":%d,\"time\":%.6f,\"ppid\":%d,\"exe\":", (int)g_pid, now(), (int)getppid());
  json_string(buf, sizeof buf, exe);
  strcat(buf, ",\"cmdline\":[");
  int fd = open("/proc/self/cmdline", O_RDONLY);
  if (fd >= 0) {
    char args[4096];
    ssize_t n = read(fd, args, sizeof args - 1);
    close(fd);
    if (n > 0) {
      args[n] = 0;
      for (ssize_t i = 0; i < n; i += (ssize_t)strlen(args + i) + 1) {
        if (i) strcat(buf, ",");
        json_string(buf, sizeof buf, args + i);
      }
    }
  }
  strcat(buf, "],\"smwatch\":\"fake-0\",\"targets\":[");
  const char* targets = getenv("SMWATCH_TARGETS");
  char list[256] = "";
  if (targets) snprintf(list, sizeof list, "%s", targets);
  int first = 1;
  for (char* t = strtok(list, ","); t; t = strtok(NULL, ",")) {
    if (!first) strcat(buf, ",");
    first = 0;
    json_string(buf, sizeof buf, t);
  }
  strcat(buf, "]}\n");
  record(buf);

  snprintf(buf, sizeof buf,
           "{\"type\":\"module\",\"pid\":%d,\"time\":%.6f,\"call\":\"cuLibraryLoadData\",\"handle\":\"0x5a5a\","
           "\"source\":\"/fake/libfake_kernels.so\",\"archs\":\"sm_80\",\"verdicts\":{\"sm_90\":\"FAIL\"},"
           "\"result\":0,\"result_name\":\"CUDA_SUCCESS\"}\n",
           (int)g_pid, now());
  record(buf);
  const char* fail = getenv("SMWATCH_FAKE_FAILURE");
  if (fail && strcmp(fail, "1") == 0) {
    snprintf(buf, sizeof buf,
             "{\"type\":\"failure\",\"pid\":%d,\"time\":%.6f,\"call\":\"cuLibraryGetKernel\",\"error\":209,"
             "\"error_name\":\"CUDA_ERROR_NO_BINARY_FOR_GPU\",\"kernel\":\"scale_by_two(float*, int)\","
             "\"mangled\":\"_Z12scale_by_twoPfi\",\"source\":\"/fake/libfake_kernels.so\",\"archs\":\"sm_80\","
             "\"gpu_arch\":\"sm_90\",\"fix\":\"\"}\n",
             (int)g_pid, now());
    record(buf);
  }
  if (targets) {
    snprintf(list, sizeof list, "%s", targets);
    for (char* t = strtok(list, ","); t; t = strtok(NULL, ",")) {
      snprintf(buf, sizeof buf,
               "{\"type\":\"missing\",\"pid\":%d,\"time\":%.6f,\"target\":\"%s\",\"kernel\":\"scale_by_two(float*, int)\","
               "\"mangled\":\"_Z12scale_by_twoPfi\",\"source\":\"/fake/libfake_kernels.so\",\"archs\":\"sm_80\"}\n",
               (int)g_pid, now(), t);
      record(buf);
    }
  }
}

__attribute__((destructor)) static void fake_end(void) {
  if (!g_path[0] || getpid() != g_pid) return; /* forked children without exec are not followed */
  char buf[256];
  snprintf(buf, sizeof buf, "{\"type\":\"exit\",\"pid\":%d,\"time\":%.6f,\"launches\":0,\"modules\":1,\"failures\":%d}\n",
           (int)g_pid, now(), getenv("SMWATCH_FAKE_FAILURE") ? 1 : 0);
  record(buf);
}
