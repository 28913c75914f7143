#!/usr/bin/env bash
# Builds the wheel users install, in one command:
#   scripts/build-wheel.sh [--glibc 2.N|host] [DIST_DIR]
#     ->  DIST_DIR (default dist/)/smwatch-<version>-py3-none-manylinux_2_28_x86_64.whl
# By default it links against glibc 2.28's libraries (scripts/glibc-sysroot.sh:
# zig's stubs, ziglang from PyPI once, cached outside the repository), so the
# wheel is manylinux_2_28 (RHEL 8, Ubuntu 20.04, Debian 11), like torch's;
# --glibc 2.N another glibc's. --glibc host links the build machine's glibc
# instead (no toolchain download): manylinux_2_34 on Debian 12.
# SMWATCH_PORTABLE (pyproject.toml): smscan, smwatch and libsmwatch.so link
# nothing but glibc. The tag is the newest GLIBC_ symbol version that any of
# them really requires (objdump -p), not a guess, and never less than the
# glibc linked against; more than that glibc (host: 2.34, RHEL 9; Ubuntu
# 22.04 has 2.35) is an error. Install anywhere with:  pip install --no-deps dist/smwatch-*.whl
# Needs PyPI once (scikit-build-core and wheel, into build-wheel/tools-venv).
# scripts/test-wheel.sh checks the result in a fresh venv.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "build-wheel: $*" >&2; exit 1; }
glibc=2.28  # torch's floor (manylinux_2_28): README "Which systems the wheel runs on"
if [ "${1:-}" = --glibc ]; then
  glibc=${2:-}
  [[ "$glibc" =~ ^(2\.[0-9]+|host)$ ]] || fail "--glibc: want a version such as 2.28, or host, not '$glibc'"
  shift 2
fi
[ "$glibc" = host ] && glibc=
dist=$(realpath -m "${1:-dist}")
tools=${WHEEL_TOOLS_VENV:-build-wheel/tools-venv}
max_glibc_minor=${glibc#2.}  # the floor asked for; host: 34 (RHEL 9)
max_glibc_minor=${max_glibc_minor:-34}
export PATH="$PATH:/usr/local/cuda/bin"  # find_package(CUDAToolkit): cuda.h

if ! "$tools/bin/python" -c 'import scikit_build_core, wheel' 2>/dev/null; then
  python3 -m venv "$tools" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$tools/bin/python" -m pip install -q --disable-pip-version-check "scikit-build-core>=0.10" "wheel>=0.40" ||
    fail "cannot install scikit-build-core and wheel from PyPI"
fi
# ccache, where installed, makes a rebuild cheap (the CMake build folder,
# build-wheel/<tag>/, is kept between runs too).
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
fi
build_dir_setting=()
if [ -n "$glibc" ]; then
  sysroot=$(scripts/glibc-sysroot.sh "$glibc" | tail -1) || fail "scripts/glibc-sysroot.sh $glibc failed"
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DSMWATCH_GLIBC_SYSROOT=$sysroot"
  # Its own CMake build folder, not the host build's (build-wheel/{wheel_tag},
  # also `pip install .`'s), so switching between them does not reconfigure;
  # at the same depth, so that ccache (paths relative to CCACHE_BASEDIR)
  # serves the compiles of one to the other.
  build_dir_setting=(--config-settings=build-dir="build-wheel/{wheel_tag}-glibc-$glibc")
else
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DSMWATCH_GLIBC_SYSROOT="
fi
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}

work=$(mktemp -d /tmp/smwatch-wheel-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "build-wheel: building (scikit-build-core, CMake Release, SMWATCH_PORTABLE=ON)"
start=$SECONDS
"$tools/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation "${build_dir_setting[@]}" -w "$work/raw" . \
  >"$work/pip.log" 2>&1 || { tail -40 "$work/pip.log"; fail "pip wheel failed"; }
raw=$(ls "$work"/raw/smwatch-*.whl)
echo "build-wheel: built in $((SECONDS - start)) s: $(basename "$raw")"

# The newest glibc symbol version each ELF file requires (its version
# references: what the dynamic loader checks).
mkdir "$work/unpacked"
(cd "$work/unpacked" && python3 -m zipfile -e "$raw" .)
max=0
while IFS= read -r -d '' f; do
  [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  minor=$(objdump -p "$f" | sed -n '/^Version References:/,$p' | grep -o 'GLIBC_2\.[0-9]*' | cut -d. -f2 | sort -n | tail -1)
  minor=${minor:-0}
  echo "build-wheel:   ${f#"$work/unpacked/"}: GLIBC_2.$minor at most, $(stat -c%s "$f") bytes"
  [ "$minor" -gt "$max" ] && max=$minor
done < <(find "$work/unpacked" -type f -print0)
[ "$max" -gt 0 ] || fail "no ELF file with glibc version references in the wheel"
[ "$max" -le "$max_glibc_minor" ] ||
  fail "the programs need GLIBC_2.$max: newer than 2.$max_glibc_minor; see compat/ and README"
# Linked against 2.N's libraries (not host), the tag claims 2.N even where
# the files need less: the floor they were linked for; README says which
# older glibc they were run on.
[ -n "$glibc" ] && [ "$max" -lt "$max_glibc_minor" ] && max=$max_glibc_minor
tag=manylinux_2_${max}_x86_64

tagged=$("$tools/bin/python" -m wheel tags --platform-tag "$tag" --remove "$raw")
mkdir -p "$dist"
rm -f "$dist"/smwatch-*.whl
mv "$work/raw/$tagged" "$dist/"
size=$(stat -c%s "$dist/$tagged")
echo "build-wheel: $dist/$tagged ($(awk "BEGIN {printf \"%.1f\", $size / 1048576}") MiB)"
