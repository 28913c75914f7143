// The shim's report records as `smwatch report` reads them: every line
// through the record contract (smwatch/record.h), then the whole text through
// the report reader and every output format. A decoded record must encode and
// decode to itself (the writer and the readers agree on every field), and
// nothing may throw or read outside the input.
#include <sstream>
#include <string_view>

#include "common.h"
#include "report/render.h"
#include "smwatch/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (size_t pos = 0; pos <= size;) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    for (auto strictness : {record::Strictness::kTolerant, record::Strictness::kStrict}) {
      record::Decoded d = record::decode(line, strictness);
      if (d.record.has_value() != (d.code == record::DecodeError::kNone)) std::abort();
      if (!d.record) continue;
      const std::string once = record::encode(*d.record);
      record::Decoded again = record::decode(once, record::Strictness::kStrict);
      if (!again.record || record::encode(*again.record) != once) std::abort();
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  cli::MergedReport report;
  cli::add_report_text(report, text, "fuzz.jsonl");
  // finish_report() would also judge what-if targets by scanning the files
  // the records name: not something to do with paths made by a fuzzer.
  for (auto format : {cli::Format::kText, cli::Format::kMarkdown, cli::Format::kHtml, cli::Format::kJson}) {
    std::ostringstream out;
    cli::render_report(out, report, format);
  }
  return 0;
}
