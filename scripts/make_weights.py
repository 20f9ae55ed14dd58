"""Regenerate the shipped default weights in ``src/fingerspell/weights`` from the shared photos.

    python scripts/make_weights.py --overwrite                      # the full recipe
    python scripts/make_weights.py --tiny --out /tmp/w              # a smoke run (CI): few photos, 1 epoch

Steps: build (or reuse, through the per-photo cache) the four datasets from ``$FINGERSPELL_DATA``;
train each shipped model on all of them; save fp16 weights with a model card holding the recipe,
the training data summary and the unseen-signer metrics from ``benchmarks/results/accuracy.json``;
write ``default.txt`` naming the model the apps use (the one with the best mean end-to-end
accuracy over the benchmark's protocols); then train the hand-crop model read beside the landmark
model (``pixels/hand_crop``, on the still letters of the same photos; ``--no-hand-crop`` skips it,
``--only-hand-crop`` trains it alone).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import data_root, machine  # noqa: E402

SOURCES = {"asl_train": "asl-alphabets/train", "asl_test": "asl-alphabets/test", "massey": "massey",
           "mon95": "mon95"}
SHIPPED = ("landmark_mlp", "mobilenetv2")


def build_all(data_dir: Path, mask_size: int, limit: int | None) -> list:
    from fingerspell.data.build import BuildOptions, build_dataset

    paths = []
    for name, rel in SOURCES.items():
        path = data_dir / f"{name}.npz"
        if not path.exists():
            print(f"building {path} from {rel}", flush=True)
            build_dataset([data_root() / rel], path, BuildOptions(mask_size=mask_size, limit_per_class=limit))
        paths.append(str(path))
    return paths


def benchmark_metrics(model: str) -> dict:
    """The model's unseen-signer figures from the accuracy benchmark, where it has run."""
    path = REPO / "benchmarks" / "results" / "accuracy.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text())
    return {k.split("/", 1)[1]: {m: r[m] for m in ("end_to_end_accuracy", "accuracy_given_hand", "macro_f1")}
            for k, r in results.items() if k.startswith(model + "/")}


def pick_default(models) -> str:
    """The shipped model with the best mean end-to-end accuracy in the benchmark (landmark_mlp if none ran)."""
    scores = {}
    for m in models:
        metrics = benchmark_metrics(m)
        if metrics:
            scores[m] = sum(v["end_to_end_accuracy"] for v in metrics.values()) / len(metrics)
    return max(scores, key=scores.get) if scores else models[0]


def update_cards(out: Path, models) -> None:
    """Write the latest benchmark figures into the shipped cards (the weights and their checksum stay)."""
    from fingerspell.fileio import atomic_write_json
    from fingerspell.models.checkpoint import read_card

    for m in models:
        card = read_card(out / m)
        card["metrics"] = {"unseen_signers": benchmark_metrics(m)}
        atomic_write_json(out / f"{m}.json", card, indent=2)
        print(f"updated {out / m}.json")
    (out / "default.txt").write_text(pick_default(list(models)) + "\n")
    crop_card = out / "pixels" / "hand_crop.json"
    if crop_card.exists():
        card = json.loads(crop_card.read_text())
        card["metrics"] = hand_crop_metrics()
        atomic_write_json(crop_card, card, indent=2)
        print(f"updated {crop_card}")


def make_hand_crop(out: Path, paths: list, args) -> float:
    """Train the hand-crop model on the still letters of every dataset and write ``pixels/hand_crop``."""
    import numpy as np

    from fingerspell.data.exceptions import exception_mask
    from fingerspell.data.schema import load_dataset
    from fingerspell.training.hand_crop import RECIPE, dataset_crops, still_letter_index, train_hand_crop

    t0 = time.perf_counter()
    crops, labels = [], []
    for p in paths:
        data = load_dataset(p)
        flagged = exception_mask(data.sources, data.labels, data.classes, paths=data.paths)  # data/exceptions.py
        index = still_letter_index(data.classes, data.labels)
        rows = (index >= 0) & ~data.no_hand & ~flagged
        crops.append(dataset_crops(Path(p), log=print)[rows])
        labels.append(index[rows])
    x, y = np.concatenate(crops), np.concatenate(labels)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    model = train_hand_crop(x, y, epochs=1 if args.tiny else RECIPE["epochs"], seed=0,
                            log=None if args.quiet else print)
    model.card["training"].update({"data": [Path(p).name for p in paths], "machine": machine(),
                                   "recipe": "python scripts/make_weights.py " + shlex.join(sys.argv[1:])})
    model.card["metrics"] = {} if args.tiny else hand_crop_metrics()
    (out / "pixels").mkdir(parents=True, exist_ok=True)
    model.save(out / "pixels" / "hand_crop")
    took = round(time.perf_counter() - t0, 1)
    print(f"wrote {out / 'pixels' / 'hand_crop'}.safetensors ({len(y)} photos, {took} s)", flush=True)
    return took


