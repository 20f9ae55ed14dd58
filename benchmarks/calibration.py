"""Personal calibration on people the model never saw: accuracy without and with a profile.

    OMP_NUM_THREADS=1 python benchmarks/calibration.py [--datasets mon95 massey] [--draws 5]
                                                       [--ks 1 3 5] [--epochs 40]

For each signer of mon95 (users 3-7; mon95's T is left out: it is not the ASL T) and massey
(hand1-5), a landmark_mlp fold model is trained on the other signers of that data set with the
recipe of ``benchmarks/accuracy.py`` (cached in ``artifacts/calibration/folds``). Then, for each k
and each of several random draws, k photos per letter of the held-out signer make a profile and
the signer's other photos are the test set. Scored on the still letters, as the reader reads a still
hand: J and Z come from the hand's path (reading/motion.py), so the held-out signer's J and Z photos
are left out, the fold model trains them as I and D (the shipped ``static_letters`` recipe) and a
reading counts J's probability as I's and Z's as D's. A signer with no photo left for a letter at some k
(massey hand3 and hand4 have 5 per letter) has no figure at that k.

Writes ``benchmarks/results/calibration.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine, mon95_sessions  # noqa: E402

from fingerspell.data.exceptions import MOTION_LETTER_SHAPES  # noqa: E402
from fingerspell.data.schema import DatasetArrays, load_dataset  # noqa: E402
from fingerspell.labels import CLASSES, LETTERS  # noqa: E402
from fingerspell.reading import calibration as cal  # noqa: E402

FOLDS = REPO / "artifacts" / "calibration" / "folds"
RESULTS = REPO / "benchmarks" / "results"
# name -> (method, params); CHOSEN is what a profile uses by default.
METHODS = {
    "auto": ("auto", {}),
    "net": ("net", {}),
    "net blend=0.5": ("net", {"blend": 0.5}),
    "net blend=1": ("net", {"blend": 1.0}),
    "head": ("head", {}),
    "head l2=0.1": ("head", {"l2": 0.1}),
    "proto T=0.02": ("proto", {"temperature": 0.02}),
}
# Measured once and not run by default (--methods picks them): `auto` re-dividing only the letters
# whose samples the base model misreads or reads under the gate (docs/calibration.md).
EXTRA_METHODS = {f"auto gate={g}": ("auto", {"gate": g}) for g in (0.9, 0.95, 0.97, 0.99)}
CHOSEN = cal.DEFAULT_METHOD


def letters_of(name: str, d: DatasetArrays) -> DatasetArrays:
    """The letters' photos, less the label exceptions (mon95's T, user_5's first Y: data/exceptions.py)."""
    from fingerspell.data.exceptions import drop_exceptions

    return drop_exceptions(d.subset(np.isin(d.labels, [CLASSES.index(c) for c in LETTERS])))[0]


STATIC = np.array([CLASSES.index(c) for c in LETTERS if c not in MOTION_LETTER_SHAPES])
FOLD = np.arange(len(CLASSES))
for _src, _dst in MOTION_LETTER_SHAPES.items():
    FOLD[CLASSES.index(_src)] = CLASSES.index(_dst)


def read_as_reader(probs: np.ndarray) -> np.ndarray:
    """The letter a still hand is read as: J's probability added to I and Z's to D (reading/holds.py)."""
    folded = np.zeros_like(probs)
    np.add.at(folded.T, FOLD, probs.T)
    return folded.argmax(1)


OTHER_SETS = ("asl_train", "asl_test", "massey", "mon95")


@functools.lru_cache(maxsize=2)
def other_sets(name: str, data_dir: str, train_on: str):
    """With ``train_on="all"``, the data sets besides ``name`` whole (the shipped model's training
    set, less the exceptions such as mon95's T), which the fold models also train on; else None."""
    if train_on != "all":
        return None
    from fingerspell.data.exceptions import drop_exceptions

    return DatasetArrays.concatenate([drop_exceptions(load_dataset(Path(data_dir) / f"{n}.npz"))[0]
                                      for n in OTHER_SETS if n != name])


