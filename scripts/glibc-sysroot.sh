#!/usr/bin/env bash
# Makes a link-time sysroot for an older glibc:  scripts/glibc-sysroot.sh 2.28
# prints the sysroot's path (the last line of stdout).
#
# Why: code linked against Debian 12's libc.so binds __libc_start_main,
# pthread_*, dlopen at GLIBC_2.34 and stat at 2.33 (README "Which systems the
# wheel runs on"). Linked against glibc 2.28's libraries instead, the same
# objects bind the 2.28-era versions of each symbol. zig (the `ziglang` wheel
# on PyPI) generates exactly those: stub libc.so.6, libpthread.so.0,
# libdl.so.2, libm.so.6, librt.so.1 and the loader with the symbol versions of
# the glibc asked for, glibc's libc_nonshared.a (stat, fstat ... as calls of
# __xstat before 2.33) and start files (Scrt1.o, crt1.o). GCC and libstdc++
# stay the compilers and C++ library; only the link changes (build-wheel.sh
# --glibc: -B and --sysroot). A symbol that 2.28 does not have is an
# undefined reference at link time, never a surprise at run time; the ones
# libstdc++ needs are defined in compat/glibc_2_28.c.
#
# The toolchain is cached outside the repository (SMWATCH_TOOLCHAIN_CACHE,
# default ~/.cache/smwatch-toolchain): ziglang from PyPI once, pinned by
# version and by the sha256 of its x86-64 wheel (96 MiB to download, 413 MiB
# unpacked; PIP_FIND_LINKS may name a folder holding that wheel), the sysroot
# once per glibc version.
set -euo pipefail
version=${1:?usage: scripts/glibc-sysroot.sh GLIBC_VERSION (e.g. 2.28)}
[[ "$version" =~ ^2\.[0-9]+$ ]] || { echo "glibc-sysroot: $version: want 2.N" >&2; exit 1; }
zig_version=0.17.1
# ziglang-0.17.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl, as PyPI lists it.
zig_sha256=ea6cc5d87b033cf0aedfbc8f9549a908cae6c50ac31f1698188fa48a74524b54
cache=${SMWATCH_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smwatch-toolchain}
zig_home=$cache/ziglang-$zig_version
sysroot=$cache/glibc-$version-x86_64
fail() { echo "glibc-sysroot: $*" >&2; exit 1; }

if [ ! -x "$zig_home/ziglang/zig" ]; then
  echo "glibc-sysroot: installing ziglang $zig_version (PyPI) into $zig_home" >&2
  rm -rf "$zig_home.tmp" && mkdir -p "$cache"
  echo "ziglang==$zig_version --hash=sha256:$zig_sha256" >"$zig_home.requirements.txt"
  python3 -m pip install -q --disable-pip-version-check --no-deps --require-hashes --target "$zig_home.tmp" \
    -r "$zig_home.requirements.txt" >&2 || fail "cannot install ziglang==$zig_version (sha256 $zig_sha256) from PyPI"
  mv "$zig_home.tmp" "$zig_home"
fi
zig=$zig_home/ziglang/zig

stamp="glibc $version stubs from zig $zig_version, layout 2"  # a new layout makes it anew
if [ "$(cat "$sysroot/complete" 2>/dev/null)" != "$stamp" ]; then
  echo "glibc-sysroot: generating glibc $version libraries with zig $zig_version into $sysroot" >&2
  work=$(mktemp -d /tmp/smwatch-sysroot-XXXXXX)
  trap 'rm -rf "$work"' EXIT
  export ZIG_GLOBAL_CACHE_DIR=$cache/zig-cache ZIG_LOCAL_CACHE_DIR=$cache/zig-cache
  echo 'int main(void) { return 0; }' >"$work/main.c"
  # One PIE and one non-PIE link: zig builds Scrt1.o for the first, crt1.o
  # for the second, and the stub libraries and libc_nonshared.a for both.
  for pie in "-fPIE -pie" "-fno-PIE -no-pie"; do
    # shellcheck disable=SC2086
    "$zig" cc -target "x86_64-linux-gnu.$version" -O2 -fno-sanitize=all $pie "$work/main.c" -o "$work/main" \
      -lpthread -ldl -lm -lrt --verbose >"$work/zig.log" 2>&1 || { tail -20 "$work/zig.log" >&2; fail "zig cc failed"; }
    grep '^ld.lld ' "$work/zig.log" | tr ' ' '\n' | grep -E '/(S?crt1\.o|lib[a-z_]+\.so\.[0-9]+|libc_nonshared\.a)$' >>"$work/files"
  done
  lib=$work/sysroot/usr/lib/x86_64-linux-gnu
  mkdir -p "$lib"
  while read -r f; do
    case $(basename "$f") in
      libld.so.2) cp "$f" "$lib/ld-linux-x86-64.so.2" ;;  # zig's name for the loader's stub
      *) cp "$f" "$lib/" ;;
    esac
  done < <(sort -u "$work/files")
  for f in Scrt1.o crt1.o libc.so.6 libpthread.so.0 libdl.so.2 libm.so.6 librt.so.1 ld-linux-x86-64.so.2 libc_nonshared.a; do
    [ -f "$lib/$f" ] || fail "zig produced no $f (its --verbose output changed?)"
  done
  # What GCC's driver and ld expect to find: libc.so the linker script, the
  # -lNAME links, and crti.o/crtn.o (empty: zig's start files and GCC's
  # crtbegin/crtend use .init_array, not _init).
  echo 'GROUP ( libc.so.6 libc_nonshared.a AS_NEEDED ( ld-linux-x86-64.so.2 ) )' >"$lib/libc.so"
  for name in pthread dl m rt; do ln -s "$(cd "$lib" && ls "lib$name.so".[0-9]*)" "$lib/lib$name.so"; done
  # (with the note that keeps the stack non-executable).
  for f in crti crtn; do echo '.section .note.GNU-stack,"",@progbits' | as -o "$lib/$f.o"; done
  echo "$stamp" >"$work/sysroot/complete"
  rm -rf "$sysroot" && mkdir -p "$(dirname "$sysroot")" && mv "$work/sysroot" "$sysroot"
fi
echo "$sysroot"
