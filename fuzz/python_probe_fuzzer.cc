// The Python probe's answer (parse_python_probe): what an "interpreter" that
// may be any program prints. Any bytes give a probe or an error naming the
// field; nothing may throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smwatch/python_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto probe = smwatch::parse_python_probe(std::string_view(reinterpret_cast<const char*>(data), size), "python3");
  if (probe) {
    size_t n = probe->executable.size() + probe->version.size() + probe->site.size();
    for (const auto& d : probe->dists) n += d.name.size() + d.requires_.size();
    (void)n;
  }
  return 0;
}
