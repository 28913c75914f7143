#!/usr/bin/env bash
# Memory against the size of the input for cubins whose kernel names outweigh
# the file (issue 24, item 3): N entry symbols that all name one 150 KB string
# (tests/hostile/make_name_bomb.py; 20,000 of them make a 630 KB file). Each
# line gives smscan's peak RSS with --kernels on one such file, next to its
# peak on a real cubin of the test fixtures (the reference, same run), and
# the extra memory per KB of input. Then the same for a host program under
# the shim (the CI test program loading the file with cuModuleLoad, against
# the stand-in driver), with and without the shim.
# Before the fix every symbol's name was copied: 20,000 symbols took smscan
# to 2.9 GB (42 s) and the host to 1.9 GB; the bound now is that the names
# kept from an image add up to at most the image's size.
#
#   bench/bench_names.sh [SMSCAN]
#     SMSCAN   default: build/inspector/smscan (or $BUILD_DIR/...)
# Environment: BENCH_SYMBOLS (default "5000 10000 20000"), BENCH_NAME_BYTES (150000).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
smscan=$(realpath "${1:-$build/inspector/smscan}")
[ -x "$smscan" ] || { echo "bench_names: $smscan not found: build first (scripts/build.sh)" >&2; exit 1; }
scratch=$(mktemp -d /tmp/smwatch-names.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fixtures=$build/tests/fixtures
peak() {  # peak RSS in KB and exit status of one command, alone
  python3 -c 'import resource,subprocess,sys,os
r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r)' "$@"
}
read -r ref_kb _ < <(peak "$smscan" --no-progress --kernels -t sm_80 "$fixtures/sm80.cubin")
echo "smscan: $smscan; reference (sm80.cubin, $(( $(stat -c %s "$fixtures/sm80.cubin") / 1024 )) KB): ${ref_kb} KB peak RSS"
for n in ${BENCH_SYMBOLS:-5000 10000 20000}; do
  python3 tests/hostile/make_name_bomb.py "$scratch/bomb$n.cubin" "$n" "${BENCH_NAME_BYTES:-150000}" same
  file_kb=$(( $(stat -c %s "$scratch/bomb$n.cubin") / 1024 ))
  read -r kb rc < <(peak "$smscan" --no-progress --kernels -t sm_80 "$scratch/bomb$n.cubin")
  printf 'smscan --kernels  %6d symbols  %6d KB file  %8d KB peak RSS  +%6d KB over the reference (%5.2f KB per KB of input)  exit %s\n' \
    "$n" "$file_kb" "$kb" "$((kb - ref_kb))" "$(awk "BEGIN{print ($kb - $ref_kb) / $file_kb}")" "$rc"
done
driver=$build/tests/shim/driver_direct
shim=$build/shim/libsmwatch.so
if [ -x "$driver" ] && [ -f "$shim" ]; then
  export LD_LIBRARY_PATH=$build/tests/shim/fakecuda SMWATCH_LOG=quiet
  args=(--fatbin80 "$fixtures/sm80.fatbin" --multi "$fixtures/multi_none.fatbin" --so80 "$fixtures/sm80.so"
        --cubin80 "$fixtures/sm80.cubin" --launches 1)
  for n in ${BENCH_SYMBOLS:-5000 10000 20000}; do
    file_kb=$(( $(stat -c %s "$scratch/bomb$n.cubin") / 1024 ))
    read -r plain _ < <(peak "$driver" "${args[@]}" --odd-cubin "$scratch/bomb$n.cubin")
    read -r watched rc < <(SMWATCH_REPORT="$scratch/reports" python3 -c 'import resource,subprocess,sys,os
env=dict(os.environ,LD_PRELOAD=sys.argv[1])
r=subprocess.run(sys.argv[2:],env=env,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r)' "$(realpath "$shim")" "$driver" "${args[@]}" --odd-cubin "$scratch/bomb$n.cubin")
    printf 'host with shim    %6d symbols  %6d KB file  %8d KB peak RSS  +%6d KB over the host without it (%5.2f KB per KB of input)  exit %s\n' \
      "$n" "$file_kb" "$watched" "$((watched - plain))" "$(awk "BEGIN{print ($watched - $plain) / $file_kb}")" "$rc"
  done
fi