def fold_model(name: str, data: DatasetArrays, group: str, epochs: int, seed: int,
               extra: DatasetArrays = None) -> Path:
    """A landmark_mlp trained without ``group`` (accuracy.py's recipe), on ``data``'s other signers
    and ``extra`` (other data sets) if given; cached by data and recipe."""
    from fingerspell.training.recipes import RECIPES

    kwargs = RECIPES["vector"]["model_kwargs"]  # the shipped model's R/U/V expert
    second = bool(RECIPES["vector"].get("second_readings", False))  # hands/second_look.py
    recipe = {"epochs": epochs, "batch_size": 128, "lr": 3e-3, "weight_decay": 1e-4, "seed": seed,
              "schedule": "cosine", "augment": True, "static_letters": True, "model_kwargs": repr(kwargs)}
    if second:  # (older fold models keep their keys)
        recipe["second_readings"] = True
    held = data.groups == group
    train_data = data.subset(~held) if extra is None else DatasetArrays.concatenate([data.subset(~held), extra])
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode() + train_data.vectors.tobytes()
                         + train_data.labels.tobytes()
                         + (train_data.second_vectors.tobytes() if second else b"")).hexdigest()[:16]
    out = FOLDS / f"{name}-{group.split('/')[-1]}-{key}"
    done = out / "done.json"
    if done.is_file():
        return Path(json.loads(done.read_text())["checkpoint"])
    from fingerspell.training.options import TrainOptions
    from fingerspell.training.train import train

    make = getattr(TrainOptions, "flat", TrainOptions)
    opts = make(data=(f"{name} without {group}",), model="landmark_mlp", out=str(out), val_fraction=0.0,
                        patience=None, epochs=epochs, batch_size=128, lr=3e-3, weight_decay=1e-4,
                        lr_schedule="cosine", device="cpu", threads=1, progress=False, plot=False,
                        overwrite=True, seed=seed, static_letters=True, model_kwargs=kwargs,
                        second_readings=second)
    result = train(opts, train_data=train_data, log=lambda s: None)
    done.write_text(json.dumps({"checkpoint": str(result.best_path), "recipe": recipe}))
    return Path(result.best_path)


def crop_fold_model(name: str, data: DatasetArrays, group: str, seed: int, extra: DatasetArrays = None,
                    data_dir: str = str(REPO / "artifacts" / "data")):
    """The hand-crop model (models/hand_crop.py, the shipped recipe) trained on the same photos as
    :func:`fold_model`'s landmark model: without ``group``; cached beside it."""
    from fingerspell.models.hand_crop import HandCropModel
    from fingerspell.training.hand_crop import RECIPE, crops_by_path, still_letter_index, train_hand_crop

    held = data.groups == group
    train_data = data.subset(~held) if extra is None else DatasetArrays.concatenate([data.subset(~held), extra])
    index = still_letter_index(train_data.classes, train_data.labels)
    rows = (index >= 0) & ~train_data.no_hand
    key = hashlib.sha256(json.dumps({**RECIPE, "seed": seed}, sort_keys=True).encode()
                         + "|".join(map(str, train_data.paths[rows])).encode()).hexdigest()[:16]
    out = FOLDS / f"{name}-{group.split('/')[-1]}-crop-{key}" / "hand_crop"
    if out.with_suffix(".json").is_file():
        return HandCropModel.load(out)
    table = crops_by_path([Path(data_dir) / f"{n}.npz" for n in OTHER_SETS])
    crops = np.stack([table[str(p)] for p in train_data.paths[rows]])
    model = train_hand_crop(crops, index[rows], seed=seed, log=None)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    return model


