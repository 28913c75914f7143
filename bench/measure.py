"""Runs a command and prints its wall time and peak RSS (of the command and
its children): `measure.py LABEL -- CMD...`. For benchmarks on machines
without GNU time."""
import os
import resource
import subprocess
import sys
import time

label = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
start = time.perf_counter()
proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{label}: wall={wall:.3f}s peak_rss={rss_kb / 1024:.1f}MiB exit={proc.returncode}")
