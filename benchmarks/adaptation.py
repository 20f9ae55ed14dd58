"""Adapting to the person as they sign, without labels (runtime/adaptation.py), on people the model never saw.

    OMP_NUM_THREADS=1 python benchmarks/adaptation.py [--letters 50 150] [--draws 5] [--epochs 40]
        [--shares 0.25 0.5] [--protocols massey-loso mon95-loso to-mon95 to-asl massey-loso-all mon95-loso-all]

For each person the model never saw (leave-one-signer-out fold models of ``benchmarks/calibration.py``
within mon95 and massey, and with ``-all`` on every data set less that signer, as the shipped model
trains; across data sets, a model trained on asl-alphabets train + massey read on each mon95 user,
and one trained on mon95 + massey read on the asl-alphabets test set), a "session" of N letters is
drawn the way English text uses them (letter frequencies of wordfreq's 5,000
commonest words; J and Z as the I and D they start from) from that person's photos. Each drawn photo
is one written letter given to :class:`~fingerspell.runtime.adaptation.PersonAdaptation`; then all
of that person's photos are read by the adapted model. No label is used to adapt.

Reported per person: accuracy without adaptation, with it (mean over draws), and with the
statistics of all the person's photos (the most a session could give). Scored as the reader reads a
still hand (J as I, Z as D); mon95's T is left out (not the ASL T).

Writes ``benchmarks/results/adaptation.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calibration as bench_cal  # noqa: E402
from _common import CROSS, REPO, machine  # noqa: E402

from fingerspell.data.schema import DatasetArrays, load_dataset  # noqa: E402
from fingerspell.labels import CLASSES  # noqa: E402

PROTOCOLS = ("massey-loso", "mon95-loso", "to-mon95", "to-asl", "massey-loso-all", "mon95-loso-all")


def english_letter_freq() -> dict:
    from wordfreq import top_n_list

    from fingerspell.data.exceptions import MOTION_LETTER_SHAPES

    count: dict = {}
    for word in top_n_list("en", 5000):
        for ch in word.upper():
            if "A" <= ch <= "Z":
                ch = MOTION_LETTER_SHAPES.get(ch, ch)
                count[ch] = count.get(ch, 0) + 1
    return count


def people(protocol: str, data_dir: Path, epochs: int, seed: int):
    """(person, checkpoint, their still-letter photos) for every person the protocol reads."""
    def load(n):
        return bench_cal.letters_of(n, load_dataset(data_dir / f"{n}.npz"))

    if "-loso" in protocol:  # -all: the folds also train on the other data sets, as the shipped model does
        name = protocol.split("-")[0]
        data = load(name)
        extra = bench_cal.other_sets(name, str(data_dir), "all" if protocol.endswith("-all") else "signers")
        for g in sorted(np.unique(data.groups).tolist()):
            yield g, bench_cal.fold_model(name, data, g, epochs, seed, extra), data.subset(data.groups == g)
        return
    train_names, test_name = CROSS[protocol]
    train = DatasetArrays.concatenate([load(n) for n in train_names])
    ckpt = bench_cal.fold_model(protocol, train, "-", epochs, seed)  # "-": no signer held out
    test = load(test_name)
    for g in sorted(np.unique(test.groups).tolist()):
        yield g, ckpt, test.subset(test.groups == g)


def person_scores(ckpt: Path, mine: DatasetArrays, args, freq: dict, rng) -> dict:
    from fingerspell.runtime.adaptation import AdaptOptions, PersonAdaptation
    from fingerspell.runtime.classifier import load_classifier
    from fingerspell.training.data import model_inputs

    clf, _ = load_classifier(ckpt)
    mine = mine.subset(np.isin(mine.labels, bench_cal.STATIC))
    x, y = model_inputs(mine, clf.input_kind), mine.labels

    def acc(reader) -> float:
        return float((bench_cal.read_as_reader(reader.predict_proba(x)) == y).mean())

    out = {"n": int(len(y)), "none": acc(clf)}
    present = np.unique(y)
    p = np.array([freq.get(CLASSES[c], 1) for c in present], float)
    p /= p.sum()
    for share in args.shares:
        ad = PersonAdaptation(clf, AdaptOptions(share=share, min_holds=2, max_holds=max(args.letters + [len(y)])))
        for n in args.letters:
            scores = []
            for _ in range(args.draws):
                ad.reset()
                for c in rng.choice(present, n, p=p):
                    ad.add(x[[rng.choice(np.flatnonzero(y == c))]])
                scores.append(acc(ad))
            out[f"{n} letters share={share}"] = float(np.mean(scores))
            out[f"{n} letters share={share} worst"] = float(np.min(scores))
        ad.reset()
        for i in range(len(y)):
            ad.add(x[[i]])
        out[f"all photos share={share}"] = acc(ad)
        ad.reset()
    return out


def table(results: dict, columns) -> str:
    lines = ["| protocol | person | photos | none | " + " | ".join(columns) + " |",
             "|---|---|---|---|" + "---|" * len(columns)]
    for protocol, rows in results.items():
        for g, r in rows.items():
            lines.append(f"| {protocol} | {g} | {r['n']} | {r['none']:.1%} | "
                         + " | ".join(f"{r[c]:.1%}" for c in columns) + " |")
        w = np.array([r["n"] for r in rows.values()], float)
        mean = {c: float(np.average([r[c] for r in rows.values()], weights=w)) for c in ["none"] + columns}
        lines.append(f"| **{protocol}** | all (photo-weighted) | {int(w.sum())} | {mean['none']:.1%} | "
                     + " | ".join(f"**{mean[c]:.1%}**" for c in columns) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--letters", nargs="+", type=int, default=[50, 150], help="letters signed before reading")
    ap.add_argument("--shares", nargs="+", type=float, default=[0.25, 0.5])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "adaptation.json"))
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    freq = english_letter_freq()
    rng = np.random.default_rng(args.seed)
    results: dict = {}
    for protocol in args.protocols:
        results[protocol] = {}
        for g, ckpt, mine in people(protocol, Path(args.data_dir), args.epochs, args.seed):
            r = results[protocol][g] = person_scores(ckpt, mine, args, freq, rng)
            print(f"{protocol} {g}: " + "  ".join(f"{k} {v:.3f}" for k, v in r.items() if k != "n"), flush=True)
    columns = [f"{n} letters share={s}" for s in args.shares for n in args.letters] + \
              [f"all photos share={s}" for s in args.shares]
    md = table(results, columns)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"results": results, "settings": vars(args), "seconds": round(time.perf_counter() - t0, 1),
              "machine": machine()}
    out.with_suffix(".json.part").write_text(json.dumps(report, indent=1))
    out.with_suffix(".json.part").replace(out)
    out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
