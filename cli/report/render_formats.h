// The renderers, one per file (text.cc, markdown.cc, html.cc, json.cc),
// behind render_report() (render.cc).
#pragma once

#include <ostream>

#include "model.h"
#include "summary.h"

namespace smwatch::cli {

void render_text(std::ostream& out, const MergedReport& report, const Summary& summary);
void render_markdown(std::ostream& out, const MergedReport& report, const Summary& summary);
void render_html(std::ostream& out, const MergedReport& report, const Summary& summary);
void render_json(std::ostream& out, const MergedReport& report, const Summary& summary);

}  // namespace smwatch::cli
