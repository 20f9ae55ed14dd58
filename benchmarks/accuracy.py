"""Accuracy on people the model never saw: leave-one-signer-out and cross-dataset, per model.

    python benchmarks/accuracy.py [--models landmark_mlp cnn mobilenetv2 resnet18]
                                  [--protocols massey-loso mon95-loso to-mon95 to-asl] [--device auto]

Protocols (letters only, A-Z; no hand found counts as wrong end to end):
  massey-loso  train on 4 massey signers, test on the 5th, for each of the 5
  mon95-loso   the same over the 5 mon95 users
  to-mon95     train on asl-alphabets train + massey, test on mon95
  to-asl       train on mon95 + massey, test on the asl-alphabets test set (its SPACE/DEL/NOTHING
               photos are left out: neither training set has those signs)
  massey-loso-all, mon95-loso-all
               the shipped model's training set (all four data sets) without one signer, test on
               that signer, for each signer: how the shipped model reads a person it never saw

Datasets come from ``artifacts/data`` (built with ``fingerspell build-dataset`` if missing).
Results merge into ``benchmarks/results/accuracy.json`` (so CPU and GPU runs of different models
combine) and the table is rewritten to ``benchmarks/results/accuracy.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CROSS, REPO, data_root, machine  # noqa: E402

from fingerspell.data.schema import DatasetArrays, load_dataset  # noqa: E402
from fingerspell.labels import CLASSES, LETTERS  # noqa: E402

DATASETS = {  # name -> source folder under the shared data
    "asl_train": "asl-alphabets/train", "asl_test": "asl-alphabets/test", "massey": "massey", "mon95": "mon95",
}
PROTOCOLS = ("massey-loso", "mon95-loso", "to-mon95", "to-asl", "massey-loso-all", "mon95-loso-all")
MODELS = ("landmark_mlp", "cnn", "mobilenetv2", "resnet18")
LETTER_IDS = [CLASSES.index(c) for c in LETTERS]


def ensure_datasets(data_dir: Path, mask_size: int) -> dict:
    """Load (building where missing) the four datasets, with each photo's group for the misses."""
    from fingerspell.data.build import BuildOptions, build_dataset
    from fingerspell.data.exceptions import drop_exceptions

    out = {}
    for name, rel in DATASETS.items():
        path = data_dir / f"{name}.npz"
        if not path.exists():
            build_dataset([data_root() / rel], path, BuildOptions(mask_size=mask_size))
        root = data_root() if not Path(str(path) + ".missed.json").exists() else Path("/nonexistent")
        # Labels that are not the ASL letter in their source (mon95's T) are never trained or scored.
        data, _ = drop_exceptions(load_dataset(path))
        out[name] = (data, missed_by_group(path, root / rel))
    return out


def missed_by_group(npz: Path, root: Path) -> Counter:
    """Letter photos in which no hand was found, per group (from the build report).

    Cached beside the dataset as ``<file>.missed.json`` so that a machine without the photos
    (a rented GPU) can run the benchmark from the dataset files alone.
    """
    cache = Path(str(npz) + ".missed.json")
    if cache.exists() and cache.stat().st_mtime >= npz.stat().st_mtime:
        return Counter(json.loads(cache.read_text()))
    from fingerspell.data.sources import scan_source

    report = json.loads(Path(str(npz) + ".report.json").read_text())
    lost = set(report.get("no_hand_files", [])) | set(report.get("unreadable_files", []))
    missed = Counter(it.group for it in scan_source(root).items if it.path in lost and it.label in LETTERS)
    cache.write_text(json.dumps(missed))
    return missed


def letters(d: DatasetArrays) -> DatasetArrays:
    return d.subset(np.isin(d.labels, LETTER_IDS))


def train_options(model: str, args, out: str):
    """The shipped models' recipe (fingerspell.training.recipes), as scripts/make_weights.py trains them."""
    from fingerspell.models.registry import input_kind
    from fingerspell.training.recipes import recipe_options

    vector = input_kind(model) == "vector"
    return recipe_options(model, ("benchmark",), out, epochs=args.vector_epochs if vector else args.mask_epochs,
                          input_size=args.input_size, device=args.device, threads=args.threads, progress=False,
                          seed=args.seed, num_workers=args.workers)


