#!/usr/bin/env bash
# GPU tests and benchmarks of smwatch, on a machine with an NVIDIA GPU, a
# driver, nvcc-built test programs and (for the torch parts) torch.
# Usage: tests/gpu/run.sh ARTIFACTS_DIR [RESULTS_DIR]
#   ARTIFACTS_DIR holds libsmwatch.so, smscan (+ lib/ with its shared
#   libraries) and the programs scripts/gpu-test.sh builds (tests/gpu/*.cu and
#   the example examples/missing-arch/scale.cu).
# Prints PASS/FAIL per check and the benchmark numbers; exits 1 on any FAIL.
set -u
art=$(cd "$1" && pwd)
res=${2:-${OUT:-$PWD/gpu-results}}
mkdir -p "$res"
here=$(cd "$(dirname "$0")" && pwd)
shim=$art/libsmwatch.so
export LD_LIBRARY_PATH="$art/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
sections=${SECTIONS:-basic ptx torch stack healthy run bench smscan}   # which parts to run
want() { case " $sections " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
fails=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { if grep -qF -- "$2" "$3"; then pass "$1"; else fail "$1 (no '$2' in $3)"; fi; }

nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader | tee "$res/gpu.txt"
py=$(command -v python3)
cuobjdump=$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)

# 1. An sm_80-only kernel on this GPU: attributed 209, static and shared
#    cudart, lazy and eager loading. The program's output must not change.
want basic && for prog in scale_sm80_static scale_sm80_shared; do
  for mode in LAZY EAGER; do
    tag=$prog-$mode
    CUDA_MODULE_LOADING=$mode "$art/$prog" > "$res/$tag.plain.out" 2> "$res/$tag.plain.err"; rc_plain=$?
    rm -rf "$res/$tag.reports"
    CUDA_MODULE_LOADING=$mode LD_PRELOAD=$shim SMWATCH_REPORT="$res/$tag.reports" SMWATCH_TARGETS=sm_120 \
      "$art/$prog" > "$res/$tag.shim.out" 2> "$res/$tag.shim.err"; rc_shim=$?
    [ $rc_plain -ne 0 ] && [ $rc_plain -eq $rc_shim ] && pass "$tag: same exit status ($rc_plain)" || fail "$tag: exit $rc_plain vs $rc_shim"
    cmp -s "$res/$tag.plain.out" "$res/$tag.shim.out" && pass "$tag: same output" || fail "$tag: output differs"
    check "$tag: no kernel image" "cudaErrorNoKernelImageForDevice" "$res/$tag.plain.out"
    check "$tag: attributed 209" "CUDA_ERROR_NO_BINARY_FOR_GPU (209)" "$res/$tag.shim.err"
    check "$tag: kernel named" "scale_by_two(float*, int)" "$res/$tag.shim.err"
    check "$tag: file named" "$art/$prog" "$res/$tag.shim.err"
    check "$tag: archs named" "[has sm_80]; GPU is sm_90" "$res/$tag.shim.err"
  done
done
# The same kernel as compute_80 PTX only: JIT, runs.
want basic && LD_PRELOAD=$shim SMWATCH_REPORT="$res/ptx.reports" SMWATCH_LOG=info "$art/scale_ptx80" > "$res/ptx.out" 2> "$res/ptx.err"
want basic && check "ptx80 runs through JIT" "cudaSuccess" "$res/ptx.out"
want basic && check "ptx80 JIT reported" "JIT-compiles its PTX" "$res/ptx.err"
# The driver's own log for the failing program, a fixture for smwatch explain.
want basic && CUDA_LOG_FILE=stdout "$art/scale_sm80_static" > "$res/driver-log-scale_sm80.log" 2>&1

