"""Spawns two worker processes that each use CUDA, like SGLang and vLLM
start their workers: `smwatch run` must merge the reports of all three."""
import multiprocessing as mp

def work(rank):
    import torch
    x = torch.ones(256, device="cuda") * (rank + 1)
    torch.cuda.synchronize()
    print(f"worker {rank}: sum={x.sum().item():.0f}", flush=True)

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=work, args=(r,)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    raise SystemExit(max(p.exitcode for p in procs))
