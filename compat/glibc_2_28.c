// Linked into smscan, smwatch and libsmwatch.so when they are linked against
// an older glibc's libraries (SMWATCH_GLIBC_SYSROOT: scripts/build-wheel.sh
// --glibc 2.28, scripts/glibc-sysroot.sh).
//
// libstdc++.a (GCC 12, built on glibc 2.36) reads __libc_single_threaded,
// new in glibc 2.32, to skip atomic operations while a process has one
// thread. Zero means "maybe several threads": libstdc++ then always uses the
// atomic operations, which is correct everywhere, and the symbol no longer
// needs GLIBC_2.32.
//
// gettid (the shim's per-thread records) is new in glibc 2.30; glibc's own is
// the same system call.
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;

__attribute__((visibility("hidden"))) pid_t gettid(void) { return (pid_t)syscall(SYS_gettid); }
