#include "smwatch/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace smwatch {

std::string demangle(std::string_view mangled) {
  // Only "_Z..." is an Itanium C++ name; anything else would be taken as a
  // type name by __cxa_demangle ("i" -> "int").
  if (!mangled.starts_with("_Z")) return std::string(mangled);
  std::string name(mangled);  // __cxa_demangle needs a NUL-terminated string
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status),
                                                 &std::free);
  return status == 0 && out ? std::string(out.get()) : name;
}

}  // namespace smwatch