def draw(labels: np.ndarray, k: int, rng: np.random.Generator, sessions: np.ndarray = None):
    """(calibration index, test index) with k per class, or None if a class has no photo left.

    With ``sessions`` (one id per photo), the k photos come from one session picked at random and
    the test photos from the others: calibrated one day, read another."""
    cal_idx, test_idx = [], []
    mine = np.ones(len(labels), bool) if sessions is None else sessions == rng.choice(np.unique(sessions))
    for c in np.unique(labels):
        pick = rng.permutation(np.flatnonzero((labels == c) & mine))
        test = pick[k:] if sessions is None else np.flatnonzero((labels == c) & ~mine)
        if len(pick) < k or not len(test):
            return None
        cal_idx += pick[:k].tolist()
        test_idx += test.tolist()
    return np.array(cal_idx), np.array(test_idx)


def sessions_of(name: str, paths: np.ndarray, split: str):
    """mon95's recording session per photo (photos 0-4 and 5-9 of each letter, docs/labels.md) when
    ``split`` is "session"; None otherwise (massey's photos of a signer are one varied set)."""
    if split != "session" or name != "mon95":
        return None
    return np.array(mon95_sessions(paths))


def held_out_signer(name: str, data: DatasetArrays, group: str, args):
    """One held-out signer's fold model and still letters: (clf, base identity, embedder, mine, x, y, read),
    ``read(model, idx)`` giving the probabilities of ``mine``'s rows ``idx`` as the recognizer reads them."""
    from fingerspell.features import input_for
    from fingerspell.runtime.classifier import load_classifier
    from fingerspell.training.data import model_inputs

    ckpt = fold_model(name, data, group, args.epochs, args.seed, other_sets(name, args.data_dir, args.train_on))
    clf, card = load_classifier(ckpt)
    # the held-out signer's still letters: J and Z come from the hand's path, not from one photo
    mine = data.subset((data.groups == group) & np.isin(data.labels, STATIC))
    # a photo is read from both of its readings (the second on the mirrored photo, hands/second_look.py),
    # as the recognizer reads a hand; a profile is fitted on the first readings, as `fingerspell calibrate`
    # does (fitting on both read the same: 98.4 / 99.0 / 98.9% at k = 1 / 3 / 5, docs/calibration.md)
    inp = input_for(card, second_look=args.second_look)
    fuse = pixel_fusion(name, data, group, mine, clf.classes, args) if args.pixels else None

    def read(model, idx: np.ndarray) -> np.ndarray:
        probs = inp.dataset_probs(model.predict_proba, mine.subset(idx))
        return probs if fuse is None else fuse(probs, idx)

    return (clf, cal.model_identity(ckpt), cal.embedder_for(clf), mine, model_inputs(mine, clf.input_kind),
            mine.labels, read)


def signer_scores(name: str, data: DatasetArrays, group: str, args) -> dict:
    """Accuracy of the fold model on one signer without and with calibration, per k and method."""
    clf, base, emb, mine, x, y, read = held_out_signer(name, data, group, args)
    probs = read(clf, np.arange(len(y)))
    out = {"n": int(len(y)), "base_all": float((read_as_reader(probs) == y).mean()), "k": {}}
    rng = np.random.default_rng(args.seed)
    for k in args.ks:
        rows = {"none": [], **{m: [] for m in METHODS}}
        for _ in range(args.draws):
            split = draw(y, k, rng, sessions_of(name, mine.paths, args.split))
            if split is None:
                break
            ci, ti = split
            rows["none"].append(float((read_as_reader(probs[ti]) == y[ti]).mean()))
            for label, (method, params) in METHODS.items():
                prof = cal.fit_profile(clf, x[ci], y[ci], base, method=method, embedder=emb, **params)
                adapted = read(cal.ProfiledClassifier(clf, prof, emb), ti)
                rows[label].append(float((read_as_reader(adapted) == y[ti]).mean()))
        if rows["none"]:
            out["k"][str(k)] = {m: float(np.mean(v)) for m, v in rows.items()}
    out["unrecorded"] = unrecorded_letters(clf, x, y, probs, read, base, emb, rng)
    out["timing"] = calibration_seconds(clf, x, y, base, emb)
    return out