# 1a. PTX newer than the driver (issue 19, item 4): the driver refuses it with
#     222 (CUDA_ERROR_UNSUPPORTED_PTX_VERSION), the same PTX with nvcc's own
#     .version loads; smscan, asking this driver (native targets), says FAIL
#     with the driver to install for the one, JIT for the other.
if want ptx && [ -x "$art/ptx_load_check" ]; then
  driver_cuda=$(nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | awk '{print $3}')
  for ptx in scale_compute80 scale_isa91 scale_isa99; do
    expected=222; [ $ptx = scale_compute80 ] && expected=0
    # ISA 9.1 came with CUDA 13.1: a driver of 13.1 or newer knows it.
    [ $ptx = scale_isa91 ] && printf '13.1\n%s\n' "$driver_cuda" | sort -V -C && expected=0
    "$art/ptx_load_check" "$art/$ptx.ptx" $expected > "$res/ptx-$ptx.txt" 2>&1 &&
      pass "ptx $ptx: $(cat "$res/ptx-$ptx.txt")" || fail "ptx $ptx: $(cat "$res/ptx-$ptx.txt")"
    "$art/smscan" --no-progress --color never "$art/$ptx.ptx" > "$res/ptx-$ptx.smscan.txt" 2>&1
  done
  check "smscan: nvcc's PTX JITs on this driver" "only through PTX JIT" "$res/ptx-scale_compute80.smscan.txt"
  check "smscan: PTX 9.9 fails on this driver" "error 222" "$res/ptx-scale_isa99.smscan.txt"
  check "smscan: PTX 9.9 names a driver" "install an NVIDIA driver newer than CUDA" "$res/ptx-scale_isa99.smscan.txt"
fi

# 2. torch: a workload under the shim with what-if targets; results bit-identical.
if want torch && $py -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  $py -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_arch_list())" | tee "$res/torch.txt"
  $py "$here/torch_workload.py" > "$res/torch.plain.out" 2> "$res/torch.plain.err"
  rm -rf "$res/torch.reports"
  LD_PRELOAD=$shim SMWATCH_REPORT="$res/torch.reports" SMWATCH_TARGETS=sm_120,sm_110,sm_89,sm_70 \
    $py "$here/torch_workload.py" > "$res/torch.shim.out" 2> "$res/torch.shim.err"
  if diff <(grep -v workload_seconds "$res/torch.plain.out") <(grep -v workload_seconds "$res/torch.shim.out") >/dev/null &&
     [ -s "$res/torch.plain.out" ]; then pass "torch: results bit-identical with the shim"; else fail "torch: results differ"; fi
  $py - "$res/torch.reports" <<'PY' | tee "$res/torch.whatif.txt"
import json, sys, glob, collections
recs = [json.loads(l) for f in glob.glob(sys.argv[1] + "/*.jsonl") for l in open(f) if l.strip()]
exits = [r for r in recs if r["type"] == "exit"]
miss = collections.defaultdict(set)
for r in recs:
    if r["type"] == "missing": miss[r["target"]].add((r["source"].split("/")[-1], r["kernel"][:80]))
used = sum(e["kernels_used"] for e in exits)
calls = collections.Counter(r.get("call") for r in recs if r["type"] == "module")
print("module loads by call:", dict(calls))
mods = sum(e["modules"] for e in exits)
print(f"processes={len(set(r['pid'] for r in recs))} modules={mods} kernels_used={used} failures={sum(e['failures'] for e in exits)}")
for t in ["sm_120", "sm_110", "sm_89", "sm_70"]:
    print(f"what-if {t}: {len(miss[t])} kernels used without code")
    for s, k in sorted(miss[t])[:5]: print(f"   {s}: {k}")
PY
  grep -q "what-if sm_120: 0 kernels" "$res/torch.whatif.txt" && pass "torch: nothing missing on sm_120" || fail "torch: kernels missing on sm_120"
  grep -q "what-if sm_70: 0 kernels" "$res/torch.whatif.txt" && fail "torch: sm_70 shows no missing kernels" || pass "torch: sm_70 misses the kernels used"
  # A torch log a user would paste: PyTorch's warning for an unsupported GPU is
  # not reproducible here (the H100 is supported); the fixture above is.
fi

