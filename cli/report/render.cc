#include "render.h"

#include "render_formats.h"

namespace smwatch::cli {

void render_report(std::ostream& out, const MergedReport& report, Format format) {
  const Summary summary = summarize(report);
  switch (format) {
    case Format::kText: render_text(out, report, summary); break;
    case Format::kMarkdown: render_markdown(out, report, summary); break;
    case Format::kHtml: render_html(out, report, summary); break;
    case Format::kJson: render_json(out, report, summary); break;
  }
}

}  // namespace smwatch::cli