def pixel_fusion(name: str, data: DatasetArrays, group: str, mine: DatasetArrays, classes, args):
    """``fuse(probs, idx)``: readings of ``mine``'s photos at ``idx`` joined with a fold hand-crop
    model's reading of their pixels, as the recognizer joins the shipped one (after the profile; a
    reading sure enough to need no pixels is kept)."""
    from fingerspell.models.hand_crop import is_sure
    from fingerspell.training.hand_crop import crops_by_path

    model = crop_fold_model(name, data, group, args.seed, other_sets(name, args.data_dir, args.train_on),
                            args.data_dir)
    table = crops_by_path([Path(args.data_dir) / f"{name}.npz"])
    pixels = model.predict_crops(np.stack([table[str(p)] for p in mine.paths]))
    classes = tuple(classes)

    def fuse(probs: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.stack([p if is_sure(p) else model.fuse(p, pixels[i], classes) for p, i in zip(probs, idx)])
    return fuse


def unrecorded_letters(clf, x, y, probs, read, base, emb, rng) -> dict:
    """Calibrate every other letter (3 photos each): accuracy on the letters left out, before and after;
    ``read(model, photo indices)`` gives the probabilities of photos."""
    recorded = np.unique(y)[::2]
    split = draw(y, 3, rng)
    ci, ti = split if split is not None else draw(y, 1, rng)
    ci = ci[np.isin(y[ci], recorded)]
    ti = ti[~np.isin(y[ti], recorded)]
    out = {"none": float((read_as_reader(probs[ti]) == y[ti]).mean())}
    for label, (method, params) in METHODS.items():
        prof = cal.fit_profile(clf, x[ci], y[ci], base, method=method, embedder=emb, **params)
        adapted = read(cal.ProfiledClassifier(clf, prof, emb), ti)
        out[label] = float((read_as_reader(adapted) == y[ti]).mean())
    return out


def calibration_seconds(clf, x: np.ndarray, y: np.ndarray, base: dict, emb) -> dict:
    """Seconds to fit a profile from 24 letters x 5 samples (model input rows), median of 3."""
    rng = np.random.default_rng(0)
    letters = np.unique(y)[:24]
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), 5, replace=True) for c in letters])
    times = {}
    for label, (method, params) in ((m, (m, {})) for m in cal.FIT_METHODS):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            cal.fit_profile(clf, x[idx], y[idx], base, method=method, embedder=cal.embedder_for(clf), **params)
            runs.append(time.perf_counter() - t0)
        times[label] = float(np.median(runs))
    times["samples"] = int(len(idx))
    return times


def summarize(results: dict, ks) -> dict:
    summary = {}
    for k in map(str, ks):
        per = [r["k"][k] for ds in results.values() for r in ds.values() if k in r["k"]]
        if per:
            summary[k] = {m: float(np.mean([p[m] for p in per])) for m in per[0]}
            summary[k]["signers"] = len(per)
            if CHOSEN in per[0]:
                summary[k]["never_worse"] = all(p[CHOSEN] >= p["none"] for p in per)
    per = [r["unrecorded"] for ds in results.values() for r in ds.values()]
    summary["unrecorded"] = {m: float(np.mean([p[m] for p in per])) for m in per[0]}
    return summary


