#!/usr/bin/env bash
# The HTML report fits a 1400 px window (issue 20): `smwatch report --html`
# on real report files, rendered in headless Chromium as a person would look
# at it; a copy of the page with one measuring script appended writes the
# page's scrollWidth and the window's innerWidth into its title, which
# --dump-dom prints. Fails when the page is wider than the window.
# Usage: html_width.sh SMWATCH REPORT_PATH...   (exit 77, skipped: no chromium)
# SCREENSHOT=FILE also saves what the window shows (docs/report-html.png).
set -u
smwatch=$1; shift
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chromium" ] || { echo "SKIP: chromium is not installed (scripts/setup.sh installs it)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$smwatch" report --html -o "$tmp/report.html" "$@" 2>/dev/null
[ -s "$tmp/report.html" ] || { echo "FAIL: smwatch report --html wrote nothing"; exit 1; }
width=1400
# Chromium needs a writable home for its profile, and no sandbox as root in a container.
browse() { HOME=$tmp timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$tmp/profile" --window-size=$width,1000 "$@" 2>"$tmp/chromium.err"; }
sed 's|</body>|<script>document.title = "scroll=" + document.documentElement.scrollWidth + " window=" + window.innerWidth;</script></body>|' \
  "$tmp/report.html" > "$tmp/measured.html"
measured=$(browse --dump-dom "file://$tmp/measured.html" | grep -o 'scroll=[0-9]* window=[0-9]*' | head -1)
if [ -z "$measured" ]; then echo "FAIL: no measurement from $chromium"; tail -5 "$tmp/chromium.err"; exit 1; fi
scroll=${measured#scroll=}; scroll=${scroll%% *}; window=${measured##*window=}
echo "page scrollWidth $scroll px in a window $window px wide ($(wc -c < "$tmp/report.html") bytes of HTML)"
[ -n "${SCREENSHOT:-}" ] && browse --screenshot="$SCREENSHOT" "file://$tmp/report.html" >/dev/null
[ "$window" -eq $width ] || { echo "FAIL: the window is $window px, not $width"; exit 1; }
[ "$scroll" -le "$window" ] && echo "PASS: fits" || { echo "FAIL: the page is wider than the window"; exit 1; }
