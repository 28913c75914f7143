#!/usr/bin/env bash
# What libsmwatch.so adds per launch, measured without a GPU: the CI test
# program against the stand-in driver (whose launch is one atomic add), with
# and without the shim, alternating, 5 rounds. The GPU version of this
# benchmark (a million real launches, torch start-up, a torch workload) is
# in tests/gpu/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
n=${1:-5000000}
f=$build/tests/fixtures
args=(--fatbin80 $f/sm80.fatbin --multi $f/multi_none.fatbin --so80 $f/sm80.so --cubin80 $f/sm80.cubin --launches "$n")
export LD_LIBRARY_PATH=$build/tests/shim/fakecuda
for program in driver_direct driver_runtime_style; do
  echo "== $program, $n launches"
  python3 - "$build/tests/shim/$program" "$build/shim/libsmwatch.so" "$n" "${args[@]}" <<'PY'
import os, subprocess, sys, time
prog, shim, n, args = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def run(preload):
    env = dict(os.environ, SMWATCH_LOG="quiet")
    if preload: env["LD_PRELOAD"] = shim
    t = time.perf_counter(); subprocess.run([prog] + args, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
plain, watched = [], []
for _ in range(5):
    plain.append(run(False)); watched.append(run(True))
p, w = min(plain), min(watched)
print(f"without shim: best {p:.3f} s   with shim: best {w:.3f} s   added per launch: {(w - p) / n * 1e9:.1f} ns")
PY
done
