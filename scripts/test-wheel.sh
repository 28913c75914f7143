#!/usr/bin/env bash
# Installs a wheel made by scripts/build-wheel.sh into a fresh venv, as a user
# would (pip install --no-deps, nothing from PyPI), and checks that it works
# there and would work on a machine that is not this one:
#  - ldd: smscan, smwatch and libsmwatch.so need nothing outside the manylinux
#    base (glibc's libraries, libstdc++, libgcc_s); libsmwatch.so's NEEDED is
#    libc and the loader only;
#  - no file requires a newer GLIBC_ symbol version than the wheel's tag says;
#  - the wheel is under 15 MB and carries the licences of what it links in;
#  - smscan, smwatch (explain, doctor, run: a program under the shim) and
#    python -m smwatch run from the venv, without activating it, and doctor /
#    smscan --python pick the venv's Python and say so.
# Usage: scripts/test-wheel.sh [WHEEL|DIST_DIR] [SCRATCH_DIR] [FIXTURE_DIR]
# FIXTURE_DIR (build/tests/fixtures) adds scans of real device code.
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=${1:-dist}
[ -d "$wheel" ] && wheel=$(ls "$wheel"/smwatch-*.whl 2>/dev/null | head -1)
scratch=${2:-$(mktemp -d /tmp/smwatch-wheeltest-XXXXXX)}
fixtures=${3:-}
fail() { echo "test-wheel: FAIL: $*" >&2; exit 1; }
[ -f "$wheel" ] || fail "no wheel (${1:-dist}): run scripts/build-wheel.sh"
wheel=$(realpath "$wheel")
[ -z "$fixtures" ] || fixtures=$(realpath "$fixtures")
rm -rf "$scratch" && mkdir -p "$scratch"
venv=$scratch/venv
name=$(basename "$wheel")
echo "test-wheel: $name"

# 1. The file: tag, size.
[[ "$name" =~ ^smwatch-[^-]+-py3-none-manylinux_2_([0-9]+)_x86_64\.whl$ ]] ||
  fail "$name: want the tag py3-none-manylinux_2_X_x86_64"
tag_minor=${BASH_REMATCH[1]}
size=$(stat -c%s "$wheel")
echo "test-wheel: size $size bytes ($(awk "BEGIN {printf \"%.1f\", $size / 1048576}") MiB), glibc 2.$tag_minor"
[ "$size" -lt 15000000 ] || fail "the wheel is $size bytes: over 15 MB"

# 2. Install as a user would: fresh venv, no dependencies, no index.
python3 -m venv "$venv" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index --no-deps "$wheel" >"$scratch/pip.log" 2>&1 ||
  { cat "$scratch/pip.log"; fail "pip install --no-deps $name failed"; }
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
for f in bin/smscan bin/smwatch lib/libsmwatch.so share/smwatch/signatures.json; do
  [ -e "$venv/$f" ] || fail "$f is not in the venv"
