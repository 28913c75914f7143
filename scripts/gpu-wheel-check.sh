#!/usr/bin/env bash
# On the GPU machine: the wheel of each build installed as a user would, run
# over torch, and the shim's launch path of the two builds benchmarked
# against each other, interleaved.
#   scripts/gpu-wheel-check.sh DIR
# DIR holds NEW.whl (e.g. scripts/build-wheel.sh --glibc 2.28), OLD.whl (the
# default build, manylinux_2_34) and launch_bench (scripts/gpu-test.sh build
# puts it in gpu-artifacts/). For each wheel: a venv that sees the system's
# torch (--system-site-packages), pip install --no-deps, smscan --python,
# python -m smwatch doctor, smwatch run over a torch program. Then 12
# interleaved pairs of launch_bench (1,000,000 launches) under OLD's and
# NEW's libsmwatch.so; bench/pair_ratio.py prints the median NEW/OLD ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath "${1:?usage: scripts/gpu-wheel-check.sh DIR (with NEW.whl, OLD.whl, launch_bench)}")
py=${PYTHON:-$(command -v python3)}
scratch=$(mktemp -d /tmp/smwatch-gpu-wheel-XXXXXX)
fail() { echo "gpu-wheel-check: FAIL: $*" >&2; exit 1; }
for which in NEW OLD; do
  wheel=$dir/$which.whl
  [ -f "$wheel" ] || fail "$wheel is missing"
  venv=$scratch/$which
  # pip wants the wheel's real name (its tags) to install it.
  tag=$("$py" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); w = [n for n in z.namelist() if n.endswith(".dist-info/WHEEL")][0]; print([l[5:] for l in z.read(w).decode().splitlines() if l.startswith("Tag: ")][0])' "$wheel")
  named=$scratch/smwatch-0-$tag.whl
  cp "$wheel" "$named"
  echo "== $which: $tag"
  "$py" -m venv --system-site-packages "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index --no-deps "$named"
  "$venv/bin/smscan" -t sm_120 --python | tail -3 || true
  "$venv/bin/python" -m smwatch doctor | head -12 || true
  SMWATCH_LOG=info "$venv/bin/smwatch" run -- "$venv/bin/python" -c \
    'import torch; x = torch.arange(8.0, device="cuda"); print("torch", torch.__version__, "sum", (x * 2).sum().item())' ||
    fail "$which: smwatch run over torch"
done
if [ -x "$dir/launch_bench" ]; then
  echo "== launch-bound loop (1,000,000 empty-kernel launches), 12 interleaved pairs: plain = OLD's shim, shim = NEW's"
  for round in $(seq 12); do
    LD_PRELOAD=$scratch/OLD/lib/libsmwatch.so SMWATCH_LOG=error "$dir/launch_bench" 1000000 | sed "s/^/plain: /"
    LD_PRELOAD=$scratch/NEW/lib/libsmwatch.so SMWATCH_LOG=error "$dir/launch_bench" 1000000 | sed "s/^/shim:  /"
  done | tee "$scratch/launch-pairs.txt"
  "$py" bench/pair_ratio.py "$scratch/launch-pairs.txt"
fi
echo "gpu-wheel-check: done ($scratch)"
