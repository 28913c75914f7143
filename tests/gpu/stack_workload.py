"""The libraries people run, each reached once: cuBLAS (fp32, fp16, bf16, tf32,
fp8), cuBLASLt (a fused bias epilogue), cuDNN, SDPA, cuSOLVER, cuFFT,
cuSPARSE, sort/scan, torch.compile (Triton), CuPy (NVRTC) and JAX (XLA).
Prints one line per step ("step NAME ok|error ...") and a digest of each
result, so runs with and without libsmwatch.so can be compared bit for bit.
Usage: stack_workload.py [torch|cupy|jax|all]"""
import hashlib
import sys


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def run_steps(steps):
    ok = 0
    for name, fn in steps:
        try:
            out = fn()
            print(f"step {name} ok {out}", flush=True)
            ok += 1
        except Exception as e:  # a step that cannot run here is reported, not fatal
            print(f"step {name} error {type(e).__name__}: {str(e)[:200]}", flush=True)
    return ok, len(steps)


def torch_steps():
    import torch

    dev = "cuda"
    torch.manual_seed(0)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False

    def d(t):
        return digest(t.detach().float().cpu().contiguous().numpy().tobytes())

    a32 = torch.randn(512, 512, device=dev)
    b32 = torch.randn(512, 512, device=dev)

    def mm(dtype, tf32=False):
        def step():
            torch.backends.cuda.matmul.allow_tf32 = tf32
            r = a32.to(dtype) @ b32.to(dtype)
            torch.backends.cuda.matmul.allow_tf32 = False
            return d(r)
        return step

    def fp8():
        x = torch.randn(256, 256, device=dev).to(torch.float8_e4m3fn)
        w = torch.randn(256, 256, device=dev).to(torch.float8_e4m3fn).t()
        one = torch.tensor(1.0, device=dev)
        return d(torch._scaled_mm(x, w, scale_a=one, scale_b=one, out_dtype=torch.bfloat16))

    def lt_epilogue():
        lin = torch.nn.Linear(512, 256).to(dev, torch.bfloat16)
        return d(torch.nn.functional.gelu(lin(a32.to(torch.bfloat16))))

    def conv():
        x = torch.randn(4, 16, 32, 32, device=dev)
        c = torch.nn.Conv2d(16, 32, 3, padding=1).to(dev)
        return d(c(x))

    def sdpa():
        q = torch.randn(2, 8, 128, 64, device=dev, dtype=torch.float16)
        return d(torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True))

    spd = a32[:128, :128] @ a32[:128, :128].T + 128 * torch.eye(128, device=dev)
    steps = [
        ("cublas_fp32", mm(torch.float32)),
        ("cublas_fp16", mm(torch.float16)),
        ("cublas_bf16", mm(torch.bfloat16)),
        ("cublas_tf32", mm(torch.float32, tf32=True)),
        ("cublaslt_fp8", fp8),
        ("cublaslt_bias_gelu_bf16", lt_epilogue),
        ("cudnn_conv", conv),
        ("sdpa", sdpa),
        ("cusolver_solve", lambda: d(torch.linalg.solve(spd, b32[:128, :4]))),
        ("cusolver_svd", lambda: d(torch.linalg.svdvals(a32[:64, :64]))),
        ("cusolver_eigh", lambda: d(torch.linalg.eigvalsh(spd))),
        ("cusolver_cholesky", lambda: d(torch.linalg.cholesky(spd))),
        ("cufft", lambda: d(torch.fft.rfft(a32).abs())),
        ("cusparse", lambda: d(torch.sparse.mm(a32[:64, :64].relu().to_sparse(), b32[:64, :8]))),
        ("sort_scan", lambda: d(torch.sort(a32.flatten())[0].cumsum(0))),
    ]

    @torch.compile
    def fused(u, v):
        return torch.sin(u) * torch.cos(v) + u * 0.5

    steps.append(("torch_compile", lambda: d(fused(a32, b32))))
    return steps


def cupy_steps():
    import cupy as cp

    def raw():
        k = cp.RawKernel(r'''extern "C" __global__ void twice(const float* x, float* y, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) y[i] = 2.0f * x[i]; }''', "twice")
        x = cp.arange(1024, dtype=cp.float32)
        y = cp.empty_like(x)
        k((4,), (256,), (x, y, cp.int32(1024)))
        return digest(cp.asnumpy(y).tobytes())

    def elementwise():
        f = cp.ElementwiseKernel("float32 x", "float32 y", "y = x * x + 1", "sq_plus_one")
        return digest(cp.asnumpy(f(cp.arange(256, dtype=cp.float32))).tobytes())

    return [("cupy_rawkernel_nvrtc", raw), ("cupy_elementwise", elementwise),
            ("cupy_matmul", lambda: digest(cp.asnumpy(cp.ones((64, 64), cp.float32) @ cp.ones((64, 64), cp.float32)).tobytes()))]


def jax_steps():
    import jax
    import jax.numpy as jnp

    @jax.jit
    def f(x):
        return jnp.tanh(x @ x.T).sum(axis=0)

    x = jnp.arange(256 * 256, dtype=jnp.float32).reshape(256, 256) / 65536.0
    return [("jax_jit", lambda: digest(bytes(memoryview(jax.device_get(f(x)))))),
            ("jax_fft", lambda: digest(bytes(memoryview(jax.device_get(jnp.abs(jnp.fft.fft(x[0]))))))),]


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    steps = []
    for name, make in (("torch", torch_steps), ("cupy", cupy_steps), ("jax", jax_steps)):
        if which in (name, "all"):
            try:
                steps += make()
            except Exception as e:
                print(f"step {name}_import error {type(e).__name__}: {str(e)[:200]}", flush=True)
    ok, total = run_steps(steps)
    print(f"steps ok {ok}/{total}")


if __name__ == "__main__":
    main()
