// Shared helpers for the libFuzzer targets in this folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "smwatch/bytes.h"

namespace smwatch::fuzz {

// A parser must never hand back a view that leaves the bytes it was given.
inline void check_inside(ByteView outer, ByteView inner) {
  if (inner.size() == 0) return;
  const uint8_t* lo = outer.data();
  const uint8_t* hi = outer.data() + outer.size();
  if (inner.data() < lo || inner.data() > hi || inner.size() > static_cast<size_t>(hi - inner.data())) std::abort();
}

// Reads a little-endian integer from the front of the input and consumes it.
template <typename T>
T take(const uint8_t*& data, size_t& size) {
  T v{};
  const size_t n = size < sizeof(T) ? size : sizeof(T);
  if (n > 0) std::memcpy(&v, data, n);  // data may be null when nothing is left
  data += n;
  size -= n;
  return v;
}

}  // namespace smwatch::fuzz