# 2a. The whole stack (issue 11): cuBLAS/cuBLASLt/cuDNN/SDPA/cuSOLVER/cuFFT/
#     cuSPARSE/torch.compile, CuPy (NVRTC) and JAX (XLA), each framework in its
#     own process, under the shim with every what-if target CUDA 13 supports:
#     nothing may be counted missing; results bit-identical with and without.
if want stack && [ -x "$art/smwatch" ]; then
  export XLA_PYTHON_CLIENT_PREALLOCATE=false
  supported=sm_75,sm_80,sm_86,sm_89,sm_100,sm_103,sm_120,sm_121
  rm -rf "$res/stack.reports" "$res/stack70.reports"
  for fw in torch cupy jax; do
    # Two runs without the shim first: a step whose result differs between
    # them is not deterministic (atomics in cuSPARSE and scans, XLA's
    # autotuning) and is left out of the comparison, by name.
    for n in 1 2; do $py "$here/stack_workload.py" $fw > "$res/stack-$fw.plain$n.out" 2> "$res/stack-$fw.plain$n.err"; done
    LD_PRELOAD=$shim SMWATCH_TARGETS=$supported SMWATCH_REPORT="$res/stack.reports" \
      $py "$here/stack_workload.py" $fw > "$res/stack-$fw.shim.out" 2> "$res/stack-$fw.shim.err"
    grep "^steps ok" "$res/stack-$fw.shim.out" | sed "s/^/$fw: /"
    grep " error " "$res/stack-$fw.plain1.out" | sed "s/^/$fw (no shim): /"
    unstable=$(diff "$res/stack-$fw.plain1.out" "$res/stack-$fw.plain2.out" | awk '/^[<>] step/ {print $3}' | sort -u | tr '\n' ' ')
    [ -n "$unstable" ] && echo "$fw: not deterministic without the shim, left out: $unstable"
    keep() { grep "^step" "$1" | awk -v skip=" $unstable " 'index(skip, " " $2 " ") == 0'; }
    if cmp -s <(keep "$res/stack-$fw.plain1.out") <(keep "$res/stack-$fw.shim.out") && grep -q "^step .* ok" "$res/stack-$fw.plain1.out"; then
      pass "stack $fw: $(keep "$res/stack-$fw.shim.out" | wc -l) deterministic steps bit-identical with the shim"
    else fail "stack $fw: results differ with the shim"; diff <(keep "$res/stack-$fw.plain1.out") <(keep "$res/stack-$fw.shim.out") | head -5; fi
  done
  "$art/smwatch" report "$res/stack.reports" > "$res/stack.report.txt" 2>&1; rc=$?
  "$art/smwatch" report --json "$res/stack.reports" > "$res/stack.report.json" 2>/dev/null
  head -3 "$res/stack.report.txt"
  missing=$($py -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(v['kernels']) for v in d.get('what_if',{}).values()))" "$res/stack.report.json" 2>/dev/null || echo "?")
  [ "$missing" = 0 ] && [ $rc -eq 0 ] && pass "stack: 0 kernels missing on $supported (smwatch report exit 0)" ||
    { fail "stack: $missing kernels counted missing on $supported (exit $rc)"; grep -A12 -i "what-if" "$res/stack.report.txt" | head -40; }
  # sm_70 is not supported by CUDA 13 builds: torch's kernels must show as missing there.
  LD_PRELOAD=$shim SMWATCH_TARGETS=sm_70 SMWATCH_REPORT="$res/stack70.reports" \
    $py "$here/stack_workload.py" torch > /dev/null 2>&1
  "$art/smwatch" report --json "$res/stack70.reports" > "$res/stack70.report.json" 2>/dev/null
  $py - "$res/stack70.report.json" <<'PY' | tee "$res/stack70.txt"
