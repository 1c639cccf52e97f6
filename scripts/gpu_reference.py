#!/usr/bin/env python3
"""PyTorch on the GPU machine, timing the workloads of benches/cuda_ops.rs the same way (after a warm-up, each
run ended by torch.cuda.synchronize), as the side-by-side reference. Prints one markdown row per workload:
name, median milliseconds. Needs torch with CUDA; says so and exits 0 when absent."""
import statistics
import sys
import time


def main() -> int:
    try:
        import torch
    except ImportError:
        print("gpu_reference: SKIPPED, PyTorch is not installed")
        return 0
    if not torch.cuda.is_available():
        print("gpu_reference: SKIPPED, torch.cuda.is_available() is False")
        return 0
    dev = torch.device("cuda:0")
    torch.manual_seed(0)
    runs = {}

    def timed(name, fn, reps=30):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        samples = []
        for _ in range(reps):
            start = time.perf_counter()
            fn()
            torch.cuda.synchronize()
            samples.append(time.perf_counter() - start)
        runs[name] = statistics.median(samples) * 1e3

    for n in (1024, 4096):
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        timed(f"matmul_{n}", lambda: a @ b)
    x, y = torch.randn(4096, 512, device=dev), torch.randn(4096, 256, device=dev)
    model = torch.nn.Linear(512, 256).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    timed("linear_512_256_step_4096", step)
    big_a, big_b = torch.randn(10_000_000, device=dev), torch.randn(10_000_000, device=dev)
    timed("add_1e7", lambda: big_a + big_b)
    timed("sum_1e7", lambda: big_a.sum())
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    for name, ms in runs.items():
        print(f"| {name} | {ms:.4f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
