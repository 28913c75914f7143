#!/usr/bin/env bash
# Issue 20: `smwatch report` gives the same answer on any machine. The report
# files under tests/reports/NAME were recorded on an H200 (tests/gpu/run.sh,
# section healthy); NAME.summary.txt is what `smwatch report` printed there,
# with the libraries present. Here, without them, the summary must be the
# same (the "report:" lines name where the files were read), and nothing may
# be left unjudged for lack of a library file.
# Usage: reports_anywhere.sh SMWATCH REPORTS_DIR
set -u
smwatch=$1 dir=$2
fails=0
for expected in "$dir"/*.summary.txt; do
  name=$(basename "$expected" .summary.txt)
  got=$("$smwatch" report "$dir/$name" 2>&1 | grep -v '^    report: ')
  if diff <(grep -v '^    report: ' "$expected") <(echo "$got") > /dev/null; then
    echo "PASS $name: the same summary as on the H200"
  else
    echo "FAIL $name: the summary differs from the H200's:"
    diff <(grep -v '^    report: ' "$expected") <(echo "$got") | head -20
    fails=$((fails + 1))
  fi
  if grep -q "not judged" <<<"$got"; then echo "FAIL $name: kernels left unjudged"; fails=$((fails + 1)); fi
done
[ $fails -eq 0 ]