import json, sys, collections
d = json.load(open(sys.argv[1]))
ks = d.get("what_if", {}).get("sm_70", {}).get("kernels", [])
by = collections.Counter(str(k.get("source", k.get("library", "?"))).split("/")[-1] for k in ks)
print("sm_70 missing kernels:", len(ks), dict(by.most_common(8)))
PY
  grep -q "libtorch" "$res/stack70.txt" && pass "stack: sm_70 lists torch's kernels as missing" || fail "stack: sm_70 does not list torch's kernels"
  "$art/smscan" --no-progress --python "$py" -t native > "$res/smscan-native.txt" 2>&1; rc=$?
  tail -4 "$res/smscan-native.txt"
  ! grep -qE "^FAIL " "$res/smscan-native.txt" && [ $rc -eq 0 ] && pass "smscan --python -t native: no FAIL, exit 0" ||
    fail "smscan --python -t native: exit $rc, $(grep -cE '^FAIL ' "$res/smscan-native.txt") FAIL lines"
  # Every target CUDA 13 supports, reported (a FAIL here is a finding about a
  # package on a GPU this machine does not have, e.g. torch 2.11's
  # libtorch_cuda_linalg.so holds no sm_75 code).
  "$art/smscan" --no-progress --python "$py" -t $supported > "$res/smscan-supported.txt" 2>&1
  echo "smscan --python -t $supported: exit $?"
  grep -E "^(OK|JIT|PARTIAL|FAIL) " "$res/smscan-supported.txt"
  grep -E "^FAIL  " "$res/smscan-supported.txt" | head -5
fi

