// The one escaper for text from outside: what reaches a terminal, Markdown or HTML.
#include "smwatch/text.h"

#include <gtest/gtest.h>

namespace smwatch {
namespace {

TEST(Printable, KeepsTextAndUtf8) {
  EXPECT_EQ(printable("libtorch_cuda.so"), "libtorch_cuda.so");
  EXPECT_EQ(printable("donn\xC3\xA9" "es/\xE2\x9C\x85"), "donn\xC3\xA9" "es/\xE2\x9C\x85");
}

TEST(Printable, ShowsC0AndDelAsHex) {
  EXPECT_EQ(printable("a\x1b[31mb\nc\x07\x7f"), "a\\x1b[31mb\\x0ac\\x07\\x7f");
}

TEST(Printable, ShowsC1ControlsRawAndAsUtf8) {
  EXPECT_EQ(printable("x\x9b" "31m"), "x\\x9b31m");     // a lone CSI byte (not UTF-8)
  EXPECT_EQ(printable("x\xC2\x9B" "31m"), "x\\x9b31m");  // U+009B as UTF-8
  EXPECT_EQ(printable("\xC2\x85"), "\\x85");             // NEL
}

TEST(Printable, ShowsBidiOverridesAndIsolates) {
  EXPECT_EQ(printable("evil\xE2\x80\xAEos.so"), "evil\\u{202e}os.so");  // U+202E
  EXPECT_EQ(printable("\xE2\x81\xA6x\xE2\x81\xA9"), "\\u{2066}x\\u{2069}");
  EXPECT_EQ(printable("\xE2\x80\xA9"), "\xE2\x80\xA9");  // U+2029 is not an override: kept
}

TEST(Printable, ShowsBytesThatAreNotUtf8) {
  EXPECT_EQ(printable("\xff\xC0\x80"), "\\xff\\xc0\\x80");  // overlong NUL too
}

TEST(EscapeMd, CellsStayCells) {
  EXPECT_EQ(escape_md("lib|x`y\nz\rw.so"), "lib\\|x\\`y z w.so");
  EXPECT_EQ(escape_md("a\x1b" "b\x07"), "a\\\\x1bb\\\\x07");  // printable()'s \x1b, its backslash escaped
  EXPECT_EQ(md_code("lib|x`y\nz\rw.so"), "`lib\\|x'y z w.so`");
  EXPECT_EQ(md_code("a\x1b"), "`a\\x1b`");
}

// Issue 24, item 16: outside a code span, nothing Markdown or HTML acts on
// survives (links, images, tags, entities, emphasis); inside one, only what
// would end it changes.
TEST(EscapeMd, ProseMakesNoLinkImageOrTag) {
  EXPECT_EQ(escape_md("<img src=x onerror=alert(1)>"), "\\<img src=x onerror=alert(1)\\>");
  EXPECT_EQ(escape_md("[x](javascript:alert(1))"), "\\[x\\](javascript:alert(1))");
  EXPECT_EQ(escape_md("![](http://b/p.png)"), "\\!\\[\\](http://b/p.png)");
  EXPECT_EQ(escape_md("&lt; *a* ~b~ #1 \\"), "\\&lt; \\*a\\* \\~b\\~ \\#1 \\\\");
  EXPECT_EQ(escape_md("sm_90 CUDA_ERROR_NO_BINARY_FOR_GPU"), "sm_90 CUDA_ERROR_NO_BINARY_FOR_GPU");
  EXPECT_EQ(md_code("<img src=x>"), "`<img src=x>`");
}

TEST(EscapeHtml, MarkupAndControls) {
  EXPECT_EQ(escape_html("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(escape_html("\x1b"), "\\x1b");
}

TEST(ToUtf8, ReplacesInvalidBytes) {
  std::string s = "ok\xffok";
  EXPECT_TRUE(to_utf8(s));
  EXPECT_EQ(s, "ok\xEF\xBF\xBDok");
  std::string good = "d\xC3\xA9j\xC3\xA0";
  EXPECT_FALSE(to_utf8(good));
}

}  // namespace
}  // namespace smwatch
