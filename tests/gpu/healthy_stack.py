"""A healthy stack, as a new user runs it (issue 20): every step must give
the same result with and without libsmwatch.so, and under `smwatch run` the
summary must say "No failures" with no what-if miss on the targets the stack
supports. Steps: transformers (a small Llama built from a config, greedy
generate; GPT-2 from a config), torchvision (nms, roi_align, deform_conv2d,
resnet18 under AMP), torchaudio MelSpectrogram (if installed), a hand-written
Triton kernel, CUDA graph capture and replay, torch.compile
mode=reduce-overhead, a world-size-1 NCCL all_reduce, a cuda-python module
loaded from PTX, cuSPARSELt semi-structured matmul and flex attention.
Prints "step NAME ok DIGEST" per step (stack_workload.py's format).
Usage: healthy_stack.py [STEP ...]   (default: all)"""
import ctypes
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack_workload import digest, run_steps  # noqa: E402

import torch  # noqa: E402

DEV = "cuda"


def d(t):
    return digest(t.detach().float().cpu().contiguous().numpy().tobytes())


def seeded():
    torch.manual_seed(0)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def llama_generate():
    from transformers import LlamaConfig, LlamaForCausalLM

    seeded()
    cfg = LlamaConfig(vocab_size=1000, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    model = LlamaForCausalLM(cfg).to(DEV, torch.bfloat16).eval()
    ids = torch.arange(1, 17, device=DEV).unsqueeze(0)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=24, do_sample=False,
                             pad_token_id=0)
    return "tokens " + " ".join(str(t) for t in out[0, 16:].tolist())


def gpt2_logits():
    from transformers import GPT2Config, GPT2LMHeadModel

    seeded()
    model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=1000, n_positions=128))
    model = model.to(DEV).eval()
    ids = torch.arange(1, 33, device=DEV).unsqueeze(0)
    with torch.no_grad():
        logits = model(ids).logits
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
                             pad_token_id=0)
    return f"argmax {logits.argmax(-1)[0, -8:].tolist()} tokens {out[0, 32:].tolist()}"


def vision_ops():
    import torchvision.ops as ops

    seeded()
    boxes = torch.rand(200, 4, device=DEV) * 100
    boxes[:, 2:] += boxes[:, :2] + 1
    scores = torch.rand(200, device=DEV)
    keep = ops.nms(boxes, scores, 0.5)
    feat = torch.randn(2, 8, 32, 32, device=DEV)
    rois = torch.tensor([[0, 1, 1, 20, 20], [1, 4, 4, 30, 28]], dtype=torch.float, device=DEV)
    pooled = ops.roi_align(feat, rois, output_size=(7, 7), spatial_scale=1.0, sampling_ratio=2, aligned=True)
    offset = torch.randn(2, 2 * 3 * 3, 30, 30, device=DEV) * 0.5
    weight = torch.randn(4, 8, 3, 3, device=DEV)
    deformed = ops.deform_conv2d(feat, offset, weight)
    return f"nms {d(keep)} roi_align {d(pooled)} deform_conv2d {d(deformed)}"


def resnet18_amp():
    import torchvision

    seeded()
    model = torchvision.models.resnet18(weights=None).to(DEV).eval()
    x = torch.randn(4, 3, 64, 64, device=DEV)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
        return "top1 " + str(model(x).argmax(-1).tolist())


def mel_spectrogram():
    import torchaudio

    seeded()
    wave = torch.randn(1, 16000, device=DEV)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, n_mels=40).to(DEV)
    return d(mel(wave))


def triton_kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def axpy(x_ptr, y_ptr, out_ptr, n, alpha, BLOCK: tl.constexpr):
        i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = i < n
        tl.store(out_ptr + i, alpha * tl.load(x_ptr + i, mask=mask) + tl.load(y_ptr + i, mask=mask), mask=mask)

    seeded()
    x, y = torch.randn(10000, device=DEV), torch.randn(10000, device=DEV)
    out = torch.empty_like(x)
    axpy[(triton.cdiv(10000, 1024),)](x, y, out, 10000, 3.0, BLOCK=1024)
    # Triton fuses a multiply-add: within an ulp of torch's two roundings.
    torch.testing.assert_close(out, 3.0 * x + y, rtol=1e-6, atol=1e-6)
    return d(out)


def cuda_graph():
    seeded()
    a = torch.randn(256, 256, device=DEV)
    static_in = torch.randn(256, 256, device=DEV)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(2):
            static_out = torch.relu(static_in @ a) + 1
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        static_out = torch.relu(static_in @ a) + 1
    results = []
    for k in range(3):
        static_in.copy_(torch.full((256, 256), float(k), device=DEV) + a)
        g.replay()
        results.append(static_out.clone())
    return d(torch.stack(results))


