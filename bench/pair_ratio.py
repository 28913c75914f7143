"""Median of the shim/plain ratios of interleaved benchmark pairs.
Reads lines "plain: ... N ns per launch" / "shim:  ... N ns per launch" in
turn (tests/gpu/run.sh writes them) and prints each ratio and the median."""
import re
import statistics
import sys

plain, shim = [], []
for line in open(sys.argv[1]):
    m = re.search(r"ns_per_launch=([\d.]+)", line)
    if not m:
        continue
    (plain if line.startswith("plain") else shim).append(float(m.group(1)))
ratios = [s / p for p, s in zip(plain, shim)]
print("pairs:", len(ratios), "ratios:", " ".join(f"{r:.3f}" for r in ratios))
if ratios:
    print(f"median shim/plain = {statistics.median(ratios):.4f} ({(statistics.median(ratios) - 1) * 100:+.2f}%)")
