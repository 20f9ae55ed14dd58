"""End-to-end speed of the live pipeline per model and engine, against a re-creation of the seed.

    python benchmarks/pipeline_speed.py [--frames 200] [--json out.json]

One process, one 640x480 stream of real photos (mon95, each letter held for several frames),
MediaPipe hands in video mode (full model) in front of every pipeline:

* ours: ``Recognizer`` (crop-centred mask or landmark vector, one batched model call, softmax,
  smoothing, drawing) for each model, in torch eager and in ONNX Runtime; the landmark model reads
  each hand twice (the second look on the mirrored frame), and once more without it; the shipped
  landmark model also reads each hand's pixels (the hand-crop model), and once more without them. The shipped weights
  are used where they exist; the other architectures get untrained weights of the same shape,
  which run exactly as fast.
* seed: the skeleton drawn on a black full frame, resized to 224, and CustomMobileNetV2 in torch
  eager on the mask and on its mirror as two separate calls, the more confident kept.

It reports frames per second, the ratio to the seed, and the share of frame time spent after
hand detection (target: at most 15%).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from detection_speed import stream  # noqa: E402

STAGES = ("detection", "features", "model", "smoothing", "drawing")


def checkpoint_for(name: str, size: int, work: Path) -> str:
    """The shipped checkpoint of ``name``, or one with untrained weights."""
    from fingerspell.labels import CLASSES
    from fingerspell.models.checkpoint import WEIGHTS_DIR, save_checkpoint
    from fingerspell.models.registry import build_model

    shipped = WEIGHTS_DIR / f"{name}.safetensors"
    if shipped.exists():
        return str(shipped)
    from fingerspell.models.registry import input_kind

    model = build_model(name, len(CLASSES), size if input_kind(name) == "mask" else None)
    save_checkpoint(model, {"classes": list(CLASSES), "training": {}, "metrics": {}}, work / name)
    return str(work / name)


def run_ours(checkpoint: str, backend: str, frames: list, threads: int, second_look: bool = True,
             pixels: bool = True) -> dict:
    from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions

    rows = []
    opts = RecognizerOptions(second_look=second_look)
    with Recognizer.from_model(checkpoint, backend=backend, threads=threads, max_hands=1, options=opts,
                               pixels=pixels) as rec:
        for i, frame in enumerate(frames):
            f = frame.copy()
            result = rec.process(f, i / 30.0)
            rec.annotate(f, result)
            if i >= 5:
                rows.append([result.timings.get(s, 0.0) for s in STAGES])
        card = rec.card
    t = np.array(rows)
    total = t.sum(axis=1)
    return {"fps": 1000.0 / float(np.median(total)), "median_ms": float(np.median(total)),
            "p90_ms": float(np.percentile(total, 90)), "after_detection": float(t[:, 1:].sum() / t.sum()),
            "stages_median_ms": dict(zip(STAGES, np.median(t, axis=0).round(3).tolist())),
            "input": f"{card['input_kind']} {card['input_size']}"}


def run_seed(frames: list) -> dict:
    """The seed's per-frame work, faithfully: full-frame mask, resize to 224, two eager model calls."""
    import torch

    from fingerspell.features import masks_to_model_array
    from fingerspell.hands.detector import HandDetector
    from fingerspell.hands.render import annotate_frame, render_full_frame_mask
    from fingerspell.labels import CLASSES
    from fingerspell.models.registry import build_model

    model = build_model("mobilenetv2", len(CLASSES), 224).eval()
    totals, detect = [], []
    with HandDetector(mode="video", max_hands=1) as det, torch.no_grad():
        for i, frame in enumerate(frames):
            f = frame.copy()
            t0 = time.perf_counter()
            hands = det.detect(f, timestamp_ms=int(i * 1000 / 30))
            t1 = time.perf_counter()
            labels, confs = [], []
            for hand in hands:
                full = render_full_frame_mask(hand.landmarks, hand.image_size)
                mask = cv2.resize(full, (224, 224))
                best = None
                for m in (mask, np.ascontiguousarray(mask[:, ::-1])):
                    p = torch.softmax(model(torch.from_numpy(masks_to_model_array(m))), 1)[0]
                    if best is None or p.max() > best.max():
                        best = p
                k = int(best.argmax())
                labels.append(CLASSES[k])
                confs.append(float(best[k]))
            annotate_frame(f, hands, labels, confs)
            t2 = time.perf_counter()
            if i >= 5:
                totals.append((t2 - t0) * 1000)
                detect.append((t1 - t0) * 1000)
    total = np.array(totals)
    return {"fps": 1000.0 / float(np.median(total)), "median_ms": float(np.median(total)),
            "p90_ms": float(np.percentile(total, 90)),
            "after_detection": float(1 - np.sum(detect) / np.sum(total)), "input": "full-frame mask 224"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--models", nargs="+", default=["landmark_mlp", "cnn", "mobilenetv2", "resnet18"])
    ap.add_argument("--mask-size", type=int, default=96, help="input size of mask models without shipped weights")
    ap.add_argument("--threads", type=int, default=1, help="model threads for our pipelines (the apps' default)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    frames = stream(args.frames + 5)
    rows = {"seed (mobilenetv2 224, 2 calls, torch eager)": run_seed(frames)}
    seed_fps = next(iter(rows.values()))["fps"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            ckpt = checkpoint_for(name, args.mask_size, Path(tmp))
            for backend in ("torch", "onnx"):
                rows[f"{name} ({backend})"] = run_ours(ckpt, backend, frames, args.threads)
            if name == "landmark_mlp":  # the second look (hands/second_look.py) is on by default
                rows[f"{name} (torch, --no-second-look)"] = run_ours(ckpt, "torch", frames, args.threads, False)
                # the shipped hand-crop model reads beside the shipped landmark model (models/hand_crop.py)
                rows[f"{name} (torch, --no-pixels)"] = run_ours(ckpt, "torch", frames, args.threads, pixels=False)
    print("| pipeline | model input | FPS | median ms | p90 ms | after detection | vs seed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        r["vs_seed"] = r["fps"] / seed_fps
        print(f"| {name} | {r['input']} | {r['fps']:.1f} | {r['median_ms']:.1f} | {r['p90_ms']:.1f} "
              f"| {r['after_detection']:.1%} | {r['vs_seed']:.1f}x |")
    print(f"\n{args.frames} frames 640x480, MediaPipe hands full model in video mode; machine: {machine()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "frames": args.frames, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
