"""Which landmark features read unseen people best: leave-one-signer-out and cross-dataset, per variant.

    OMP_NUM_THREADS=1 python benchmarks/feature_variants.py [--variants base shape_orient ...]
        [--labels keep drop_jz merge_jz] [--class-weighting] [--seeds 0 1] [--epochs 40]

Protocols (as in benchmarks/accuracy.py; mon95's T is left out everywhere, data/exceptions.py):
  massey-loso  train on 4 massey signers, test on the 5th, for each of the 5
  mon95-loso   the same over the 5 mon95 users
  to-mon95     train on asl-alphabets train + massey, test on mon95
  to-asl       train on mon95 + massey, test on the asl-alphabets test letters

Variants: see ``_fast_train.VARIANTS`` (today's vector ``base``; ``shape`` = palm-frame points and
invariants; ``shape_orient`` adds the palm normal and pointing direction; ...).
Label modes (the static model and the motion letters J and Z):
  keep      train J and Z as classes; at scoring P(J) is added to I and P(Z) to D, as the reader does
  drop_jz   leave J and Z photos out of training
  merge_jz  train J photos as I and Z photos as D (their final hand shapes)
Scores: ``static`` = accuracy on the 24 static letters (J/Z photos not scored, J->I and Z->D folded),
``all`` = plain accuracy on every letter photo (keep mode only, comparable to accuracy.py).
Results merge into ``benchmarks/results/feature_variants.json``; ``--table`` prints the tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CROSS, REPO  # noqa: E402
from _fast_train import VARIANTS, Recipe, predict_proba, train_mlp  # noqa: E402

from fingerspell.data.exceptions import drop_exceptions  # noqa: E402
from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.fileio import atomic_write_json  # noqa: E402
from fingerspell.hands.shape import world_points as shape_world_points  # noqa: E402
from fingerspell.labels import CLASSES, LETTERS  # noqa: E402

PROTOCOLS = ("massey-loso", "mon95-loso", "to-mon95", "to-asl")
LABEL_MODES = ("keep", "drop_jz", "merge_jz")
HARD_PAIRS = ("R/U", "G/H/T/Q", "M/N/S/T/A/E", "K/V", "C/O", "X")
J, Z, I_, D = (CLASSES.index(c) for c in "JZID")
LETTER_IDS = np.array([CLASSES.index(c) for c in LETTERS])
STATIC_LETTERS = tuple(c for c in LETTERS if c not in "JZ")


@dataclass
class Points:
    points: np.ndarray  # (N, 21, 3)
    labels: np.ndarray
    groups: np.ndarray

    def take(self, mask) -> "Points":
        return Points(self.points[mask], self.labels[mask], self.groups[mask])

    @staticmethod
    def join(parts) -> "Points":
        return Points(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("points", "labels", "groups")))

    def letters(self) -> "Points":
        return self.take(np.isin(self.labels, LETTER_IDS))


NEEDS = {"massey-loso": ("massey",), "mon95-loso": ("mon95",), "to-mon95": ("asl_train", "massey", "mon95"),
         "to-asl": ("mon95", "massey", "asl_test")}


def world_points(path: Path, data, image_points: np.ndarray) -> np.ndarray:
    """World landmarks aligned with ``data`` rows, normalised like image points; image points where none."""
    w = np.load(path)
    by_path = dict(zip(w["paths"].tolist(), w["world"]))
    out = image_points.copy()
    for i, p in enumerate(data.paths.tolist()):
        world = by_path.get(p)
        if world is not None and np.isfinite(world).all():
            out[i] = shape_world_points(world, "Left" if data.handedness[i] == 0 else "Right")
    return out


def load_points(data_dir: Path, protocols=PROTOCOLS, world_dir=None) -> tuple:
    """{name: Points} of the datasets the protocols need (label exceptions dropped), dropped counts."""
    out, dropped = {}, {}
    for name in sorted({n for p in protocols for n in NEEDS[p]}):
        path = data_dir / f"{name}.npz"
        if not path.exists():
            raise SystemExit(f"{path} is missing: build it with 'fingerspell build-dataset' (see accuracy.py)")
        data, gone = drop_exceptions(load_dataset(path))
        dropped.update(gone)
        pts = data.vectors[:, :63].reshape(-1, 21, 3).astype(np.float64)
        if world_dir is not None:
            pts = np.concatenate([pts, world_points(world_dir / f"{name}.npz", data, pts)], axis=1)
        out[name] = Points(pts, data.labels.astype(np.int64), data.groups)
    return out, dropped


def training_labels(train: Points, mode: str) -> Points:
    if mode == "drop_jz":
        return train.take(~np.isin(train.labels, (J, Z)))
    if mode == "merge_jz":
        labels = train.labels.copy()
        labels[labels == J], labels[labels == Z] = I_, D
        return Points(train.points, labels, train.groups)
    return train


def folds(protocol: str, ds: dict):
    """(fold name, train Points, test Points) of a protocol."""
    if protocol.endswith("-loso"):
        data = ds[protocol.split("-")[0]].letters()
        for g in sorted(np.unique(data.groups).tolist()):
            held = data.groups == g
            yield g, data.take(~held), data.take(held)
    else:
        train_names, test = CROSS[protocol]
        yield test, Points.join([ds[n] for n in train_names]), ds[test].letters()


def score_fold(probs: np.ndarray, labels: np.ndarray) -> dict:
    raw = probs.argmax(1)
    folded = probs.copy()
    folded[:, I_] += folded[:, J]
    folded[:, D] += folded[:, Z]
    folded[:, [J, Z]] = 0
    static = ~np.isin(labels, (J, Z))
    pred = folded.argmax(1)[static]
    truth = labels[static]
    return {"all_correct": int((raw == labels).sum()), "all_n": int(len(labels)),
            "static_correct": int((pred == truth).sum()), "static_n": int(static.sum()),
            "per_letter": {CLASSES[c]: [int((pred[truth == c] == c).sum()), int((truth == c).sum())]
                           for c in np.unique(truth)},
            "pairs": Counter(f"{CLASSES[t]}->{CLASSES[p]}" for t, p in zip(truth, pred) if t != p)}


def run_protocol(protocol: str, ds: dict, variant: str, mode: str, recipe: Recipe, seed: int,
                 keep_probs: Optional[dict] = None) -> dict:
    """Score one protocol; ``keep_probs`` (a dict) receives each fold's test probabilities and labels."""
    t0 = time.perf_counter()
    fold_scores = {}
    for name, train, test in folds(protocol, ds):
        train = training_labels(train, mode)
        probs = []
        for v in variant.split("+"):  # "a+b": the mean probability of one model per variant
            n = None if v.startswith("world") else 21  # world variants read image + world points
            model = train_mlp(train.points[:, :n], train.labels, len(CLASSES), VARIANTS[v], recipe, seed)
            probs.append(predict_proba(model, test.points[:, :n], VARIANTS[v]))
        fold_scores[name] = score_fold(np.mean(probs, axis=0), test.labels)
        if keep_probs is not None:
            keep_probs[name] = (np.mean(probs, axis=0).astype(np.float32), test.labels)
    return summarize(fold_scores, t0)