def recipe_args(seed: int = 0, vector_epochs: int = 40, threads=None) -> argparse.Namespace:
    """The settings :func:`run_protocol` reads, at this script's defaults, for scripts that train its folds."""
    return argparse.Namespace(vector_epochs=vector_epochs, mask_epochs=15, input_size=96, device="cpu",
                              threads=threads, workers=0, seed=seed)


def fit_and_score(model: str, args, train: DatasetArrays, test: DatasetArrays, missed: int, work: Path):
    from fingerspell.models.checkpoint import load_checkpoint
    from fingerspell.training.evaluate import evaluate_model
    from fingerspell.training.train import train as run_training

    opts = train_options(model, args, str(work))
    result = run_training(opts, train_data=train, log=lambda s: None)
    net, card = load_checkpoint(result.best_path, device=str(_device(args)))
    if opts.data.static_letters:  # J and Z are the motion reader's: a static model is scored without them
        from fingerspell.data.exceptions import MOTION_LETTER_SHAPES

        test = test.subset(~np.isin(test.labels, [CLASSES.index(c) for c in MOTION_LETTER_SHAPES]))
    return evaluate_model(net, card, test, n_missed=missed, device=str(_device(args)))


def _device(args):
    from fingerspell.training.train import pick_device

    return pick_device(args.device)


def _device_name(args) -> str:
    import torch

    dev = _device(args)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"CPU ({os.cpu_count()} cores)" if dev.type == "cpu" else str(dev)


def run_protocol(model: str, protocol: str, ds: dict, args, work: Path, fit=None) -> dict:
    """Train and score each fold of ``protocol``; ``fit`` replaces :func:`fit_and_score` (same
    arguments), as ``label_noise.py`` does to change the training sets."""
    t0 = time.perf_counter()
    fit = fit or fit_and_score
    folds = []
    if "-loso" in protocol:
        name = protocol.split("-")[0]
        data, missed = ds[name]
        data = letters(data)
        # -all: the other data sets whole (SPACE/DEL/NOTHING too), as the shipped model trains
        others = [ds[n][0] for n in DATASETS if n != name] if protocol.endswith("-all") else []
        for g in sorted(np.unique(data.groups).tolist()):
            held = data.groups == g
            train = DatasetArrays.concatenate([data.subset(~held)] + others) if others else data.subset(~held)
            rep = fit(model, args, train, data.subset(held), missed.get(g, 0),
                                work / f"{protocol}_{g.replace('/', '_')}")
            folds.append((g, rep))
            print(f"  {model} {protocol} {g}: accuracy {rep.accuracy:.3f}", flush=True)
    else:
        train_names, test_name = CROSS[protocol]
        train = DatasetArrays.concatenate([ds[n][0] for n in train_names])
        test, missed = ds[test_name]
        rep = fit(model, args, train, letters(test), sum(missed.values()), work / protocol)
        folds.append((test_name, rep))
    accs = [r.accuracy for _, r in folds]
    e2e_correct = sum(r.end_to_end_accuracy * r.end_to_end_n for _, r in folds)
    e2e_n = sum(r.end_to_end_n for _, r in folds)
    pairs, per_letter = Counter(), {}
    for _, r in folds:
        labels = r.confusion_labels
        for i, row in enumerate(r.confusion):
            ok_n = per_letter.setdefault(labels[i], [0, 0])
            ok_n[0] += int(row[i])
            ok_n[1] += int(sum(row))
            for j, c in enumerate(row):
                if i != j and c:
                    pairs[f"{labels[i]}->{labels[j]}"] += c
    return {
        "model": model, "protocol": protocol, "accuracy_given_hand": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
        "end_to_end_accuracy": e2e_correct / e2e_n, "macro_f1": float(np.mean([r.macro_f1 for _, r in folds])),
        "folds": {g: {"accuracy": r.accuracy, "macro_f1": r.macro_f1, "n": r.n, "missed": r.n_missed}
                  for g, r in folds},
        "top_confusions": pairs.most_common(10),
        "per_letter": {c: v for c, v in per_letter.items() if v[1]},  # [correct, photos], pooled over folds
        "seconds": round(time.perf_counter() - t0, 1), "machine": machine(), "device": _device_name(args),
        "settings": {"input_size": None if model == "landmark_mlp" else args.input_size,
                     "epochs": args.vector_epochs if model == "landmark_mlp" else args.mask_epochs},
    }


