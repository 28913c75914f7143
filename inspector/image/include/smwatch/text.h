// Text from outside (file, member, kernel and command names; log lines) made
// safe for where it is shown. One escaper per destination, used by smscan,
// the smwatch command and the shim alike: a second copy drifts.
#pragma once

#include <string>
#include <string_view>

namespace smwatch {

// For a terminal or a one-line log: C0 and C1 controls (also as UTF-8, e.g.
// U+009B, the one-byte CSI), DEL, and the bidirectional overrides and
// isolates (U+202A..U+202E, U+2066..U+2069) become \xNN or \u{NNNN}; bytes
// that are not UTF-8 become \xNN. Everything else, UTF-8 included, is kept,
// so a name can neither break a line, move the cursor nor reorder the text.
std::string printable(std::string_view text);

// Length of the valid UTF-8 sequence (RFC 3629: no overlongs, surrogates or
// code points past U+10FFFF) at the start of `s`, or 0 when it is not one.
size_t utf8_sequence(std::string_view s);
// JSON needs UTF-8: invalid bytes become U+FFFD. Returns whether anything was replaced.
bool to_utf8(std::string& s);

// Markdown (smscan --markdown, smwatch report --markdown): each field from
// outside goes through exactly one of these two. Line breaks become spaces
// (a row or list item must not end), controls as in printable().
//
// Prose and table cells: every character that can start Markdown or HTML
// (\ ` * { } [ ] < > # + ! | ~ &) is backslash-escaped, so a name can
// make no link, image, raw HTML (<img onerror>), emphasis or cell break.
std::string escape_md(std::string_view text);
// A whole code span, backticks included: inside one nothing is Markdown, so
// only what ends it is changed (a backtick becomes ', a pipe \| for tables).
std::string md_code(std::string_view text);
// Text made safe inside HTML elements and attributes; controls as in printable().
std::string escape_html(std::string_view text);

}  // namespace smwatch
