// `smwatch report` and `smwatch run`'s summary: the merged report as text,
// Markdown, self-contained HTML or JSON (one file per format in this folder).
#pragma once

#include <ostream>

#include "model.h"

namespace smwatch::cli {

// The JSON document's schema (docs/json-schema.md); /2: modules and
// failures of a process are folded (loads, count), not listed one by one.
inline constexpr const char* kReportSchema = "smwatch.report/2";

enum class Format { kText, kMarkdown, kHtml, kJson };

void render_report(std::ostream& out, const MergedReport& report, Format format);

}  // namespace smwatch::cli