def write_table(results: dict, path: Path) -> str:
    lines = ["| model | protocol | end-to-end acc | acc given a hand | macro F1 | time | ran on |",
             "|---|---|---|---|---|---|---|"]
    for model in MODELS:
        for protocol in PROTOCOLS:
            r = results.get(f"{model}/{protocol}")
            if not r:
                continue
            std = f" ± {r['accuracy_std']:.1%}" if r["accuracy_std"] else ""
            lines.append(f"| {model} | {protocol} | {r['end_to_end_accuracy']:.1%} "
                         f"| {r['accuracy_given_hand']:.1%}{std} | {r['macro_f1']:.3f} | {r['seconds']:.0f} s "
                         f"| {r['device']} |")
    table = "\n".join(lines) + "\n" + per_letter_table(results)
    path.write_text(table)
    return table


def per_letter_table(results: dict, goal: float = 0.9) -> str:
    """Recall per letter and protocol (pooled over folds) with each protocol's commonest confusions,
    for every model whose results hold them; bold below ``goal``."""
    out = []
    for model in MODELS:
        runs = {p: results[f"{model}/{p}"] for p in PROTOCOLS if "per_letter" in results.get(f"{model}/{p}", {})}
        if not runs:
            continue
        letters = sorted({c for r in runs.values() for c in r["per_letter"]})
        out += ["", f"{model}, recall per letter (pooled over folds; bold: below {goal:.0%}; – : no photo):", "",
                "| letter | " + " | ".join(runs) + " |", "|---" * (len(runs) + 1) + "|"]
        for c in letters:
            cells = []
            for r in runs.values():
                ok, n = r["per_letter"].get(c, (0, 0))
                cells.append("–" if not n else (f"**{ok / n:.0%}**" if ok / n < goal else f"{ok / n:.0%}"))
            out.append(f"| {c} | " + " | ".join(cells) + " |")
        out.append("| commonest confusions | " + " | ".join(
            ", ".join(f"{pair} {n}" for pair, n in r["top_confusions"][:4]) for r in runs.values()) + " |")
    return "\n".join(out) + ("\n" if out else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "accuracy.json"))
    ap.add_argument("--input-size", type=int, default=96, help="mask side for the CNNs")
    ap.add_argument("--mask-epochs", type=int, default=15)
    ap.add_argument("--vector-epochs", type=int, default=40)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--workers", type=int, default=0, help="data-loader worker processes")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ds = ensure_datasets(Path(args.data_dir), args.input_size)
    results_path = Path(args.results)
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        # Protocol first: a run cut short still has every model on the protocols it reached.
        for protocol in args.protocols:
            for model in args.models:
                r = run_protocol(model, protocol, ds, args, Path(tmp) / model)
                # Re-read before writing: several runs (CPU here, a GPU elsewhere) may add to one file.
                results = json.loads(results_path.read_text()) if results_path.exists() else {}
                results[f"{model}/{protocol}"] = r
                print(f"{model:13s} {protocol:12s} end-to-end {r['end_to_end_accuracy']:.1%}  given hand "
                      f"{r['accuracy_given_hand']:.1%}  macro F1 {r['macro_f1']:.3f}  ({r['seconds']} s)  "
                      f"top confusions {r['top_confusions'][:5]}", flush=True)
                results_path.parent.mkdir(parents=True, exist_ok=True)
                tmp_out = results_path.with_suffix(".json.part")
                tmp_out.write_text(json.dumps(results, indent=1))
                tmp_out.replace(results_path)
    print(write_table(results, results_path.with_suffix(".md")))


if __name__ == "__main__":
    main()