done
[ -f "$site/smwatch/__main__.py" ] || fail "the smwatch Python package is not in $site"
licences=$(ls "$site"/smwatch-*.dist-info/licenses/third-party/*.txt 2>/dev/null | wc -l)
[ "$licences" -ge 10 ] || fail "the third-party licences are missing from the .dist-info ($licences found)"
[ -f "$(ls -d "$site"/smwatch-*.dist-info)/licenses/third-party/THIRD-PARTY-NOTICES.txt" ] ||
  fail "THIRD-PARTY-NOTICES.txt is missing from the .dist-info"

# 3. What each binary needs from the system. Allowed: glibc's own libraries,
# the loader, libstdc++ and libgcc_s (the manylinux base); anything else, or
# anything ldd cannot find, fails.
allowed='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-x86-64\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$'
for f in bin/smscan bin/smwatch lib/libsmwatch.so; do
  path=$venv/$f
  ldd "$path" >"$scratch/ldd.out" 2>&1 || { cat "$scratch/ldd.out"; fail "ldd $f failed"; }
  echo "test-wheel: ldd $f:"; sed 's/^/    /' "$scratch/ldd.out"
  ! grep -q "not found" "$scratch/ldd.out" || fail "$f: a library is not found"
  while read -r lib _; do
    [[ "$lib" =~ $allowed ]] || fail "$f needs $lib, which is outside the manylinux base (glibc, libstdc++, libgcc_s)"
  done <"$scratch/ldd.out"
  minor=$(objdump -p "$path" | sed -n '/^Version References:/,$p' | grep -o 'GLIBC_2\.[0-9]*' | cut -d. -f2 | sort -n | tail -1)
  echo "test-wheel: $f requires GLIBC_2.${minor:-0} at most"
  [ "${minor:-0}" -le "$tag_minor" ] || fail "$f requires GLIBC_2.$minor but the wheel says manylinux_2_$tag_minor"
done
needed=$(readelf -d "$venv/lib/libsmwatch.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
# Before glibc 2.34, pthread_once and dlopen were only in glibc's libpthread
# and libdl (empty stubs since), so a wheel for older glibc needs them too.
if [ "$tag_minor" -lt 34 ]; then
  needed=$(echo "$needed" | tr ' ' '\n' | grep -vxE 'libpthread\.so\.0|libdl\.so\.2' | grep . | tr '\n' ' ')
fi
[ "$needed" = "ld-linux-x86-64.so.2 libc.so.6 " ] || fail "libsmwatch.so NEEDED: $needed (want libc.so.6 and the loader only)"

# 4. Run it, from the venv's bin/ without activating it, with a PATH that has
# neither the venv nor this source tree.
export PATH=/usr/local/bin:/usr/bin:/bin
unset SMWATCH_PYTHON SMWATCH_LIB VIRTUAL_ENV
cd "$scratch"
"$venv/bin/smscan" --version
"$venv/bin/smwatch" --version
# A C++ exception thrown and caught (CLI11's parse error) goes through the
# static unwinder and compat/dl_find_object.c.
status=0
"$venv/bin/smscan" --no-such-option >/dev/null 2>"$scratch/badopt.err" || status=$?
[ "$status" -eq 2 ] && grep -q "no-such-option" "$scratch/badopt.err" ||
  fail "smscan --no-such-option: exit status $status (want 2, from a caught exception): $(cat "$scratch/badopt.err")"

status=0
"$venv/bin/smscan" -t sm_120 --python >"$scratch/smscan-python.out" 2>&1 || status=$?
[ "$status" -le 1 ] || { cat "$scratch/smscan-python.out"; fail "smscan --python: exit status $status"; }
grep -q "smscan: --python: $venv/bin/python3: the environment smwatch is installed in ($venv)" "$scratch/smscan-python.out" ||
  { cat "$scratch/smscan-python.out"; fail "smscan --python did not take (or name) the venv's Python"; }

# smscan reads a wheel through its statically linked libarchive: this one.
status=0
"$venv/bin/smscan" -t sm_120 "$wheel" >"$scratch/smscan-wheel.out" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$scratch/smscan-wheel.out"; fail "smscan $name: exit status $status"; }
if [ -n "$fixtures" ]; then
  status=0
  "$venv/bin/smscan" -t sm_120,sm_80 "$fixtures" >"$scratch/smscan-fixtures.out" 2>&1 || status=$?
  [ "$status" -eq 1 ] && grep -q "sm80.so" "$scratch/smscan-fixtures.out" ||
    { cat "$scratch/smscan-fixtures.out"; fail "smscan on the fixtures: exit status $status (want 1: some FAIL on sm_120)"; }
  echo "test-wheel: smscan $fixtures: $(grep -c '' "$scratch/smscan-fixtures.out") lines, exit status 1 as expected"
fi

status=0
"$venv/bin/smwatch" explain "$OLDPWD/tests/cli/logs/pytorch_rtx5090.log" >"$scratch/explain.out" || status=$?
[ "$status" -eq 0 ] && grep -q "pytorch-unsupported-gpu" "$scratch/explain.out" ||
  fail "smwatch explain: exit status $status: $(cat "$scratch/explain.out")"

status=0
"$venv/bin/smwatch" doctor >"$scratch/doctor.out" 2>&1 || status=$?
[ "$status" -le 2 ] || fail "smwatch doctor: exit status $status: $(cat "$scratch/doctor.out")"
grep -q "^Python:  $venv/bin/python3 (.*): the environment smwatch is installed in ($venv)" "$scratch/doctor.out" ||
  { cat "$scratch/doctor.out"; fail "smwatch doctor did not inspect (or name) the venv's Python"; }
grep -q "^libsmwatch.so (for \`smwatch run\`): $venv/lib/libsmwatch.so" "$scratch/doctor.out" ||
  { cat "$scratch/doctor.out"; fail "smwatch doctor did not find the venv's libsmwatch.so"; }

# python -m smwatch: the same programs, and doctor looks at that interpreter.
"$venv/bin/python" -m smwatch --version | grep -q "^smwatch " || fail "python -m smwatch --version"
"$venv/bin/python" -m smwatch smscan --version | grep -q "^smscan " || fail "python -m smwatch smscan --version"
status=0
"$venv/bin/python" -m smwatch doctor >"$scratch/doctor-m.out" 2>&1 || status=$?
grep -q "^Python:  $venv/bin/python (.*): \$SMWATCH_PYTHON" "$scratch/doctor-m.out" ||
  { cat "$scratch/doctor-m.out"; fail "python -m smwatch doctor did not inspect the Python that ran it"; }
shim=$("$venv/bin/python" -c 'import smwatch; print(smwatch.shim_path())')
[ "$shim" = "$venv/lib/libsmwatch.so" ] || fail "smwatch.shim_path() = $shim"

# Programs under the shim: smwatch run (finds the venv's library by itself),
# and a plain LD_PRELOAD into the venv's Python.
"$venv/bin/smwatch" run -- true 2>"$scratch/run.err" || fail "smwatch run -- true: $(cat "$scratch/run.err")"
grep -q "preloading $venv/lib/libsmwatch.so" "$scratch/run.err" || fail "smwatch run did not preload the venv's library: $(cat "$scratch/run.err")"
out=$("$venv/bin/smwatch" run -q -- "$venv/bin/python" -c 'import os; print("preloaded" if "libsmwatch.so" in open("/proc/self/maps").read() else "missing")' 2>"$scratch/run-py.err") ||
  fail "smwatch run -- python: $(cat "$scratch/run-py.err")"
[ "$out" = preloaded ] || fail "the shim was not mapped into python under smwatch run: $out $(cat "$scratch/run-py.err")"
out=$(LD_PRELOAD=$venv/lib/libsmwatch.so SMWATCH_LOG=warn "$venv/bin/python" -c 'print("ok")' 2>"$scratch/preload.err") ||
  fail "LD_PRELOAD=libsmwatch.so python: $(cat "$scratch/preload.err")"
[ "$out" = ok ] || fail "LD_PRELOAD=libsmwatch.so python printed: $out"
echo "test-wheel: OK ($name, $size bytes)"