def summarize(fold_scores: dict, t0: float) -> dict:
    per_letter, pairs = Counter(), Counter()
    totals = Counter()
    for s in fold_scores.values():
        for c, (k, n) in s["per_letter"].items():
            per_letter[c + "/ok"] += k
            per_letter[c + "/n"] += n
        pairs.update(s["pairs"])
        for k in ("all_correct", "all_n", "static_correct", "static_n"):
            totals[k] += s[k]
    static_accs = [s["static_correct"] / s["static_n"] for s in fold_scores.values()]
    return {
        "static": float(np.mean(static_accs)), "static_std": float(np.std(static_accs, ddof=1)) if len(
            static_accs) > 1 else 0.0,
        "all": float(np.mean([s["all_correct"] / s["all_n"] for s in fold_scores.values()])),
        "folds": {k: round(s["static_correct"] / s["static_n"], 4) for k, s in fold_scores.items()},
        "per_letter": {c: per_letter[c + "/ok"] / per_letter[c + "/n"]
                       for c in STATIC_LETTERS if per_letter[c + "/n"]},
        "top_confusions": pairs.most_common(12), "seconds": round(time.perf_counter() - t0, 1),
    }


def run_key(variant: str, mode: str, weighting: bool, protocol: str, seed: int, epochs: int) -> str:
    return f"{variant}/{mode}/{'cw' if weighting else 'nocw'}/e{epochs}/{protocol}/seed{seed}"


