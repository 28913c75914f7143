// What `smwatch run`, `report` and `explain` print: a merged summary of the
// shim's reports as text, Markdown, self-contained HTML or JSON, and the
// findings of `explain`.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "explain.h"
#include "reports.h"

namespace smwatch::cli {

inline constexpr const char* kReportSchema = "smwatch.report/1";
inline constexpr const char* kExplainSchema = "smwatch.explain/1";

enum class Format { kText, kMarkdown, kHtml, kJson };

void render_report(std::ostream& out, const MergedReport& report, Format format);
nlohmann::json report_to_json(const MergedReport& report);

// `source` names the log ("-" for standard input).
nlohmann::json findings_to_json(const std::vector<Finding>& findings, const std::string& source);

std::string html_escape(const std::string& text);

}  // namespace smwatch::cli