# 2a'. A healthy stack under `smwatch run`, as a new user runs it (issue 20):
#      transformers, torchvision, torchaudio, Triton, CUDA graphs, torch.compile
#      reduce-overhead, NCCL, cuda-python PTX, cuSPARSELt, flex attention
#      (healthy_stack.py). Same results with and without the shim, "No
#      failures", no what-if miss on the targets torch is built for, NCCL's
#      look-ups of kernels built for other GPUs shown as handled. Then an
#      sm_80-only torch extension (attributed to its .so and kernel, the only
#      library at fault, and `smwatch explain` on its log names it) and the same
#      built with 8.0+PTX (JIT, runs).
if want healthy && [ -x "$art/smwatch" ] && $py -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  h=$res/healthy
  rm -rf "$h" && mkdir -p "$h"
  export TORCHINDUCTOR_CACHE_DIR=$h/inductor-cache TRITON_CACHE_DIR=$h/triton-cache
  # The what-if targets torch itself is built for ("sm_75 ... sm_120").
  targets=$($py -c "import torch; print(','.join(a for a in torch.cuda.get_arch_list() if a.startswith('sm_')))")
  echo "healthy: what-if targets (torch's arch list): $targets"
  for n in 1 2; do $py "$here/healthy_stack.py" > "$h/plain$n.out" 2> "$h/plain$n.err"; done
  SMWATCH_LIB=$shim "$art/smwatch" run --targets "$targets" --report "$h/reports" -- \
    $py "$here/healthy_stack.py" > "$h/shim.out" 2> "$h/shim.err"; rc=$?
  grep -E "^step|^steps" "$h/shim.out"
  unstable=$(diff "$h/plain1.out" "$h/plain2.out" | awk '/^[<>] step/ {print $3}' | sort -u | tr '\n' ' ')
  [ -n "$unstable" ] && echo "healthy: not deterministic without the shim, left out: $unstable"
  keep() { grep "^step" "$1" | awk -v skip=" $unstable " 'index(skip, " " $2 " ") == 0'; }
  if cmp -s <(keep "$h/plain1.out") <(keep "$h/shim.out") && grep -q "^step .* ok" "$h/plain1.out"; then
    pass "healthy: $(keep "$h/shim.out" | grep -c ' ok ') steps ok and the same with the shim ($(grep -c ' error ' "$h/shim.out") steps error in both)"
  else fail "healthy: results differ with the shim"; diff <(keep "$h/plain1.out") <(keep "$h/shim.out") | head -8; fi
  [ $rc -eq 0 ] && pass "healthy: smwatch run exit 0" || fail "healthy: smwatch run exit $rc"
  sed -n '/^smwatch: [0-9]* process/,$p' "$h/shim.err" | grep -vE '^\s+(/|exe:|report:)' | head -60 > "$h/summary.txt"
  cat "$h/summary.txt"
  check "healthy: No failures" "No failures" "$h/shim.err"
  ! grep -q "^What-if" "$h/shim.err" && pass "healthy: no what-if miss on $targets" || fail "healthy: what-if misses on $targets"
  # The same summary from the report files alone (what tests/cli checks on a machine without the libraries).
  "$art/smwatch" report "$h/reports" > "$h/report.txt" 2>&1
  "$art/smwatch" report --json "$h/reports" > "$h/report.json" 2>&1
  head -1 "$h/report.txt"

  # The torch extension, sm_80 only: built without the shim, then run with and without it.
  ext=$h/ext80
  TORCH_CUDA_ARCH_LIST=8.0 $py "$here/arch_extension.py" "$ext" smwatch_sm80_ext > "$h/ext80.plain.out" 2> "$h/ext80.plain.log"; rc_plain=$?
  SMWATCH_LIB=$shim "$art/smwatch" run --targets "$targets" --report "$h/ext80.reports" -- \
    env TORCH_CUDA_ARCH_LIST=8.0 $py "$here/arch_extension.py" "$ext" smwatch_sm80_ext > "$h/ext80.shim.out" 2> "$h/ext80.shim.err"; rc_shim=$?
  tail -25 "$h/ext80.shim.err"
  [ $rc_plain -ne 0 ] && [ $rc_plain -eq $rc_shim ] && pass "ext sm_80: fails the same way with and without the shim (exit $rc_plain)" ||
    fail "ext sm_80: exit $rc_plain without the shim, $rc_shim with it"
  check "ext sm_80: no kernel image (torch's error)" "no kernel image is available" "$h/ext80.plain.log"
  so=$(ls "$ext"/smwatch_sm80_ext*.so 2>/dev/null | head -1)
  check "ext sm_80: attributed to its .so" "in $so [has sm_80]" "$h/ext80.shim.err"
  check "ext sm_80: kernel named" "smwatch_scale_kernel(float const*, float*, float, long)" "$h/ext80.shim.err"
  at_fault=$(sed -n '/^Libraries at fault:/,/^$/p' "$h/ext80.shim.err" | grep -c '^  /')
  grep -A3 "^Libraries at fault:" "$h/ext80.shim.err"
  [ "$at_fault" = 1 ] && grep -A1 "^Libraries at fault:" "$h/ext80.shim.err" | grep -qF "$so" &&
    pass "ext sm_80: the only library at fault" || fail "ext sm_80: $at_fault libraries at fault"
  # explain on the log of that `smwatch run` points at the .so (the plain
  # log cannot: torch's message names no library).
  "$art/smwatch" explain "$h/ext80.shim.err" > "$h/ext80.explain.txt" 2>&1
  "$art/smwatch" explain "$h/ext80.plain.log" > "$h/ext80.plain.explain.txt" 2>&1
  head -12 "$h/ext80.explain.txt"
  check "explain on the extension's smwatch run log names its .so" "in $so  (smwatch-shim-line)" "$h/ext80.explain.txt"
  # Both runs merged: the extension is still the only library at fault.
  "$art/smwatch" report "$h/reports" "$h/ext80.reports" > "$h/merged.txt" 2>&1
  [ "$(sed -n '/^Libraries at fault:/,/^$/p' "$h/merged.txt" | grep -c '^  /')" = 1 ] &&
    pass "healthy + ext sm_80 merged: one library at fault" || fail "healthy + ext sm_80 merged: $(grep -A5 '^Libraries at fault' "$h/merged.txt")"

  # 8.0+PTX: the driver JIT-compiles the PTX; runs, with and without the shim.
  ext=$h/ext80ptx
  TORCH_CUDA_ARCH_LIST="8.0+PTX" $py "$here/arch_extension.py" "$ext" smwatch_ptx80_ext > "$h/ptx.plain.out" 2> "$h/ptx.plain.err"
  SMWATCH_LIB=$shim "$art/smwatch" run --targets "$targets" --report "$h/ptx.reports" -- \
    env TORCH_CUDA_ARCH_LIST="8.0+PTX" SMWATCH_LOG=info $py "$here/arch_extension.py" "$ext" smwatch_ptx80_ext > "$h/ptx.shim.out" 2> "$h/ptx.shim.err"; rc=$?
  check "ext 8.0+PTX runs without the shim" "result ok" "$h/ptx.plain.out"
  check "ext 8.0+PTX runs with the shim" "result ok" "$h/ptx.shim.out"
  check "ext 8.0+PTX: JIT reported" "JIT-compiles its PTX" "$h/ptx.shim.err"
  [ $rc -eq 0 ] && pass "ext 8.0+PTX: smwatch run exit 0" || fail "ext 8.0+PTX: smwatch run exit $rc"
  # A small run for tests/reports (checked in, judged in CI without these
  # libraries): NCCL's handled look-ups, cuDNN and cuBLAS under AMP, cuSPARSELt,
  # and the sm_80 extension; its summary from here is what CI must print.
  SMWATCH_LIB=$shim "$art/smwatch" run -q --targets "$targets" --report "$h/checkin.reports" -- \
    $py "$here/healthy_stack.py" nccl_all_reduce resnet18_amp cusparselt_semi_structured > /dev/null 2>&1
  SMWATCH_LIB=$shim "$art/smwatch" run -q --targets "$targets" --report "$h/checkin.reports" -- \
    env TORCH_CUDA_ARCH_LIST=8.0 $py "$here/arch_extension.py" "$h/ext80" smwatch_sm80_ext > /dev/null 2>&1
  "$art/smwatch" report "$h/checkin.reports" > "$h/checkin.txt" 2>&1
  du -sh "$h/checkin.reports"; head -1 "$h/checkin.txt"
  # The report files go back for tests/cli (checked in, judged there without these libraries).
  (cd "$h" && tar czf "$res/healthy-reports.tar.gz" reports ext80.reports ptx.reports checkin.reports checkin.txt report.txt report.json merged.txt \
     summary.txt ext80.plain.log ext80.explain.txt ext80.plain.explain.txt shim.err ext80.shim.err plain1.out shim.out 2>/dev/null)
  unset TORCHINDUCTOR_CACHE_DIR TRITON_CACHE_DIR
