// Kernel names as people wrote them: "add_arrays<float>(float*, float const*, int)"
// for "_Z10add_arraysIfEvPT_PKS0_i". Names that are not C++ mangled names
// (extern "C" kernels) come back unchanged.
#pragma once

#include <string>
#include <string_view>

namespace smwatch {

std::string demangle(std::string_view mangled);

}  // namespace smwatch