def compile_reduce_overhead():
    seeded()

    @torch.compile(mode="reduce-overhead")
    def f(u, v):
        return torch.tanh(u @ v) * 0.5 + u.sum(dim=0)

    u, v = torch.randn(128, 128, device=DEV), torch.randn(128, 128, device=DEV)
    outs = [f(u, v).clone() for _ in range(4)]  # warm-up, record, replays
    return d(torch.stack(outs))


def nccl_all_reduce():
    import torch.distributed as dist

    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1, device_id=torch.device(DEV, 0))
    try:
        t = torch.arange(1024, dtype=torch.float32, device=DEV)
        dist.all_reduce(t)
        b = torch.arange(1024, dtype=torch.bfloat16, device=DEV)
        dist.all_reduce(b)
        torch.cuda.synchronize()
        return f"{d(t)} {d(b)} nccl {torch.cuda.nccl.version()}"
    finally:
        dist.destroy_process_group()


PTX_SOURCE = r'''extern "C" __global__ void twice_plus_one(const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}'''


def cuda_python_ptx():
    from cuda.bindings import driver as cu
    from cuda.bindings import nvrtc

    def ok(result):
        err, *rest = result
        assert int(err) == 0, f"{err}"
        return rest[0] if len(rest) == 1 else rest

    major, minor = torch.cuda.get_device_capability()
    prog = ok(nvrtc.nvrtcCreateProgram(PTX_SOURCE.encode(), b"twice.cu", 0, [], []))
    opts = [f"--gpu-architecture=compute_{major}{minor}".encode()]
    ok(nvrtc.nvrtcCompileProgram(prog, len(opts), opts))
    size = ok(nvrtc.nvrtcGetPTXSize(prog))
    ptx = b" " * size
    ok(nvrtc.nvrtcGetPTX(prog, ptx))
    torch.cuda.init()
    torch.cuda.synchronize()  # torch's primary context is current on this thread
    module = ok(cu.cuModuleLoadData(ptx))
    fn = ok(cu.cuModuleGetFunction(module, b"twice_plus_one"))
    x = torch.arange(1000, dtype=torch.float32, device=DEV)
    y = torch.empty_like(x)
    xp, yp, n = ctypes.c_void_p(x.data_ptr()), ctypes.c_void_p(y.data_ptr()), ctypes.c_int(1000)
    params = (ctypes.c_void_p * 3)(ctypes.addressof(xp), ctypes.addressof(yp), ctypes.addressof(n))
    ok(cu.cuLaunchKernel(fn, 4, 1, 1, 256, 1, 1, 0, torch.cuda.current_stream().cuda_stream, ctypes.addressof(params), 0))
    torch.cuda.synchronize()
    assert torch.equal(y, 2 * x + 1)
    ok(cu.cuModuleUnload(module))
    return d(y)


def sparse_semi_structured():
    from torch.sparse import SparseSemiStructuredTensor, to_sparse_semi_structured

    seeded()
    SparseSemiStructuredTensor._FORCE_CUTLASS = False  # cuSPARSELt
    w = torch.randn(128, 128, device=DEV, dtype=torch.float16)
    w = w * torch.tensor([1, 1, 0, 0], device=DEV, dtype=torch.float16).repeat(128, 32)  # 2:4
    x = torch.randn(128, 128, device=DEV, dtype=torch.float16)
    ws = to_sparse_semi_structured(w)
    out = torch.mm(ws, x)
    assert torch.allclose(out, w @ x, rtol=1e-2, atol=1e-2)
    return f"{type(ws).__name__} {d(out)}"


def flex_attention_step():
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    seeded()
    q, k, v = (torch.randn(1, 4, 256, 64, device=DEV, dtype=torch.bfloat16) for _ in range(3))

    def causal(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    mask = create_block_mask(causal, 1, 1, 256, 256, device=DEV)
    out = torch.compile(flex_attention)(q, k, v, block_mask=mask)
    return d(out)


STEPS = [
    ("llama_generate", llama_generate),
    ("gpt2", gpt2_logits),
    ("torchvision_ops", vision_ops),
    ("resnet18_amp", resnet18_amp),
    ("torchaudio_mel", mel_spectrogram),
    ("triton_kernel", triton_kernel),
    ("cuda_graph", cuda_graph),
    ("compile_reduce_overhead", compile_reduce_overhead),
    ("nccl_all_reduce", nccl_all_reduce),
    ("cuda_python_ptx", cuda_python_ptx),
    ("cusparselt_semi_structured", sparse_semi_structured),
    ("flex_attention", flex_attention_step),
]


def main():
    wanted = set(sys.argv[1:])
    steps = [(n, f) for n, f in STEPS if not wanted or n in wanted]
    ok, total = run_steps(steps)
    print(f"steps ok {ok}/{total}", flush=True)


if __name__ == "__main__":
    main()
