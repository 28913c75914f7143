// Linked into smscan and smwatch in portable builds (SMWATCH_PORTABLE, the
// wheel), so that they run on older glibc than the one they were built on.
//
// libstdc++.a's std::random_device refers to arc4random, new in glibc 2.36.
// A hidden definition here is taken instead of libc's, and the programs keep
// working on older glibc (2.34 with dl_find_object.c). The shim has its own
// copy (shim/src/sink.cc). scripts/build-wheel.sh tags the wheel with the
// newest GLIBC_ symbol version the files really reference.
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value = 0;
  if (getrandom(&value, sizeof value, 0) != (ssize_t)sizeof value) value = (uint32_t)clock();
  return value;
}
