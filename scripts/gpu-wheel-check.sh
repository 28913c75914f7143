#!/usr/bin/env bash
# On the GPU machine: the wheel of each build installed as a user would, run
# over torch, and the shim's launch path of the two builds benchmarked
# against each other, interleaved.
#   scripts/gpu-wheel-check.sh DIR [RESULTS_DIR]
# DIR holds NEW.whl (scripts/build-wheel.sh: manylinux_2_28), OLD.whl (the
# manylinux_2_34 build, --glibc host) and, or else gpu-artifacts/ holds, launch_bench
# (scripts/gpu-test.sh build). PYTHON (default python3) is torch's Python.
# For each wheel: pip install --no-deps into the environment torch is in, as
# README says users do; then ldd, smscan --python, python -m smwatch doctor
# and smwatch run over a torch program, each checked. Then 12 interleaved
# pairs of launch_bench (1,000,000 launches) under OLD's and NEW's
# libsmwatch.so; bench/pair_ratio.py prints the median NEW/OLD ratio.
# Text outputs go to RESULTS_DIR (default: a new folder in /tmp); the wheels'
# copies, venvs and shims to another one there.
#
# Where torch's Python is a venv (the GPU machine's python3 is
# /opt/torch/.venv/bin/python3), each wheel is installed into that venv in
# turn and uninstalled at the end: a venv made from it with
# --system-site-packages would see its base interpreter's packages, not torch.
# Otherwise (torch in the system's Python) into a new venv made with
# --system-site-packages.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath "${1:?usage: scripts/gpu-wheel-check.sh DIR [RESULTS_DIR] (DIR with NEW.whl, OLD.whl, launch_bench)}")
res=$(realpath -m "${2:-$(mktemp -d /tmp/smwatch-gpu-wheel-XXXXXX)}")
py=$(command -v "${PYTHON:-python3}") || { echo "gpu-wheel-check: FAIL: no ${PYTHON:-python3}" >&2; exit 1; }
work=$(mktemp -d /tmp/smwatch-gpu-wheel-work-XXXXXX)
mkdir -p "$res"
fail() { echo "gpu-wheel-check: FAIL: $*" >&2; exit 1; }
bench=$dir/launch_bench
[ -x "$bench" ] || bench=gpu-artifacts/launch_bench
[ -x "$bench" ] || fail "no launch_bench in $dir or gpu-artifacts/ (scripts/gpu-test.sh build)"
"$py" -c 'import torch' 2>/dev/null || fail "$py cannot import torch (PYTHON= names torch's Python)"
in_venv=$("$py" -c 'import sys; print(int(sys.prefix != sys.base_prefix))')
torch_prefix=$("$py" -c 'import sys; print(sys.prefix)')
if [ "$in_venv" = 1 ] && "$py" -m pip show -q smwatch >/dev/null 2>&1; then
  fail "smwatch is already installed in $torch_prefix: this check installs and removes it there"
fi
[ "$in_venv" = 1 ] && trap '"$py" -m pip uninstall -q -y smwatch >/dev/null 2>&1 || true' EXIT
echo "gpu-wheel-check: torch's Python: $py ($("$py" -c 'import torch; print("torch", torch.__version__)')); results in $res"