def _mean(rows, key):
    return float(np.mean([r[key] for r in rows])) if rows else float("nan")


def summary_rows(results: dict) -> dict:
    """{config: {protocol: [runs over seeds]}}, config = variant/mode/weighting/epochs."""
    grouped: dict = {}
    for key, r in results.items():
        v, m, w, e, protocol, _ = key.split("/")
        grouped.setdefault(f"{v}/{m}/{w}/{e}", {}).setdefault(protocol, []).append(r)
    return grouped


def format_tables(results: dict) -> str:
    grouped = summary_rows(results)
    head = "| variant | J/Z | class weights | epochs | seeds | " + " | ".join(PROTOCOLS) + " | mean |"
    lines = ["Static letters (J/Z folded; mean over folds, then over seeds; ± = spread over seeds):", "",
             head, "|" + "---|" * (len(PROTOCOLS) + 6)]
    for cfg, per in sorted(grouped.items()):
        v, m, w, e = cfg.split("/")
        cells, means = [], []
        for p in PROTOCOLS:
            rows = per.get(p, [])
            if not rows:
                cells.append("")
                continue
            accs = [r["static"] for r in rows]
            means.append(np.mean(accs))
            spread = f" ± {np.std(accs):.1%}" if len(accs) > 1 else ""
            cells.append(f"{np.mean(accs):.1%}{spread}")
        seeds = max(len(x) for x in per.values())
        mean = f"{np.mean(means):.1%}" if len(means) == len(PROTOCOLS) else ""
        lines.append(f"| {v} | {m} | {w == 'cw'} | {e[1:]} | {seeds} | " + " | ".join(cells) + f" | {mean} |")
    return "\n".join(lines) + "\n"


def per_letter_table(results: dict, config: str) -> str:
    per = summary_rows(results).get(config, {})
    lines = [f"Per letter, {config} (recall on the static letters, mean over seeds):", "",
             "| letter | " + " | ".join(PROTOCOLS) + " |", "|" + "---|" * (len(PROTOCOLS) + 1)]
    for c in STATIC_LETTERS:
        cells = []
        for p in PROTOCOLS:
            vals = [r["per_letter"][c] for r in per.get(p, []) if c in r["per_letter"]]
            cells.append(f"{np.mean(vals):.0%}" if vals else "-")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def training_tag(args) -> str:
    """The part of a variant's name that says how it was trained, e.g. ``@flex15,ls0.1``."""
    parts = [f"{name}{value:g}" for name, value in (("flex", args.flex), ("ls", args.label_smoothing),
                                                     ("mix", args.mixup)) if value]
    if args.hidden:
        parts.append("h" + "x".join(map(str, args.hidden)))
    if args.dropout is not None:
        parts.append(f"do{args.dropout:g}")
    return ("@" + ",".join(parts)) if parts else ""


