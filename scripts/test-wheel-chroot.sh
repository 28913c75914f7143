#!/usr/bin/env bash
# Runs scripts/test-wheel.sh inside an older Debian userland, so that the
# wheel's glibc floor is tried on a real old glibc, not only read off objdump:
#   scripts/test-wheel-chroot.sh [SUITE] [WHEEL|DIST_DIR]
# SUITE: bullseye (default; glibc 2.31, pip 20.3) or any suite the Debian
# mirror still serves (buster, glibc 2.28, is no longer on it). The chroot is
# made once with debootstrap (apt-get install debootstrap; root) and kept in
# SMWATCH_CHROOT_CACHE (default ~/.cache/smwatch-chroot), outside the repository.
# Inside: a fresh venv with the suite's own python3 and pip, pip install
# --no-deps of the wheel (so the old pip must accept its tag), then ldd,
# smscan --python, smwatch doctor / run, python -m smwatch doctor, LD_PRELOAD
# into python: all of scripts/test-wheel.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:-bullseye}
wheel=${2:-dist}
[ -d "$wheel" ] && wheel=$(ls "$wheel"/smwatch-*.whl 2>/dev/null | head -1)
fail() { echo "test-wheel-chroot: FAIL: $*" >&2; exit 1; }
[ -f "$wheel" ] || fail "no wheel (${2:-dist}): run scripts/build-wheel.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, mount)"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=${SMWATCH_CHROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smwatch-chroot}/$suite

if [ ! -f "$root/.complete" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null ||
    fail "cannot install debootstrap"
  rm -rf "$root" && mkdir -p "$root"
  echo "test-wheel-chroot: debootstrap $suite into $root (a few minutes, once)"
  debootstrap --variant=minbase --include=python3,python3-venv,binutils "$suite" "$root" "$mirror" \
    >"$root.log" 2>&1 || { tail -20 "$root.log"; fail "debootstrap $suite failed (log: $root.log)"; }
  touch "$root/.complete"
fi

inside=/smwatch-test
rm -rf "${root:?}$inside" && mkdir -p "$root$inside/scripts" "$root$inside/tests/cli"
cp scripts/test-wheel.sh "$root$inside/scripts/"
cp -r tests/cli/logs "$root$inside/tests/cli/"
cp "$wheel" "$root$inside/"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc"' EXIT
echo "test-wheel-chroot: $suite: $(chroot "$root" ldd --version | head -1)"
chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
  bash "$inside/scripts/test-wheel.sh" "$inside/$(basename "$wheel")" /tmp/wheel-test ||
  fail "scripts/test-wheel.sh in $suite"
echo "test-wheel-chroot: OK in $suite"
