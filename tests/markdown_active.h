// What a Markdown renderer would act on in a document: the text outside code
// spans, with backslash-escaped characters blanked. A report's Markdown must
// show no link, image or HTML tag there that came from its input (issue 24,
// item 16); the tests look for the payloads in what this leaves.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace smwatch::test {

inline std::string markdown_active_text(std::string_view md) {
  std::string out;
  bool in_code = false;  // the reports' code spans are single backticks on one line
  for (size_t i = 0; i < md.size(); ++i) {
    const char c = md[i];
    if (c == '\n') {
      in_code = false;
      out += c;
    } else if (in_code) {
      in_code = c != '`';  // nothing escapes inside a code span
    } else if (c == '`') {
      in_code = true;
    } else if (c == '\\' && i + 1 < md.size() && std::ispunct(static_cast<unsigned char>(md[i + 1]))) {
      ++i;
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// The payloads of the tests, each a way to run or fetch something from a page.
inline constexpr const char* kMarkdownPayloads[] = {"<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
                                                    "![](https://beacon.example/p.png)"};
// What must not be left active: tags, link and image syntax.
inline constexpr const char* kMarkdownActive[] = {"<img", "](", "!["};

}  // namespace smwatch::test