def save_probs(folder: Path, key: str, kept: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, (probs, labels) in kept.items():
        arrays[f"{name}|probs"], arrays[f"{name}|labels"] = probs, labels
    np.savez_compressed(folder / (key.replace("/", "__") + ".npz"), **arrays)


def ensemble_scores(folder: Path, pattern: str) -> str:
    """Mean probability over the saved runs matching ``pattern`` (seeds, variants), per protocol."""
    lines = [f"ensemble {pattern}:"]
    for protocol in PROTOCOLS:
        files = sorted(folder.glob(pattern.replace("/", "__").replace("PROTOCOL", protocol) + ".npz"))
        if not files:
            continue
        runs = [np.load(f) for f in files]
        t0 = time.perf_counter()
        scores = {}
        for key in runs[0].files:
            if key.endswith("|probs"):
                name = key[:-6]
                scores[name] = score_fold(np.mean([r[key] for r in runs], axis=0), runs[0][name + "|labels"])
        r = summarize(scores, t0)
        lines.append(f"  {protocol:12s} {len(files)} runs: static {r['static']:.1%}  "
                     f"{r['top_confusions'][:6]}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["base", "shape_orient"],
                    help=f"of {', '.join(VARIANTS)}; 'a+b' averages the two models' probabilities")
    ap.add_argument("--labels", nargs="+", default=["keep"], choices=LABEL_MODES)
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--class-weighting", action="store_true")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--world", action="store_true", help="add world landmarks (benchmarks/world_landmarks.py)")
    ap.add_argument("--view-yaw", type=float, default=None, help="augmentation: turn in depth (default 30)")
    ap.add_argument("--view-pitch", type=float, default=None, help="augmentation: tilt in depth (default 20)")
    ap.add_argument("--flex", type=float, default=0.0, help="augmentation: bend/spread fingers by up to this (deg)")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--mixup", type=float, default=0.0, help="Beta(a, a) mixup of feature rows; 0 = off")
    ap.add_argument("--hidden", type=int, nargs="+", default=None, help="MLP widths (default 256 128)")
    ap.add_argument("--dropout", type=float, default=None, help="default 0.3")
    ap.add_argument("--save-probs", default=None, help="folder: each run's test probabilities (.npz), "
                    "for --ensemble")
    ap.add_argument("--ensemble", nargs="+", default=None, metavar="GLOB",
                    help="score the mean probability of the saved runs matching each glob "
                         "(in --save-probs) and exit")
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "feature_variants.json"))
    ap.add_argument("--table", nargs="?", const="", default=None,
                    help="print the tables (and per-letter for CONFIG variant/mode/cw/eN) and exit")
    args = ap.parse_args()
    path = Path(args.results)
    if args.table is not None:  # every results file beside --results (runs may write separate files)
        results = {}
        for f in sorted(path.parent.glob("feature_variants*.json")):
            results.update(json.loads(f.read_text()))
        print(format_tables(results))
        if args.table:
            print(per_letter_table(results, args.table))
        return
    if args.ensemble:
        for pattern in args.ensemble:
            print(ensemble_scores(Path(args.save_probs), pattern))
        return
    torch.set_num_threads(1)
    ds, dropped = load_points(Path(args.data_dir), args.protocols,
                              REPO / "artifacts" / "world" if args.world else None)
    print(f"label exceptions left out: {dropped}", flush=True)
    recipe = replace(Recipe(), epochs=args.epochs, class_weighting=args.class_weighting)
    tag = ""
    if args.view_yaw is not None or args.view_pitch is not None:
        aug = replace(recipe.augment_options, view_yaw_deg=args.view_yaw if args.view_yaw is not None else
                      recipe.augment_options.view_yaw_deg, view_pitch_deg=args.view_pitch if args.view_pitch
                      is not None else recipe.augment_options.view_pitch_deg)
        recipe = replace(recipe, augment_options=aug)
        tag = f"@yaw{aug.view_yaw_deg:g}pitch{aug.view_pitch_deg:g}"
    tag += training_tag(args)
    if args.flex:
        recipe = replace(recipe, augment_options=replace(recipe.augment_options, finger_flex_deg=args.flex))
    recipe = replace(recipe, label_smoothing=args.label_smoothing, mixup=args.mixup,
                     hidden=tuple(args.hidden) if args.hidden else recipe.hidden,
                     dropout=recipe.dropout if args.dropout is None else args.dropout)
    for seed in args.seeds:
        for variant in args.variants:
            for mode in args.labels:
                for protocol in args.protocols:
                    kept: dict = {}
                    r = run_protocol(protocol, ds, variant, mode, recipe, seed, kept)
                    r["label_exceptions_left_out"] = dropped
                    key = run_key(variant + tag, mode, args.class_weighting, protocol, seed, args.epochs)
                    if args.save_probs:
                        save_probs(Path(args.save_probs), key, kept)
                    results = json.loads(path.read_text()) if path.exists() else {}
                    results[key] = r
                    atomic_write_json(path, results)
                    print(f"{variant:18s} {mode:8s} {protocol:12s} seed {seed}: static {r['static']:.1%} "
                          f"all {r['all']:.1%} ({r['seconds']} s) {r['top_confusions'][:5]}", flush=True)
    print(format_tables(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
