#!/usr/bin/env bash
# The judge's cost on real wheels: smscan (this build) against a reference
# smscan (another build, e.g. main's) on the same wheels, runs interleaved
# (reference, new, reference, new...) so that load on the machine hits both
# alike. Prints per wheel the median wall time and peak RSS of each, and the
# ratio new/reference. The verdict scan (-t over ten GPUs) and --kernels.
# Usage: [RUNS=3] [MODES="verdict kernels"] bench/bench_verdicts.sh REFERENCE_SMSCAN [NEW_SMSCAN] [WHEELS...]
#   default wheels: the serving stacks of tests/acceptance in $SMWATCH_ACCEPTANCE_CACHE
#   (default /work/.cache-wheels): vllm, sgl-kernel, sglang-kernel,
#   flashinfer-python, flashinfer-cubin, bitsandbytes.
set -uo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: bench/bench_verdicts.sh REFERENCE_SMSCAN [NEW_SMSCAN] [WHEELS...]}
new=${2:-build/inspector/smscan}
shift; shift || true
wheels=("$@")
cache=${SMWATCH_ACCEPTANCE_CACHE:-/work/.cache-wheels}
if [ ${#wheels[@]} -eq 0 ]; then
  for p in vllm-0.33.0 sgl_kernel-0.3.21 sglang_kernel-0.4.10 flashinfer_python-0.7.4 flashinfer_cubin-0.6.13 \
           bitsandbytes-0.50.2; do
    for w in "$cache"/$p-*.whl; do [ -f "$w" ] && wheels+=("$w"); done
  done
fi
runs=${RUNS:-3}
modes=${MODES:-verdict kernels}  # verdict: -t over ten GPUs; kernels: the same with --kernels
targets=sm_70,sm_75,sm_80,sm_86,sm_89,sm_90,sm_100,sm_103,sm_110,sm_120
echo "reference: $ref; new: $new; $runs interleaved runs each, median; $(nproc) cores"
python3 - "$ref" "$new" "$runs" "$targets" "$modes" "${wheels[@]}" <<'PY'
import os, re, statistics, subprocess, sys
ref, new, runs, targets, modes, wheels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5].split(), sys.argv[6:]
def measure(cmd):
    out = subprocess.run([sys.executable, "bench/measure.py", "x", "--"] + cmd, capture_output=True, text=True).stdout
    return float(re.search(r"wall=([0-9.]+)", out).group(1)), float(re.search(r"peak_rss=([0-9.]+)", out).group(1))
print(f"{'wheel':<34} {'mode':<8} {'ref_s':>7} {'new_s':>7} {'new/ref':>8} {'ref_MiB':>8} {'new_MiB':>8}")
tot = {"ref": 0.0, "new": 0.0}
for w in wheels:
    for mode, extra in (("verdict", []), ("kernels", ["--kernels"])):
        if mode not in modes:
            continue
        r, n = [], []
        for _ in range(runs):
            r.append(measure([ref, "--no-progress", "--json", "-t", targets] + extra + [w]))
            n.append(measure([new, "--no-progress", "--json", "-t", targets] + extra + [w]))
        rs, ns = statistics.median(x[0] for x in r), statistics.median(x[0] for x in n)
        rm, nm = max(x[1] for x in r), max(x[1] for x in n)
        tot["ref"] += rs; tot["new"] += ns
        print(f"{os.path.basename(w)[:34]:<34} {mode:<8} {rs:7.2f} {ns:7.2f} {ns / rs:8.3f} {rm:8.1f} {nm:8.1f}")
print(f"{'total':<34} {'':<8} {tot['ref']:7.2f} {tot['new']:7.2f} {tot['new'] / tot['ref']:8.3f}")
PY
