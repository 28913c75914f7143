#!/usr/bin/env bash
# The wheel, as users get it and as builders make it:
#  1. scripts/build-wheel.sh, then scripts/test-wheel.sh: the portable
#     manylinux wheel installed with pip install --no-deps into a fresh venv;
#     ldd shows it needs nothing outside the manylinux base; smscan, smwatch,
#     python -m smwatch and a program under the shim run from that venv;
#  2. pip install . in another fresh venv (the builder's path): smscan
#     --version, smwatch explain on a fixture log, smwatch run -- true.
# Needs PyPI (for scikit-build-core); exits 77 (ctest: skipped) when it cannot
# be reached, except in CI (CI=true), where that fails. Usage: scripts/test-pip-install.sh [SCRATCH_DIR] [FIXTURE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${1:-$(mktemp -d /tmp/smwatch-pip-XXXXXX)}
rm -rf "$scratch"
mkdir -p "$scratch"
export PATH="$PATH:/usr/local/cuda/bin"  # find_package(CUDAToolkit): cuda.h
fail() { echo "test-pip-install: $*" >&2; exit 1; }

python3 -m venv "$scratch/venv" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
venv=$scratch/venv
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >"$scratch/pip-upgrade.log" 2>&1 || true
if ! "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps -d "$scratch/probe" \
     "scikit-build-core>=0.10" >"$scratch/probe.log" 2>&1; then
  cat "$scratch/probe.log"
  # In CI the wheel check is the point: no PyPI there fails, it is not skipped.
  [ "${CI:-}" = true ] && fail "PyPI cannot be reached (scikit-build-core), and CI=true: the wheel must be checked"
  echo "test-pip-install: PyPI cannot be reached (scikit-build-core): skipped"
  exit 77
fi
echo "+ scripts/build-wheel.sh (builds with CMake; a few minutes on 2 cores)"
scripts/build-wheel.sh "$scratch/dist" || fail "scripts/build-wheel.sh failed"
echo "+ scripts/test-wheel.sh"
scripts/test-wheel.sh "$scratch/dist" "$scratch/wheel-test" "${2:-}" || fail "scripts/test-wheel.sh failed"

# Without build isolation, with scikit-build-core in the venv: pip's isolated
# build environment would configure build-wheel/<tag>/ anew and rebuild
# everything (6-7 minutes on 2 cores) for the same result. That folder is the
# host-glibc build's; the wheel above was linked against glibc 2.28 in its own
# folder beside it, whose compiles ccache serves to this one.
echo "+ pip install --no-build-isolation . (host glibc; compiles from ccache where the wheel build made them)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "scikit-build-core>=0.10" >"$scratch/pip-sbc.log" 2>&1 ||
  { cat "$scratch/pip-sbc.log"; fail "cannot install scikit-build-core"; }
[ -z "${CMAKE_ARGS:-}" ] && command -v ccache >/dev/null &&
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CMAKE_ARGS="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-build-isolation . >"$scratch/pip-install.log" 2>&1 ||
  { tail -50 "$scratch/pip-install.log"; fail "pip install . failed (log: $scratch/pip-install.log)"; }

for f in bin/smscan bin/smwatch share/smwatch/signatures.json; do
  [ -e "$venv/$f" ] || fail "$f is not in the venv"
done
"$venv/bin/smscan" --version
"$venv/bin/smwatch" --version
# The venv's commands are on PATH once it is activated.
(source "$venv/bin/activate" && command -v smwatch | grep -q "^$venv/bin/smwatch$") || fail "smwatch is not the venv's"

status=0
"$venv/bin/smwatch" explain tests/cli/logs/pytorch_rtx5090.log >"$scratch/explain.out" || status=$?
[ "$status" -eq 0 ] || fail "smwatch explain: exit status $status: $(cat "$scratch/explain.out")"
grep -q "pytorch-unsupported-gpu" "$scratch/explain.out" || fail "smwatch explain did not recognise the PyTorch warning"

if [ -e "$venv/lib/libsmwatch.so" ]; then
  env -u SMWATCH_LIB "$venv/bin/smwatch" run -- true 2>"$scratch/run.err" || fail "smwatch run -- true: $(cat "$scratch/run.err")"
  grep -q "preloading $venv/lib/libsmwatch.so" "$scratch/run.err" || fail "smwatch run did not find the venv's libsmwatch.so: $(cat "$scratch/run.err")"
  echo "smwatch run -- true: OK, $(grep -o 'preloading [^;]*' "$scratch/run.err")"
else
  echo "test-pip-install: the venv has no lib/libsmwatch.so (the shim target smwatch_shim is not built yet):"
  echo "  checking that smwatch run says so"
  status=0
  env -u SMWATCH_LIB "$venv/bin/smwatch" run -- true 2>"$scratch/run.err" || status=$?
  [ "$status" -eq 125 ] && grep -q "$venv/lib/libsmwatch.so" "$scratch/run.err" ||
    fail "smwatch run without a library: want status 125 naming $venv/lib/libsmwatch.so: $(cat "$scratch/run.err")"
fi
echo "test-pip-install: OK"
