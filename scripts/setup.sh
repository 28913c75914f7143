#!/usr/bin/env bash
# Installs everything smwatch needs to build and test on a fresh Debian 12
# machine: Debian packages, then pip packages (scripts/requirements.txt).
# The CUDA toolkit (nvcc, cuda.h) is expected at /usr/local/cuda or on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libelf-dev libzstd-dev liblz4-dev zlib1g-dev  # readers and decompressors
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libarchive-dev
  libbz2-dev liblzma-dev nettle-dev             # static libarchive's zip reader (the wheel: SMWATCH_PORTABLE)
  libgtest-dev libgmock-dev libbenchmark-dev    # tests and benchmarks
  clang llvm libclang-rt-14-dev                 # fuzzers and sanitizers
  python3 python3-pip python3-venv time binutils
  umoci skopeo                                  # container images for tests/images (built offline)
  chromium                                      # renders the HTML report (tests/cli/html_width.sh)
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: nvcc not found: install the CUDA toolkit (12.8 or newer) so the test fixtures can be built" >&2
  exit 1
fi

python3 -m pip install -q --disable-pip-version-check -r scripts/requirements.txt 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check --break-system-packages -r scripts/requirements.txt
echo "setup: done"
