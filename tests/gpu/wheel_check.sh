#!/usr/bin/env bash
# Issue 14 on the GPU machine: only the wheel is carried. It installs into a
# venv that sees the machine's torch, and smwatch run / smscan --python work.
# Usage: tests/gpu/wheel_check.sh WHEEL RESULTS_DIR
set -u
wheel=$1 res=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$res"
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
venv=$(mktemp -d)/venv
python3 -m venv --system-site-packages "$venv" && "$venv/bin/python" -m pip install -q --no-index --no-deps "$wheel" &&
  pass "wheel installs: $(basename "$wheel")" || fail "wheel does not install"
for exe in smwatch smscan; do ldd "$venv/bin/$exe" | sed "s/^/ldd $exe: /"; done
"$venv/bin/smwatch" run --targets sm_120 --report "$res/wheel.reports" -- python3 "$here/torch_workload.py" \
  > "$res/wheel-run.out" 2> "$res/wheel-run.err"; rc=$?
tail -5 "$res/wheel-run.err"
[ $rc -eq 0 ] && grep -q "^matmul" "$res/wheel-run.out" && pass "wheel: smwatch run -- torch workload (exit 0)" || fail "wheel: smwatch run exit $rc"
"$venv/bin/smscan" --no-progress --python python3 -t native > "$res/wheel-smscan.txt" 2>&1; rc=$?
tail -3 "$res/wheel-smscan.txt"
[ $rc -eq 0 ] && pass "wheel: smscan --python python3 -t native exit 0" || fail "wheel: smscan exit $rc"
"$venv/bin/python" -m smwatch doctor > "$res/wheel-doctor.txt" 2>&1; rc=$?
head -12 "$res/wheel-doctor.txt"
[ $rc -le 1 ] && pass "wheel: python -m smwatch doctor (exit $rc)" || fail "wheel: python -m smwatch doctor exit $rc"
echo "wheel checks: $fails failed"
[ $fails -eq 0 ]
