"""How much to lower SPACE, DEL and NOTHING after training (the recipe's ``sign_offset``).

    OMP_NUM_THREADS=1 python benchmarks/sign_offset.py [--offsets 0 1 2 3 5] [--seeds 0 1]

Only asl-alphabets has photos of the three non-letter signs, so a model trained with them can take
an unseen signer's letter for one of them (trained on asl-alphabets + massey, mon95's Q read as DEL
and F as NOTHING). For each offset b, those three scores are lowered by b (what
``TrainOptions.sign_offset`` does to the final layer's bias) and three protocols are scored with
the fast trainer (``benchmarks/_fast_train.py``: the shipped recipe, 60 epochs, J/Z photos as I/D):

* to-mon95: asl-alphabets train + massey -> mon95 letters (people the model never saw);
* to-massey: asl-alphabets train + mon95 -> massey letters;
* asl test: asl-alphabets train + massey + mon95 -> asl-alphabets test, letters and the recall of
  the three signs (its photos may show a person of the train set: the cost side, optimistic).

Writes ``benchmarks/results/sign_offset.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine  # noqa: E402
from _fast_train import VARIANTS, Recipe, train_mlp  # noqa: E402
from feature_variants import LETTER_IDS, Points, load_points, training_labels  # noqa: E402

from fingerspell.labels import CLASSES  # noqa: E402

SIGNS = [CLASSES.index(c) for c in ("SPACE", "DEL", "NOTHING")]
J, Z, I_, D = (CLASSES.index(c) for c in "JZID")
PROTOCOLS = {"to-mon95": (("asl_train", "massey"), "mon95"), "to-massey": (("asl_train", "mon95"), "massey"),
             "asl test": (("asl_train", "massey", "mon95"), "asl_test")}


def log_probs(model, points: np.ndarray) -> np.ndarray:
    """Log-probabilities with J's added to I and Z's to D (how a still hand is read)."""
    with torch.no_grad():
        p = torch.softmax(model(torch.from_numpy(VARIANTS["base"](points).astype(np.float32))), 1).numpy()
    p[:, I_] += p[:, J]
    p[:, D] += p[:, Z]
    p[:, [J, Z]] = 0
    return np.log(p + 1e-12)


def score(lp: np.ndarray, labels: np.ndarray, offset: float) -> dict:
    q = lp.copy()
    q[:, SIGNS] -= offset
    pred = q.argmax(1)
    letters = np.isin(labels, LETTER_IDS) & ~np.isin(labels, (J, Z))
    signs = np.isin(labels, SIGNS)
    out = {"letters": float((pred[letters] == labels[letters]).mean()),
           "letters_read_as_signs": int(np.isin(pred[letters], SIGNS).sum()), "letters_n": int(letters.sum())}
    if signs.any():
        out["sign_recall"] = float((pred[signs] == labels[signs]).mean())
        out["signs_n"] = int(signs.sum())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offsets", nargs="+", type=float, default=[0, 1, 2, 3, 5])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    ds, _ = load_points(Path(args.data_dir), protocols=("to-mon95", "to-asl"))
    runs = {}
    for proto, (train_names, test_name) in PROTOCOLS.items():
        train = training_labels(Points.join([ds[n] for n in train_names]), "merge_jz")
        test = ds[test_name]
        for seed in args.seeds:
            model = train_mlp(train.points, train.labels, len(CLASSES), VARIANTS["base"],
                              Recipe(epochs=args.epochs), seed)
            lp = log_probs(model, test.points)
            for b in args.offsets:
                runs.setdefault(proto, {}).setdefault(str(b), []).append(score(lp, test.labels, b))
            print(f"{proto} seed {seed}: " + "  ".join(
                f"b={b:g} {runs[proto][str(b)][-1]['letters']:.3f}" for b in args.offsets), flush=True)
    summary = {p: {b: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} for b, rows in per.items()}
               for p, per in runs.items()}
    lines = ["| offset | to-mon95 letters | (read as a sign) | to-massey letters | (read as a sign) | "
             "asl test letters | asl test SPACE/DEL/NOTHING recall |", "|---|---|---|---|---|---|---|"]
    for b in map(str, args.offsets):
        m, s, a = summary["to-mon95"][b], summary["to-massey"][b], summary["asl test"][b]
        lines.append(f"| {float(b):g} | {m['letters']:.1%} | "
                     f"{m['letters_read_as_signs']:.1f} of {m['letters_n']:.0f} | "
                     f"{s['letters']:.1%} | {s['letters_read_as_signs']:.1f} of {s['letters_n']:.0f} | "
                     f"{a['letters']:.1%} | {a['sign_recall']:.1%} of {a['signs_n']:.0f} |")
    md = "\n".join(lines) + (f"\n\nMean of seeds {', '.join(map(str, args.seeds))}, {args.epochs} epochs; "
                             f"{machine()}, {time.perf_counter() - t0:.0f} s.\n")
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sign_offset.json").write_text(json.dumps({"runs": runs, "summary": summary, "machine": machine(),
                                                      "seeds": args.seeds, "epochs": args.epochs}, indent=1) + "\n")
    (out / "sign_offset.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