fi

# 2b. smwatch run around a program that spawns two CUDA workers: one merged summary naming both.
if want run && [ -x "$art/smwatch" ] && $py -c "import torch" 2>/dev/null; then
  rm -rf "$res/run.reports"
  SMWATCH_LIB=$shim "$art/smwatch" run --targets sm_120,sm_70 --report "$res/run.reports" -- \
    $py "$here/two_workers.py" > "$res/run.out" 2> "$res/run.err"; rc=$?
  cat "$res/run.out" "$res/run.err" | tail -40
  [ $rc -eq 0 ] && pass "smwatch run: exit status of the command passed through" || fail "smwatch run: exit $rc"
  workers=$(grep -h '"type": *"process"' "$res"/run.reports/*.jsonl 2>/dev/null | wc -l)
  [ "$workers" -ge 2 ] && pass "smwatch run: $workers processes reported" || fail "smwatch run: only $workers process reports"
  for n in 0 1; do check "worker $n ran" "worker $n: sum=" "$res/run.out"; done
fi
# Facts for the notes: does the real driver bind its own symbols (as the stand-in does)?
readelf -dW "$(ldconfig -p | awk '/libcuda.so.1 / {print $NF; exit}')" 2>/dev/null | grep -iE "SYMBOLIC|FLAGS" | sed 's/^/libcuda dynamic: /'

# 3. Benchmarks, each against the same program without the shim in the same run.
want bench && {
  echo "== launch-bound loop (1,000,000 empty-kernel launches), 12 interleaved pairs"
  for round in $(seq 12); do
    "$art/launch_bench" 1000000 | sed "s/^/plain: /"
    LD_PRELOAD=$shim SMWATCH_LOG=error "$art/launch_bench" 1000000 | sed "s/^/shim:  /"
  done | tee "$res/launch-pairs.txt"
  $py "$here/../../bench/pair_ratio.py" "$res/launch-pairs.txt"
  if $py -c "import torch" 2>/dev/null; then
    echo "== torch start-up with CUDA_MODULE_LOADING=EAGER, 3 rounds"
    start='import torch; torch.zeros(1, device="cuda"); torch.cuda.synchronize()'
    for round in 1 2 3; do
      CUDA_MODULE_LOADING=EAGER $py "$here/../../bench/measure.py" "plain" -- $py -c "$start"
      CUDA_MODULE_LOADING=EAGER LD_PRELOAD=$shim SMWATCH_LOG=error SMWATCH_REPORT="$res/eager.reports" \
        $py "$here/../../bench/measure.py" "shim " -- $py -c "$start"
    done
    $py -c "import json,glob; r=[json.loads(l) for f in glob.glob('$res/eager.reports/*.jsonl') for l in open(f)]; print('eager module loads seen by the shim per run:', sum(1 for x in r if x['type']=='module')//3)"
    echo "== torch workload end to end (300 iterations), 2 rounds; peak RSS of the whole process"
    for round in 1 2; do
      $py "$here/torch_workload.py" 300 | grep workload_seconds | sed "s/^/plain: /"
      LD_PRELOAD=$shim SMWATCH_LOG=error $py "$here/torch_workload.py" 300 | grep workload_seconds | sed "s/^/shim:  /"
    done
    $py "$here/../../bench/measure.py" "plain rss" -- $py "$here/torch_workload.py" 5
    LD_PRELOAD=$shim SMWATCH_LOG=error $py "$here/../../bench/measure.py" "shim rss " -- $py "$here/torch_workload.py" 5
  fi
} 2>&1 | tee "$res/bench.txt"

# 4. smscan against cuobjdump on the installed CUDA libraries.
if want smscan && [ -x "$art/smscan" ]; then
  site=$($py -c "import site; print(site.getsitepackages()[0])")
  find "$site" -name "*.so*" -type f -size +1M 2>/dev/null | sort > "$res/libs.all"
  : > "$res/libs.txt"
  while read -r f; do "$art/smscan" --list --no-progress "$f" 2>/dev/null | grep -q "file" && echo "$f" >> "$res/libs.txt"; done < "$res/libs.all"
  echo "libraries with device code: $(wc -l < "$res/libs.txt")"
  same=0; diffs=0
  while read -r f; do
    if cmp -s <("$cuobjdump" --list-elf --list-ptx "$f" 2>/dev/null) <("$art/smscan" --list --no-progress "$f" 2>/dev/null); then same=$((same+1)); else diffs=$((diffs+1)); echo "differs: $f"; fi
  done < "$res/libs.txt"
  [ $diffs -eq 0 ] && pass "smscan --list equals cuobjdump on $same libraries" || fail "$diffs libraries differ from cuobjdump"
  # Time and peak RSS against cuobjdump on the same files: the benchmark of
  # bench/ (per file, then all at once), not a second copy of it here.
  CUOBJDUMP="$cuobjdump" "$here/../../bench/bench_smscan.sh" "$art/smscan" "$site" 2>&1 | tee "$res/smscan-bench.txt"
  "$art/smscan" --no-progress -t sm_120,sm_100,sm_90,sm_70 "$site/torch" > "$res/smscan-torch.txt" 2>&1
  tail -20 "$res/smscan-torch.txt"
  # Verdicts on libtorch_cuda.so against the smscan of before the new judge, same run.
  if [ -x "$art/smscan-before" ]; then
    lib=$(find "$site/torch/lib" -name "libtorch_cuda.so" | head -1)
    for round in 1 2 3; do
      for which in smscan-before smscan; do
        /usr/bin/time -f "$which verdicts libtorch_cuda.so: %e s %M KB" "$art/$which" --no-progress -q \
          -t sm_120,sm_100,sm_90,sm_70 "$lib" > /dev/null
      done
    done 2>&1 | tee "$res/verdict-speed.txt"
  fi
fi
echo "GPU tests: $fails failed"
[ $fails -eq 0 ]
