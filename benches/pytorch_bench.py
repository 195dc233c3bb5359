#!/usr/bin/env python3
"""PyTorch reference for `distillery bench`: the same five workloads, on the same CPU threads.

Reads the bundled MNIST (assets/mnist/*.gz) with numpy + gzip and prints the same JSON keys as
`distillery bench --json`:

  teacher      784-1200-1200-10, dropout 0.2 (input) / 0.5 (hidden), cross-entropy  samples/s
  student_ce   784-800-800-10, cross-entropy on hard labels                       samples/s
  kd_cached    student, Hinton loss (T = 4, alpha = 0.9, T^2) on cached soft targets samples/s
  kd_online    the same with a teacher forward pass (no_grad) on every batch        samples/s
  eval_*_ms    logits of the 10,000 test images (inference mode, one batch)           ms

One epoch of 60,000 examples at batch 128, SGD lr 0.05 momentum 0.9, after 20 warm-up batches;
evaluation is the median of 5 after one warm-up. Run by hand (see benches/README.md):

  python3 benches/pytorch_bench.py [--threads 2]
"""

import argparse
import gzip
import json
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 128
WARMUP_BATCHES = 20
EVAL_REPEATS = 5
TEMPERATURE = 4.0
ALPHA = 0.9
LR = 0.05
MOMENTUM = 0.9
# CPU time / wall time of each training workload's timed epoch, as `distillery bench` reports.
CORES_USED = {}


def read_idx(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(root: pathlib.Path):
    def images(name):
        x = read_idx(root / name)
        return torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx(root / name).astype(np.int64))

    return (
        images("train-images-idx3-ubyte.gz"),
        labels("train-labels-idx1-ubyte.gz"),
        images("t10k-images-idx3-ubyte.gz"),
        labels("t10k-labels-idx1-ubyte.gz"),
    )


def mlp(widths, dropout_input=0.0, dropout_hidden=0.0) -> nn.Sequential:
    layers = []
    if dropout_input > 0:
        layers.append(nn.Dropout(dropout_input))
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
            if dropout_hidden > 0:
                layers.append(nn.Dropout(dropout_hidden))
    return nn.Sequential(*layers)


def hinton_loss(z, q, y):
    log_p_t = F.log_softmax(z / TEMPERATURE, dim=1)
    kl = F.kl_div(log_p_t, q, reduction="batchmean")
    return ALPHA * TEMPERATURE**2 * kl + (1 - ALPHA) * F.cross_entropy(z, y)


def train_batches(model, opt, x_train, y_train, order, batches, loss_kind, q_cached, teacher):
    model.train()
    started = time.perf_counter()
    chunks = order.split(BATCH)
    for b in range(batches):
        idx = chunks[b % len(chunks)]
        x, y = x_train[idx], y_train[idx]
        if loss_kind == "ce":
            target = None
        elif loss_kind == "cached":
            target = q_cached[idx]
        else:
            with torch.no_grad():
                target = F.softmax(teacher(x) / TEMPERATURE, dim=1)
        opt.zero_grad(set_to_none=True)
        z = model(x)
        loss = F.cross_entropy(z, y) if target is None else hinton_loss(z, target, y)
        loss.backward()
        opt.step()
    return time.perf_counter() - started


def samples_per_sec(name, model, x_train, y_train, loss_kind="ce", q_cached=None, teacher=None):
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    gen = torch.Generator().manual_seed(0)
    n = x_train.shape[0]
    order = torch.randperm(n, generator=gen)
    train_batches(model, opt, x_train, y_train, order, WARMUP_BATCHES, loss_kind, q_cached, teacher)
    order = torch.randperm(n, generator=gen)
    batches = (n + BATCH - 1) // BATCH
    cpu_before = time.process_time()
    secs = train_batches(model, opt, x_train, y_train, order, batches, loss_kind, q_cached, teacher)
    CORES_USED[name] = (time.process_time() - cpu_before) / secs
    rate = n / secs
    print(f"{name:<11} {rate:>9.0f} samples/s  ({secs:.2f} s per epoch of {n}; "
          f"{CORES_USED[name]:.2f} cores busy)", file=sys.stderr)
    return rate


def eval_ms(name, model, x_test):
    model.eval()
    with torch.inference_mode():
        model(x_test)
        times = []
        for _ in range(EVAL_REPEATS):
            started = time.perf_counter()
            model(x_test)
            times.append((time.perf_counter() - started) * 1000)
    ms = sorted(times)[len(times) // 2]
    print(f"{name:<11} {ms:>9.1f} ms for {x_test.shape[0]} test images (median of {EVAL_REPEATS})", file=sys.stderr)
    return ms


# The training step's matrix products, as `distillery bench` times them (src/bench/products.rs):
# (description, m, k, n, left operand a transposed view, right operand a transposed view).
PRODUCTS = [
    ("x·Wᵀ (student layer 1)", 128, 784, 800, False, True),
    ("x·Wᵀ (student layer 2)", 128, 800, 800, False, True),
    ("x·Wᵀ (teacher layer 2)", 128, 1200, 1200, False, True),
    ("dZᵀ·x (student layer 1 weight gradient)", 800, 128, 784, True, False),
    ("dZ·W (student layer 2 input gradient)", 128, 800, 800, False, False),
]


def product_gflops():
    out = []
    for what, m, k, n, ta, tb in PRODUCTS:
        a = torch.rand(k, m).t() if ta else torch.rand(m, k)
        b = torch.rand(n, k).t() if tb else torch.rand(k, n)
        flop = 2.0 * m * n * k
        repeats = max(5, min(2000, int(2e10 / flop)))
        for _ in range(3):
            a @ b
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
        gflops = flop / sorted(times)[len(times) // 2] / 1e9
        name = f"{what} {m}×{k} · {k}×{n}"
        print(f"{name:<52} {gflops:7.1f} GFLOP/s", file=sys.stderr)
        out.append({"name": name, "m": m, "n": n, "k": k, "gflops": gflops})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent.parent / "assets" / "mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x_train, y_train, x_test, _ = load_mnist(args.data)

    teacher_widths, student_widths = [784, 1200, 1200, 10], [784, 800, 800, 10]
    report = {}
    report["teacher"] = samples_per_sec("teacher", mlp(teacher_widths, 0.2, 0.5), x_train, y_train)
    report["student_ce"] = samples_per_sec("student_ce", mlp(student_widths), x_train, y_train)
    # Distillation needs a teacher; its speed does not depend on how well it was trained.
    teacher = mlp(teacher_widths).eval()
    with torch.inference_mode():
        q_cached = torch.cat([F.softmax(teacher(x) / TEMPERATURE, dim=1) for x in x_train.split(2000)])
    report["kd_cached"] = samples_per_sec("kd_cached", mlp(student_widths), x_train, y_train,
                                          "cached", q_cached=q_cached)
    report["kd_online"] = samples_per_sec("kd_online", mlp(student_widths), x_train, y_train,
                                          "online", teacher=teacher)
    report["eval_teacher_ms"] = eval_ms("eval_teacher", teacher, x_test)
    report["eval_student_ms"] = eval_ms("eval_student", mlp(student_widths), x_test)
    report["products"] = product_gflops()
    report["cores_used"] = CORES_USED
    report["machine"] = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
