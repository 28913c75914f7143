// explain_text() and ExplainStream: `smwatch explain`'s reader of crash logs,
// over arbitrary text (it must never throw, hang or report a line outside the
// input), whole and fed in chunks of any size, which must find the same.
#include <string_view>

#include "common.h"
#include "explain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t whole = 0;
  for (const auto& finding : smwatch::cli::explain_text(text)) {
    if (finding.line == 0 || finding.line > size + 1) std::abort();
    ++whole;
  }
  // The same bytes in chunks of 1..64 bytes (sizes from the data itself).
  smwatch::cli::ExplainStream stream(smwatch::cli::SignatureSet::builtin());
  for (size_t pos = 0, i = 0; pos < size; ++i) {
    size_t n = 1 + (size ? data[i % size] % 64 : 0);
    stream.feed(text.substr(pos, n));
    pos += n;
  }
  stream.finish();
  for (const auto& finding : stream.findings())
    if (finding.line == 0 || finding.line > size + 1) std::abort();
  if (stream.findings().size() != whole) std::abort();
  return 0;
}
