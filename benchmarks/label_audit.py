"""Do the sources agree on what each letter looks like, and are the signer ids real people?

    OMP_NUM_THREADS=1 python benchmarks/label_audit.py [--epochs 30] [--no-figure]

1. Mean skeletons: each source's median hand per letter, drawn side by side (docs/label_audit.png).
2. Nearest letter: for each source's letter, the closest letter mean of the *other* sources
   (shape + orientation features); a different letter flags a possible label conflict.
3. Cross-source confusions: train on one source, read another (every label, exceptions included,
   so that a conflict shows); letters read below 60% and what they are read as.
4. mon95 signers: every ``user_N`` folder holds two recording sessions (photos 0-4 and 5-9, other
   clothes and rooms). Each session is held out twice: trained on the other folders only (what
   leave-one-user-out does) and trained on everything else, its sibling session included. A
   sibling that helps much more than another folder would marks the two as the same person.
   Also the flat-hand (B) finger proportions per session, the hand-geometry check.

Writes ``benchmarks/results/label_audit.json`` and ``label_audit.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, mon95_sessions  # noqa: E402
from _fast_train import VARIANTS, Recipe, predict_proba, train_mlp  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.fileio import atomic_write_json  # noqa: E402
from fingerspell.hands.landmarks import HAND_CONNECTIONS  # noqa: E402
from fingerspell.labels import CLASSES, LETTERS  # noqa: E402

SOURCES = ("asl_train", "asl_test", "massey", "mon95")
COLORS = {"asl_train": "tab:blue", "asl_test": "tab:cyan", "massey": "tab:green", "mon95": "tab:red"}
LETTER_IDS = [CLASSES.index(c) for c in LETTERS]


def load_all(data_dir: Path) -> dict:
    out = {}
    for name in SOURCES:
        d = load_dataset(data_dir / f"{name}.npz")
        keep = np.isin(d.labels, LETTER_IDS)
        out[name] = {"points": d.vectors[keep, :63].reshape(-1, 21, 3).astype(np.float64),
                     "labels": d.labels[keep], "groups": d.groups[keep], "paths": d.paths[keep]}
    return out


def median_skeletons(ds: dict) -> dict:
    """{source: {letter: (21, 3) median points}}."""
    return {s: {CLASSES[c]: np.median(d["points"][d["labels"] == c], axis=0)
                for c in np.unique(d["labels"])} for s, d in ds.items()}


def draw_skeletons(skel: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(7, 4, figsize=(18, 22))
    for ax, letter in zip(axes.flat, list(LETTERS) + [None, None]):
        ax.set_axis_off()
        if letter is None:
            continue
        for i, src in enumerate(SOURCES):
            pts = skel[src].get(letter)
            if pts is None:
                continue
            x, y = pts[:, 0] + 2.4 * i, pts[:, 1]
            for a, b in HAND_CONNECTIONS:
                ax.plot([x[a], x[b]], [y[a], y[b]], color=COLORS[src], lw=1.6)
            ax.scatter(x[[4, 8, 12, 16, 20]], y[[4, 8, 12, 16, 20]], s=10, color="k", zorder=3)
            ax.scatter(x[4:5], y[4:5], s=28, color="orange", zorder=4)  # thumb tip
        ax.set_title(letter, fontsize=16)
        ax.set_aspect("equal")
        ax.invert_yaxis()
    handles = [plt.Line2D([], [], color=COLORS[s], label=s) for s in SOURCES]
    fig.legend(handles=handles, loc="lower right", fontsize=14)
    fig.suptitle("Median hand per letter and source (camera view, wrist at origin, palm size 1, left hands "
                 "mirrored; orange = thumb tip)", fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.98), w_pad=0.2, h_pad=0.2)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=72)
    plt.close(fig)


def nearest_letters(ds: dict) -> list:
    """(source, letter, nearest letter among the other sources' means, distance ratio) where they differ."""
    feat = VARIANTS["shape_orient"]
    means = {s: {CLASSES[c]: feat(d["points"][d["labels"] == c]).mean(0) for c in np.unique(d["labels"])}
             for s, d in ds.items()}
    allv = np.concatenate([feat(d["points"]) for d in ds.values()])
    scale = allv.std(0) + 1e-6
    flags = []
    for s, per in means.items():
        others = [(letter, v) for o, p in means.items() if o != s for letter, v in p.items()]
        for letter, v in per.items():
            dist = Counter()
            for other_letter, w in others:
                d = float(np.linalg.norm((v - w) / scale))
                dist[other_letter] = min(dist.get(other_letter, np.inf), d)
            best = min(dist, key=dist.get)
            if best != letter:
                flags.append((s, letter, best, round(dist[letter] / dist[best], 2)))
    return flags


def cross_source(ds: dict, recipe: Recipe) -> dict:
    """{"A->B": {"accuracy", "weak": [(letter, recall, read as)]}} for train source A, test B."""
    feat = VARIANTS["base"]
    out = {}
    for a in ("asl_train", "massey", "mon95"):
        model = train_mlp(ds[a]["points"], ds[a]["labels"], len(CLASSES), feat, recipe, seed=0)
        for b in SOURCES:
            if b == a or (a == "asl_train" and b == "asl_test"):
                continue
            pred = predict_proba(model, ds[b]["points"], feat).argmax(1)
            truth = ds[b]["labels"]
            weak = []
            for c in np.unique(truth):
                m = truth == c
                rec = float((pred[m] == c).mean())
                if rec < 0.6:
                    top = Counter(CLASSES[p] for p in pred[m] if p != c).most_common(2)
                    weak.append((CLASSES[c], round(rec, 2), top))
            out[f"{a}->{b}"] = {"accuracy": round(float((pred == truth).mean()), 3), "weak": weak}
            print(f"{a}->{b}: {out[f'{a}->{b}']['accuracy']:.1%}  weak {weak}", flush=True)
    return out


def _sessions(d: dict) -> np.ndarray:
    return np.array([f"{g.split('/')[-1]}{'ab'[k]}" for g, k in zip(d["groups"], mon95_sessions(d["paths"]))])


def finger_proportions(d: dict, sess: np.ndarray) -> dict:
    """Flat hand (B): finger lengths over the wrist-middle-knuckle length, per session (mean, std)."""
    def length(p, chain):
        return sum(np.linalg.norm(p[:, chain[i + 1]] - p[:, chain[i]], axis=-1) for i in range(3))

    out = {}
    b = d["labels"] == CLASSES.index("B")
    for s in sorted(set(sess.tolist())):
        p = d["points"][b & (sess == s)]
        ref = np.linalg.norm(p[:, 9] - p[:, 0], axis=-1)
        vals = {"index": length(p, (5, 6, 7, 8)) / ref, "pinky": length(p, (17, 18, 19, 20)) / ref,
                "width": np.linalg.norm(p[:, 5] - p[:, 17], axis=-1) / ref,
                "index/middle": length(p, (5, 6, 7, 8)) / length(p, (9, 10, 11, 12))}
        out[s] = {k: [round(float(v.mean()), 3), round(float(v.std()), 3)] for k, v in vals.items()}
    return out


def session_holdout(d: dict, recipe: Recipe) -> dict:
    """Per mon95 session: accuracy trained on the other folders vs on everything but the session."""
    feat = VARIANTS["base"]
    sess = _sessions(d)
    user = np.array([s[:-1] for s in sess])
    names = sorted(set(sess.tolist()))
    out = {}
    for i, s in enumerate(names):
        test = sess == s
        # the same amount of data as other_folders: the sibling in, one session of another folder out
        swap_out = next(o for o in names[i + 2:] + names[:i] if o[:-1] != s[:-1] and o[-1] == s[-1])
        accs = {}
        swapped = ((user != s[:-1]) & (sess != swap_out)) | ((user == s[:-1]) & ~test)
        for name, train in (("other_folders", user != s[:-1]), ("with_sibling", ~test),
                            ("sibling_for_" + swap_out, swapped)):
            model = train_mlp(d["points"][train], d["labels"][train], len(CLASSES), feat, recipe, seed=0)
            accs[name] = round(float((predict_proba(model, d["points"][test], feat).argmax(1)
                                      == d["labels"][test]).mean()), 3)
        out[s] = accs
        print(f"mon95 session {s}: {accs}", flush=True)
    return out


def write_markdown(res: dict, path: Path) -> None:
    lines = ["# Label audit (benchmarks/label_audit.py)", "", "## Nearest letter in the other sources", "",
             "| source | letter | nearest other-source letter | own/nearest distance |", "|---|---|---|---|"]
    lines += [f"| {s} | {a} | {b} | {r} |" for s, a, b, r in res["nearest"]]
    lines += ["", "## Cross-source (train -> test, base features): letters read below 60%", "",
              "| train -> test | accuracy | weak letters (recall, read as) |", "|---|---|---|"]
    for k, v in res["cross"].items():
        weak = "; ".join(f"{c} {r:.0%} ({', '.join(f'{x}:{n}' for x, n in top)})" for c, r, top in v["weak"])
        lines.append(f"| {k} | {v['accuracy']:.1%} | {weak} |")
    lines += ["", "## mon95 sessions held out", "",
              "| session | trained on the other folders | all else (sibling included) | sibling in place of "
              "another folder's session (same amount of data) |", "|---|---|---|---|"]
    for sname, v in res["sessions"].items():
        swap = [k for k in v if k.startswith("sibling_for_")][0]
        lines.append(f"| {sname} | {v['other_folders']:.1%} | {v['with_sibling']:.1%} | {v[swap]:.1%} "
                     f"(without {swap[len('sibling_for_'):]}) |")
    lines += ["", "## mon95 flat-hand (B) proportions per session (mean ± std)", "",
              "| session | index / palm | pinky / palm | width / palm | index / middle |", "|---|---|---|---|---|"]
    for s, v in res["proportions"].items():
        lines.append(f"| {s} | " + " | ".join(f"{m:.2f} ± {e:.2f}" for m, e in v.values()) + " |")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--figure", default=str(REPO / "docs" / "label_audit.png"))
    ap.add_argument("--no-figure", action="store_true")
    ap.add_argument("--figure-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = load_all(Path(args.data_dir))
    if not args.no_figure:
        draw_skeletons(median_skeletons(ds), Path(args.figure))
    if args.figure_only:
        return
    recipe = Recipe(epochs=args.epochs)
    res = {"nearest": nearest_letters(ds)}
    print("nearest-letter flags:", res["nearest"], flush=True)
    res["cross"] = cross_source(ds, recipe)
    res["sessions"] = session_holdout(ds["mon95"], recipe)
    res["proportions"] = finger_proportions(ds["mon95"], _sessions(ds["mon95"]))
    out = REPO / "benchmarks" / "results" / "label_audit.json"
    atomic_write_json(out, res)
    write_markdown(res, out.with_suffix(".md"))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
