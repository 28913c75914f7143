"""Writes shim reports of about SIZE bytes into DIR, shaped like a long
serving run's: PROCESSES report files, each a process header, a GPU, module
loads of a few hundred libraries (a server that loads and unloads the same
modules again and again), kernels chosen at run time, failing look-ups,
what-if misses and an exit record.

    python3 bench/make_reports.py DIR SIZE_BYTES [PROCESSES]
"""
import json
import os
import sys

out_dir, size = sys.argv[1], int(sys.argv[2])
processes = int(sys.argv[3]) if len(sys.argv) > 3 else 16
os.makedirs(out_dir, exist_ok=True)
per_file = size // processes


def line(record):
    return json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"


written = 0
for p in range(processes):
    pid = 1000 + p
    path = os.path.join(out_dir, f"smwatch-{pid}-1.jsonl")
    with open(path, "w") as f:
        n = 0
        f.write(line({"type": "process", "pid": pid, "time": 1.0 + p, "format": 1, "ppid": 999,
                      "exe": "/usr/bin/python3.12", "cmdline": "python3 -m sglang.launch_server --tp 8",
                      "smwatch": "0.1.0", "targets": ["sm_120", "sm_100"]}))
        f.write(line({"type": "gpu", "pid": pid, "time": 2.0, "ordinal": p % 8, "name": "NVIDIA H200",
                      "cc": "9.0", "arch": "sm_90", "driver": 13000}))
        # Whole blocks of records, made once and repeated: the generator must
        # not take longer than what it measures.
        block = []
        for i in range(400):
            lib = f"/venv/lib/python3.12/site-packages/pkg{i % 300}/lib/libkernels{i % 300}.so"
            block.append(line({"type": "module", "pid": pid, "time": 3.0, "call": "cuLibraryLoadData",
                               "handle": hex(0x7f0000000000 + i * 4096), "library": True, "source": lib,
                               "caller": "/venv/lib/python3.12/site-packages/torch/lib/libtorch_cuda.so",
                               "archs": "sm_80 sm_90 ptx:compute_90", "origin": "file",
                               "verdicts": {"sm_90": "OK", "sm_120": "JIT", "sm_100": "JIT"},
                               "result": 0, "result_name": "CUDA_SUCCESS", "problems": []}))
            if i % 4 == 0:
                block.append(line({"type": "failure", "pid": pid, "time": 3.5, "call": "cuModuleGetFunction",
                                   "error": 400, "error_name": "CUDA_ERROR_INVALID_HANDLE",
                                   "kernel": f"kernel_{i % 50}(float*, int)", "mangled": f"_Z9kernel_{i % 50}Pfi",
                                   "source": lib, "archs": "sm_80 sm_90", "gpu_arch": "sm_90",
                                   "caller": "/venv/lib/libfoo.so", "fix": ""}))
            if i % 2 == 0:
                block.append(line({"type": "runtime_kernel", "pid": pid, "time": 4.0,
                                   "kernel": f"triton_kernel_{i}", "mangled": f"triton_kernel_{i}_{p}",
                                   "source": "<memory, loaded by /venv/triton/_C/libtriton.so>",
                                   "caller": "/venv/triton/_C/libtriton.so", "archs": "sm_90a"}))
            if i % 20 == 0:
                block.append(line({"type": "missing", "pid": pid, "time": 4.5, "target": "sm_120",
                                   "kernel": f"flash_fwd_{i}", "mangled": f"flash_fwd_{i}",
                                   "source": "/venv/flash_attn_2_cuda.so", "archs": "sm_80 sm_90"}))
        text = "".join(block)
        while n + len(text) < per_file:
            f.write(text)
            n += len(text)
        f.write(line({"type": "exit", "pid": pid, "time": 9.0, "launches": 123456789, "modules": n // 400,
                      "kernels_used": 5000, "failures": 100, "runtime_kernels": 200, "repeated_failures": 0,
                      "unreported_failures": 0, "missing": {"sm_120": 20, "sm_100": 0}, "dropped_records": 0}))
    written += os.path.getsize(path)
print(f"{written / 2**20:.0f} MiB of reports in {processes} files: {out_dir}")
