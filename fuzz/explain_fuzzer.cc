// explain_text(): `smwatch explain`'s reader of crash logs, over arbitrary
// text (it must never throw, hang or report a line outside the input).
#include <string_view>

#include "common.h"
#include "explain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& finding : smwatch::cli::explain_text(text))
    if (finding.line == 0 || finding.line > size + 1) std::abort();
  return 0;
}
