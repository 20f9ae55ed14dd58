"""Parameters and training speed of every model on this machine's CPU.

For each model and input size: one Adam step of forward + backward on a batch of 100 (the default
batch), timed over a few steps after a warm-up, as images/s and seconds for a 5,000-sample epoch.
With ``--data`` the data side is timed too (augmentation + ``fingerspell.features`` conversion of
real rows, per sample), and the epoch estimate includes it.

    python benchmarks/model_speed.py [--data artifacts/data/massey.npz] [--out speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from fingerspell.hands.landmarks import FEATURE_DIM
from fingerspell.models.registry import build_model, count_parameters, input_kind

CONFIGS = (("cnn", 64), ("cnn", 96), ("mobilenetv2", 64), ("mobilenetv2", 96),
           ("resnet18", 64), ("resnet18", 96), ("landmark_mlp", FEATURE_DIM))
EPOCH = 5000


def time_steps(name: str, size: int, batch: int, min_seconds: float, max_steps: int) -> float:
    """Seconds per training step (forward, backward, Adam) on random input of the model's shape."""
    torch.manual_seed(0)
    model = build_model(name, 29, size)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(batch, FEATURE_DIM) if input_kind(name) == "vector" else torch.rand(batch, 3, size, size)
    y = torch.randint(0, 29, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    step()  # warm-up (allocations, kernel selection)
    times = []
    t_end = time.perf_counter() + min_seconds
    while len(times) < max_steps and (len(times) < 2 or time.perf_counter() < t_end):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_data(data_path: str, kind: str, size: int, rows: int = 300) -> float:
    """Seconds per sample for augmentation + conversion of real rows (masks re-drawn at ``size`` first)."""
    from fingerspell.data.schema import load_dataset
    from fingerspell.training.data import BatchCollator, prepare_arrays

    data = load_dataset(data_path)
    data = data.subset(np.arange(min(rows, len(data))))
    data = prepare_arrays([data], kind, size if kind == "mask" else None)
    raw = data.masks if kind == "mask" else data.vectors
    collate = BatchCollator(kind, augment=True)
    batch = [(raw[i], data.labels[i]) for i in range(len(data))]
    t0 = time.perf_counter()
    collate(batch)
    return (time.perf_counter() - t0) / len(batch)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--min-seconds", type=float, default=4.0, help="time each config at least this long")
    p.add_argument("--max-steps", type=int, default=10)
    p.add_argument("--data", default=None, help="a dataset .npz to time augmentation on")
    p.add_argument("--only", default=None, help="comma-separated model names")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--out", default=None, help="also write the rows as JSON here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    only = set(args.only.split(",")) if args.only else None
    rows = []
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    header = (f"| model | input | parameters | step ms (batch {args.batch}) | images/s | "
              f"s / {EPOCH:,}-sample epoch (model) | data ms/sample | s / epoch (total) |")
    print(header)
    print("|" + "---|" * 8)
    for name, size in CONFIGS:
        if only and name not in only:
            continue
        params = count_parameters(build_model(name, 29, size))
        step = time_steps(name, size, args.batch, args.min_seconds, args.max_steps)
        ips = args.batch / step
        data_s = time_data(args.data, input_kind(name), size) if args.data else None
        total = EPOCH / ips + (EPOCH * data_s if data_s is not None else 0.0)
        row = {"model": name, "input": "vector" if input_kind(name) == "vector" else f"mask {size}",
               "parameters": params, "step_ms": step * 1000, "images_per_s": ips, "epoch_s_model": EPOCH / ips,
               "data_ms_per_sample": None if data_s is None else data_s * 1000, "epoch_s_total": total}
        rows.append(row)
        data_txt = "-" if data_s is None else f"{data_s * 1000:.2f}"
        print(f"| {name} | {row['input']} | {params:,} | {step * 1000:.0f} | {ips:,.0f} | {EPOCH / ips:.1f} | "
              f"{data_txt} | {total:.1f} |", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"batch": args.batch, "threads": torch.get_num_threads(),
                                              "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
