#!/usr/bin/env python3
"""`smscan --list` of large real wheels against cuobjdump, member by member
(issue 19, item 6), and the same wheel under a hash name (item 7), with time
and peak RSS of smscan itself, and of a reference smscan when one is given
(SMSCAN_BEFORE), measured in the same run. Run by hand (downloads):
  tests/acceptance/list_check.sh [SMSCAN] [name==version ...]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import check, compare_with_cuobjdump, failures, wheel_for  # noqa: E402


def timed_list(smscan, wheel):
    """smscan --list WHEEL: (stdout, seconds, peak RSS in MiB of that child)."""
    start = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", smscan, "--no-progress", "--list", wheel],
                       capture_output=True, text=True)
    seconds = time.time() - start
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    rss_kb = int(last) if last.isdigit() else 0
    return r.stdout, seconds, rss_kb / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smscan", required=True)
    ap.add_argument("--smscan-before", default="")
    ap.add_argument("--cuobjdump", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("specs", nargs="+")
    args = ap.parse_args()
    for spec in args.specs:
        wheel = wheel_for(args.cache, spec)
        print(f"{os.path.basename(wheel)} ({os.path.getsize(wheel) >> 20} MiB)")
        out, seconds, rss = timed_list(args.smscan, wheel)
        lines = sum(1 for l in out.splitlines() if l.strip() and not l.startswith("# "))
        print(f"  smscan --list: {lines} lines, {seconds:.1f} s, peak RSS {rss:.0f} MiB")
        if args.smscan_before:
            out_b, seconds_b, rss_b = timed_list(args.smscan_before, wheel)
            lines_b = sum(1 for l in out_b.splitlines() if l.strip() and not l.startswith("# "))
            print(f"  reference smscan --list: {lines_b} lines, {seconds_b:.1f} s, peak RSS {rss_b:.0f} MiB")
        same, differ, with_code, total = compare_with_cuobjdump(args.smscan, args.cuobjdump, wheel)
        check(differ == 0, f"{os.path.basename(wheel)}: {same} of {total} .so members list as cuobjdump does "
                           f"({with_code} with device code), {differ} different")
        # The same bytes under a hash name, as pip's cache keeps them.
        with tempfile.TemporaryDirectory(dir=os.path.dirname(wheel)) as tmp:
            hashed = os.path.join(tmp, "0f3c9a51d2e84b7c")
            os.link(wheel, hashed) if os.stat(wheel).st_dev == os.stat(tmp).st_dev else shutil.copy(wheel, hashed)
            renamed, _, _ = timed_list(args.smscan, hashed)
            check(renamed == out.replace(wheel, hashed), f"{os.path.basename(wheel)} under a hash name lists the same")
    print(f"\n{'ALL PASSED' if not failures else f'{len(failures)} FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
