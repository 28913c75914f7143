#!/usr/bin/env bash
# Keeps examples/ true: builds examples/missing-arch with nvcc into the build
# tree and checks that smscan, smwatch explain and smwatch report still print
# what the examples' READMEs show (the verdicts, the findings, the headline).
# usage: run.sh SMSCAN SMWATCH SOURCE_DIR OUT_DIR [NVCC]   (exit 77: no nvcc)
set -uo pipefail
smscan=$1 smwatch=$2 src=$3 out=$4 nvcc=${5:-/usr/local/cuda/bin/nvcc}
ex=$src/examples
failures=0
pass() { echo "ok:   $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
# in_readme README LINE: the line occurs, whole, in the README.
in_readme() { grep -qxF -- "$2" "$1"; }

[ -x "$nvcc" ] || { echo "no nvcc at $nvcc: skipped"; exit 77; }

# 1. missing-arch: build (again only when the source or the script changed).
bin=$out/missing-arch
mkdir -p "$bin"
stale=0
for p in scale_sm80 scale_sm80_ptx scale_sm90_sm120; do
  [ "$bin/$p" -nt "$ex/missing-arch/scale.cu" ] && [ "$bin/$p" -nt "$ex/missing-arch/build.sh" ] || stale=1
done
if [ $stale = 1 ]; then
  NVCC=$nvcc "$ex/missing-arch/build.sh" "$bin" > "$out/missing-arch.build.log" 2>&1 ||
    { cat "$out/missing-arch.build.log"; fail "missing-arch: build.sh"; exit 1; }
fi
readme=$ex/missing-arch/README.md
# program, expected verdicts for sm_90 and sm_120, expected exit status
while read -r prog v90 v120 want_rc; do
  scan=$(cd "$bin" && "$smscan" --no-progress -t sm_90,sm_120 "$prog" 2>&1); rc=$?
  row=$(grep -E "^(OK|JIT|PARTIAL|FAIL) .* $prog\$" <<<"$scan")
  read -r got90 got120 _ <<<"$row"
  [ "$got90 $got120" = "$v90 $v120" ] && pass "smscan $prog: sm_90 $v90, sm_120 $v120" ||
    fail "smscan $prog: sm_90 $got90, sm_120 $got120 (want $v90 $v120)"
  [ $rc = "$want_rc" ] && pass "smscan $prog: exit $rc" || fail "smscan $prog: exit $rc (want $want_rc)"
  # Every line smscan printed is in the README as it is printed.
  missing=0
  while IFS= read -r line; do
    [ -z "$line" ] || in_readme "$readme" "$line" || { missing=1; echo "  not in $readme: $line"; }
  done <<<"$scan"
  [ $missing = 0 ] && pass "missing-arch/README.md shows smscan's output for $prog" ||
    fail "missing-arch/README.md does not show smscan's output for $prog"
done <<'EXPECT'
scale_sm80 FAIL FAIL 1
scale_sm80_ptx JIT JIT 0
scale_sm90_sm120 OK OK 0
EXPECT

# 2. crash-log: the findings (id and line) and the summary as the README shows them.
readme=$ex/crash-log/README.md
explain=$(cd "$ex/crash-log" && "$smwatch" explain --python none vllm-rtx5090.log 2>&1); rc=$?
[ $rc = 0 ] && pass "explain: exit 0" || fail "explain: exit $rc (want 0)"
for want in "(pytorch-unsupported-gpu)" "(no-kernel-image)"; do
  grep -E "^\[[0-9]+\] vllm-rtx5090.log:[0-9]+: " <<<"$explain" | grep -qF -- "  $want" &&
    pass "explain: finds $want" || fail "explain: no $want finding"
done
grep -qF "fix:   pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu128" <<<"$explain" &&
  pass "explain: the fix names the cu128 wheel" || fail "explain: no cu128 fix"
missing=0
while IFS= read -r line; do
  [ -z "$line" ] || in_readme "$readme" "$line" || { missing=1; echo "  not in $readme: $line"; }
done <<<"$explain"
[ $missing = 0 ] && pass "crash-log/README.md shows explain's output" || fail "crash-log/README.md does not show explain's output"

# 3. reports: the headline, the failure and the what-if as the README shows them.
readme=$ex/reports/README.md
report=$(cd "$ex" && "$smwatch" report reports 2>&1); rc=$?
[ $rc = 1 ] && pass "report: exit 1" || fail "report: exit $rc (want 1)"
headline="smwatch: 3 processes, 3 modules loaded, 1 failure, what-if sm_80: 1 kernel without code"
[ "$(head -1 <<<"$report")" = "$headline" ] && in_readme "$readme" "$headline" && pass "report: headline" ||
  fail "report: headline is '$(head -1 <<<"$report")'"
missing=0
while IFS= read -r line; do
  [ -z "$line" ] || in_readme "$readme" "$line" || { missing=1; echo "  not in $readme: $line"; }
done <<<"$report"
markdown=$(cd "$ex" && "$smwatch" report --markdown reports 2>&1)
while IFS= read -r line; do
  [ -z "$line" ] || in_readme "$readme" "$line" || { missing=1; echo "  not in $readme: $line"; }
done <<<"$markdown"
[ $missing = 0 ] && pass "reports/README.md shows report's text and markdown output" ||
  fail "reports/README.md does not show report's output"
json=$(cd "$ex" && "$smwatch" report --json reports 2>/dev/null |
  python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["schema"], d["summary"]["libraries_at_fault"], d["exit_code"])')
[ "$json" = "smwatch.report/2 ['./scale_sm80'] 1" ] &&
  pass "report --json: schema and library at fault" || fail "report --json: schema or libraries_at_fault changed"

echo "$failures failed"
[ $failures = 0 ]
