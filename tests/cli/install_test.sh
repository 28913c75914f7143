#!/usr/bin/env bash
# cmake --install of a build tree into a scratch prefix; then checks the layout,
# runs the installed commands, and builds a consumer with find_package(smwatch).
# Usage: install_test.sh BUILD_DIR CONSUMER_SOURCE_DIR SCRATCH_DIR
set -euo pipefail
build=$1 consumer=$2 scratch=$3
rm -rf "$scratch"
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >"$scratch.install.log" 2>&1 || { cat "$scratch.install.log"; exit 1; }
fail() { echo "install_test: $*" >&2; exit 1; }
for f in bin/smscan bin/smwatch share/smwatch/signatures.json include/smwatch/arch.h lib/cmake/smwatch/smwatchConfig.cmake; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
"$prefix/bin/smscan" --version | grep -q '^smscan ' || fail "installed smscan does not run"
"$prefix/bin/smwatch" --version | grep -q '^smwatch ' || fail "installed smwatch does not run"
# The installed signatures file is the one used (-v says which).
echo "RuntimeError: CUDA error: invalid device function" | "$prefix/bin/smwatch" -v explain >"$scratch/explain.out" 2>&1 ||
  fail "smwatch explain found nothing: $(cat "$scratch/explain.out")"
grep -q "signatures: $prefix/share/smwatch/signatures.json" "$scratch/explain.out" ||
  fail "the installed signatures.json was not used: $(cat "$scratch/explain.out")"
if [ -e "$prefix/lib/libsmwatch.so" ]; then
  SMWATCH_LIB= "$prefix/bin/smwatch" run -- true 2>"$scratch/run.err" || fail "smwatch run -- true failed: $(cat "$scratch/run.err")"
  grep -q "preloading $prefix/lib/libsmwatch.so" "$scratch/run.err" || fail "run did not find lib/libsmwatch.so"
else
  echo "install_test: no libsmwatch.so installed (shim target not built yet): run not checked"
fi
cmake -S "$consumer" -B "$scratch/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >"$scratch/consumer.log" 2>&1 ||
  { cat "$scratch/consumer.log"; fail "find_package(smwatch) failed"; }
cmake --build "$scratch/consumer" >>"$scratch/consumer.log" 2>&1 || { cat "$scratch/consumer.log"; fail "consumer does not build"; }
out=$("$scratch/consumer/consumer" "$prefix/bin/smscan")
echo "$out"
grep -q "^target sm_120" <<<"$out" || fail "consumer output unexpected"
echo "install_test: OK"
