#pragma once

namespace smwatch {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace smwatch