for which in OLD NEW; do
  wheel=$dir/$which.whl
  [ -f "$wheel" ] || fail "$wheel is missing"
  # pip installs a wheel only under a wheel file name (NAME-VERSION-TAGS.whl): its own, from its dist-info.
  named=$work/$("$py" - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
info = [n.split("/")[0] for n in names if n.endswith(".dist-info/WHEEL")][0]
wheel = zipfile.ZipFile(sys.argv[1]).read(info + "/WHEEL").decode()
print(info[:-len(".dist-info")] + "-" + [l[5:] for l in wheel.splitlines() if l.startswith("Tag: ")][0] + ".whl")
EOF
)
  cp "$wheel" "$named"
  echo "== $which: $(basename "$named")"
  if [ "$in_venv" = 1 ]; then
    envpy=$py
    "$envpy" -m pip install -q --disable-pip-version-check --no-index --no-deps --force-reinstall "$named"
  else
    "$py" -m venv --system-site-packages "$work/$which-venv"
    envpy=$work/$which-venv/bin/python
    "$envpy" -m pip install -q --disable-pip-version-check --no-index --no-deps "$named"
  fi
  # Real paths: smwatch and smscan name what /proc/self/exe says.
  bin=$(realpath "$("$envpy" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')")
  prefix=$(dirname "$bin")
  shim=$("$envpy" -c 'import smwatch; print(smwatch.shim_path())')
  [ -f "$shim" ] || fail "$which: smwatch.shim_path() = $shim"
  shim=$(realpath "$shim")
  # The bench needs both builds' shim at once; the next install replaces this one.
  cp "$shim" "$work/$which-libsmwatch.so"
  for f in "$bin/smscan" "$bin/smwatch" "$shim"; do echo "ldd $f:"; ldd "$f"; done >"$res/$which-ldd.txt" 2>&1
  ! grep -q "not found" "$res/$which-ldd.txt" || { cat "$res/$which-ldd.txt"; fail "$which: a library is not found"; }

  status=0
  "$bin/smscan" --no-progress -t sm_90,sm_120 --python >"$res/$which-smscan-python.txt" 2>&1 || status=$?
  tail -4 "$res/$which-smscan-python.txt"
  [ "$status" -le 1 ] || fail "$which: smscan --python: exit status $status ($res/$which-smscan-python.txt)"
  grep -q "smscan: --python: $bin/python3: the environment smwatch is installed in ($prefix)" "$res/$which-smscan-python.txt" ||
    fail "$which: smscan --python did not take (or name) $bin/python3"
  grep -q "/torch/lib/libtorch_cuda.so" "$res/$which-smscan-python.txt" || fail "$which: smscan --python did not scan torch's libtorch_cuda.so"

  status=0
  "$envpy" -m smwatch doctor >"$res/$which-doctor.txt" 2>&1 || status=$?
  head -12 "$res/$which-doctor.txt"
  [ "$status" -le 2 ] || fail "$which: python -m smwatch doctor: exit status $status"
  grep -q "^libsmwatch.so (for \`smwatch run\`): $shim" "$res/$which-doctor.txt" ||
    fail "$which: doctor did not find $shim"

  status=0
  SMWATCH_LOG=info "$bin/smwatch" run --report "$res/$which-reports" -- "$envpy" -c \
    'import torch; x = torch.arange(8.0, device="cuda"); print("torch", torch.__version__, "sum", (x * 2).sum().item())' \
    >"$res/$which-run.out" 2>"$res/$which-run.err" || status=$?
  cat "$res/$which-run.out"; tail -3 "$res/$which-run.err"
  [ "$status" -eq 0 ] && grep -q " sum 56.0$" "$res/$which-run.out" || fail "$which: smwatch run over torch: exit status $status"
  grep -q "preloading $shim" "$res/$which-run.err" || fail "$which: smwatch run did not preload $shim"
  # The shim starts a report when a process first uses CUDA: torch's did.
  grep -Eq "^smwatch: [1-9][0-9]* process(es)?, " "$res/$which-run.err" || fail "$which: no process under smwatch run reported CUDA use"
done

echo "== launch-bound loop (1,000,000 empty-kernel launches), 12 interleaved pairs: plain = OLD's shim, shim = NEW's"
for round in $(seq 12); do
  # Each pair in both orders in turn; bench/pair_ratio.py pairs by the prefix.
  order="OLD NEW"; [ $((round % 2)) -eq 0 ] && order="NEW OLD"
  for which in $order; do
    prefix="plain: "; [ "$which" = NEW ] && prefix="shim:  "
    out=$(LD_PRELOAD=$work/$which-libsmwatch.so SMWATCH_LOG=error "$bench" 1000000) || fail "launch_bench under $which's shim: $out"
    echo "$prefix$out"
  done
done | tee "$res/launch-pairs.txt"
[ "$(grep -c ns_per_launch "$res/launch-pairs.txt")" -eq 24 ] || fail "launch_bench: fewer than 24 results ($res/launch-pairs.txt)"
echo "(shim/plain below = NEW/OLD)"
"$py" bench/pair_ratio.py "$res/launch-pairs.txt" | tee "$res/launch-ratio.txt"
echo "gpu-wheel-check: OK ($res)"
