"""A small torch workload for the shim's GPU tests: a matmul (cuBLAS), a
convolution (cuDNN) and a torch.compile'd function (a Triton kernel). Prints
a digest of every result, so runs with and without libsmwatch.so can be
compared bit for bit, and the wall time of the measured part."""
import hashlib
import sys
import time

import torch

def digest(t):
    return hashlib.sha256(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()).hexdigest()[:16]

def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    torch.manual_seed(0)
    dev = "cuda"
    a = torch.randn(1024, 1024, device=dev)
    b = torch.randn(1024, 1024, device=dev)
    x = torch.randn(8, 16, 64, 64, device=dev)
    conv = torch.nn.Conv2d(16, 32, 3, padding=1).to(dev)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False

    @torch.compile
    def fused(u, v):
        return torch.sin(u) * torch.cos(v) + u * 0.5

    # warm-up (compiles the Triton kernel)
    fused(a, b)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        m = a @ b
        c = conv(x)
        f = fused(a, b)
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    print("matmul", digest(m))
    print("conv", digest(c))
    print("compiled", digest(f))
    print(f"workload_seconds {elapsed:.4f}")

if __name__ == "__main__":
    main()