def table(results: dict, summary: dict, ks) -> str:
    head = "| data set | signer | photos | " + " | ".join(f"k={k}: none → calibrated" for k in ks) + " |"
    lines = [head, "|" + "---|" * (3 + len(ks))]
    for ds, signers in results.items():
        for g, r in signers.items():
            cells = []
            for k in map(str, ks):
                s = r["k"].get(k)
                cells.append(f"{s['none']:.1%} → **{s[CHOSEN]:.1%}**" if s else "— (no photo left)")
            lines.append(f"| {ds} | {g.split('/')[-1]} | {r['n']} | " + " | ".join(cells) + " |")
    for ds, signers in results.items():
        cells = []
        for k in map(str, ks):
            per = [r["k"][k] for r in signers.values() if k in r["k"]]
            cells.append(f"{np.mean([p['none'] for p in per]):.1%} → **{np.mean([p[CHOSEN] for p in per]):.1%}**"
                         f" ({len(per)})" if per else "—")
        lines.append(f"| **{ds} mean** | | | " + " | ".join(cells) + " |")
    cells = [f"{summary[k]['none']:.1%} → **{summary[k][CHOSEN]:.1%}**" if k in summary else "—"
             for k in map(str, ks)]
    lines.append("| **mean** | | | " + " | ".join(cells) + " |")
    lines += ["", f"Methods compared (mean over signers; chosen: {CHOSEN}):", "",
              "| k | none | " + " | ".join(METHODS) + " |", "|" + "---|" * (2 + len(METHODS))]
    for k, s in summary.items():
        if k == "unrecorded":
            continue
        lines.append(f"| {k} | {s['none']:.1%} | " + " | ".join(f"{s[m]:.1%}" for m in METHODS) + " |")
    u = summary["unrecorded"]
    lines += ["", "Letters not recorded (every other letter calibrated with 3 photos; accuracy on the others): "
              + ", ".join(f"{m} {v:.1%}" for m, v in u.items()) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["mon95", "massey"], choices=["mon95", "massey"])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--ks", nargs="+", type=int, default=[1, 3, 5])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-on", choices=["signers", "all"], default="signers",
                    help="fold models from the data set's other signers, or from every data set but that signer")
    ap.add_argument("--split", choices=["random", "session"], default="random",
                    help="mon95: calibration photos at random, or from one recording session, tested on the other")
    ap.add_argument("--no-second-look", dest="second_look", action="store_false",
                    help="read each photo from its first reading only (by default from its second "
                         "reading, on the mirrored photo, too, as the recognizer reads a hand)")
    ap.add_argument("--pixels", action="store_true",
                    help="join each reading with a hand-crop model trained on the fold model's photos")
    ap.add_argument("--methods", nargs="+", default=None,
                    help=f"of: {', '.join(METHODS)} (default: these), {', '.join(EXTRA_METHODS)}")
    ap.add_argument("--results", default=str(RESULTS), help="folder for calibration.json and .md")
    args = ap.parse_args()
    if args.methods:
        every = {**METHODS, **EXTRA_METHODS}
        unknown = set(args.methods) - set(every)
        if unknown:
            raise SystemExit(f"unknown methods {sorted(unknown)}: use {', '.join(every)}")
        METHODS.clear()
        METHODS.update({m: every[m] for m in args.methods})
        if CHOSEN not in METHODS:  # the table's cells show the first method asked for
            globals()["CHOSEN"] = next(iter(METHODS))
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results = {}
    for name in args.datasets:
        data = letters_of(name, load_dataset(Path(args.data_dir) / f"{name}.npz"))
        results[name] = {}
        for g in sorted(np.unique(data.groups).tolist()):
            results[name][g] = r = signer_scores(name, data, g, args)
            print(f"{g}: " + "  ".join(f"k={k} {v['none']:.3f}->" + " ".join(f"{v[m]:.3f}" for m in METHODS)
                                      for k, v in r["k"].items()) + f"  fit {r['timing']}", flush=True)
    summary = summarize(results, args.ks)
    timing = [r["timing"] for ds in results.values() for r in ds.values()]
    report = {"results": results, "summary": summary, "chosen": CHOSEN, "draws": args.draws,
              "epochs": args.epochs, "fit_seconds_24x5": {m: float(np.median([t[m] for t in timing]))
                                                          for m in cal.FIT_METHODS},
              "machine": machine(), "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps(report, indent=1) + "\n")
    md = table(results, summary, args.ks)
    fits = ", ".join(f"{s:.2f} s ({m})" for m, s in report["fit_seconds_24x5"].items())
    md += f"\nFitting a profile from 24 letters x 5 samples: {fits}, median over the folds; {report['machine']}.\n"
    (out / "calibration.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