def hand_crop_metrics() -> dict:
    """The fusion's unseen-signer figures from ``benchmarks/hand_pixels.py``, where it has run."""
    from fingerspell.models.hand_crop import FUSION_WEIGHT

    path = REPO / "benchmarks" / "results" / "hand_pixels.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    return {f"{protocol} (seed {key[-1]})": {"landmarks": r["summary"]["w0.0"], "pixels": r["summary"]["pixels"],
                                             "fused": r["summary"][f"w{FUSION_WEIGHT}"]}
            for key, run in sorted(runs.items()) for protocol, r in run.items() if protocol != "machine"}


def main() -> None:
    from fingerspell.training.recipes import RECIPES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "src" / "fingerspell" / "weights"))
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--models", nargs="+", default=list(SHIPPED))
    ap.add_argument("--input-size", type=int, default=RECIPES["mask"]["input_size"])
    ap.add_argument("--vector-epochs", type=int, default=RECIPES["vector"]["epochs"])
    ap.add_argument("--mask-epochs", type=int, default=RECIPES["mask"]["epochs"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="smoke run: 3 photos per class and signer, 1 epoch")
    ap.add_argument("--overwrite", action="store_true", help="replace weights already in --out")
    ap.add_argument("--quiet", action="store_true", help="no progress bars (logs)")
    ap.add_argument("--hand-crop", action=argparse.BooleanOptionalAction, default=True,
                    help="also train the hand-crop model (weights/pixels/hand_crop)")
    ap.add_argument("--only-hand-crop", action="store_true", help="train the hand-crop model alone")
    ap.add_argument("--update-cards", action="store_true",
                    help="no training: refresh the metrics in the cards in --out from the benchmark, and default.txt")
    args = ap.parse_args()

    from fingerspell.models.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint
    from fingerspell.models.registry import input_kind
    from fingerspell.training.recipes import recipe_options
    from fingerspell.training.train import train

    out = Path(args.out)
    if args.update_cards:
        update_cards(out, args.models)
        return
    limit = 3 if args.tiny else None
    tiny_dir = tempfile.TemporaryDirectory(prefix="fingerspell-tiny-") if args.tiny else None
    data_dir = Path(tiny_dir.name) if tiny_dir else Path(args.data_dir)
    models = [] if args.only_hand_crop else args.models
    hand_crop = args.hand_crop or args.only_hand_crop
    for m in models + (["pixels/hand_crop"] if hand_crop else []):
        if checkpoint_paths(out / m)[0].exists() and not args.overwrite:
            raise SystemExit(f"{out / m}.safetensors exists: pass --overwrite to replace the shipped weights")
    t0 = time.perf_counter()
    paths = build_all(data_dir, args.input_size, limit)
    timings = {"build_s": round(time.perf_counter() - t0, 1)}
    if hand_crop:
        timings["hand_crop_s"] = make_hand_crop(out, paths, args)
    for m in models:
        epochs = args.vector_epochs if input_kind(m) == "vector" else args.mask_epochs
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as run_dir:
            opts = recipe_options(
                m, tuple(paths), run_dir, epochs=1 if args.tiny else epochs,
                input_size=args.input_size, device=args.device, threads=args.threads, num_workers=args.workers,
                progress=not args.quiet,
            )
            result = train(opts)
            model, card = load_checkpoint(result.best_path)
        card["training"]["data"] = [str(Path(p).name) for p in paths]
        card["training"]["recipe"] = "python scripts/make_weights.py " + shlex.join(sys.argv[1:])
        card["training"]["options"] = {k: v for k, v in opts.to_dict().items() if k not in ("out", "data")}
        card["training"]["seconds"] = round(time.perf_counter() - t1, 1)
        card["training"]["machine"] = machine()
        card["metrics"] = {"unseen_signers": benchmark_metrics(m)} if not args.tiny else {}
        out.mkdir(parents=True, exist_ok=True)
        save_checkpoint(model.float(), card, out / m, half=True)
        timings[f"{m}_s"] = card["training"]["seconds"]
        print(f"wrote {out / m}.safetensors ({card['training']['seconds']} s)", flush=True)
    if tiny_dir:
        tiny_dir.cleanup()
    if not models:
        print(f"timings {timings}; machine: {machine()}")
        return
    default = pick_default(models)
    (out / "default.txt").write_text(default + "\n")
    print(f"default model: {default}; timings {timings}; machine: {machine()}")


if __name__ == "__main__":
    main()
