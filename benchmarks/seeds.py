"""The goal figures over every seed run so far: mean, spread and each seed, from the result files.

    python benchmarks/seeds.py [--results benchmarks/results] [--out benchmarks/results/seeds.md]

A figure from one seed moves by about a point across data sets when the fold models are trained
again (other seed, other session): a goal met by one seed and missed by another is not met. Each
benchmark writes one file per seed (``--seed N --results/--out ..._sN.json``); this reads them all
and says, per goal, the mean, the standard deviation and the worst seed:

* ``accuracy.py``: ``accuracy.json`` (seed 0) and ``accuracy_sN.json``, the landmark model;
* ``hand_pixels.py``: ``hand_pixels.json`` and ``hand_pixels_sizes.json`` (keys ``size48_e15_sN``; a
  seed in both is taken from the latter, the later runs), landmarks and pixels fused at the shipped
  weight (0.5);
* ``words.py``: ``words.json``, ``words_sN.json`` and ``words_videos_sN.json`` (the plain settings
  only), simulated and real-video words, as spelled and decoded;
* ``calibration.py``: ``calibration.json`` and ``calibration_sN/calibration.json``, method ``auto``.

It trains nothing (a second). The table goes to ``--out`` (and its JSON beside it).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, write_results  # noqa: E402

FUSED = "w0.5"  # the shipped fusion weight (models/hand_crop.py)
# words.py settings that make a run something else than the plain benchmark
WORDS_PLAIN = {"adapt": False, "learn": False, "pixels": False, "calibrate": 0, "no_decode": False,
               "train_on": "signers", "fps": 30.0, "epochs": 40, "second_look": True, "dim": 0.0, "reps": 2,
               "datasets": ["mon95", "massey"]}
GOALS = [  # (family, figure, goal, issue)
    ("accuracy", "massey-loso", 0.97, 11), ("accuracy", "mon95-loso", 0.97, 11),
    ("accuracy", "massey-loso weakest letter", 0.90, 11), ("accuracy", "mon95-loso weakest letter", 0.90, 11),
    ("accuracy", "to-asl", 0.90, 11), ("accuracy", "to-mon95", 0.90, 11),
    ("hand_pixels", "to-mon95", 0.90, 11),
    ("words", "sim 1.0 as spelled", 0.95, 10), ("words", "sim 0.5 as spelled", 0.85, 10),
    ("words", "sim 1.0 decoded", 0.98, 12), ("words", "sim 0.5 decoded", 0.90, 12),
    ("words", "video 1.0 as spelled", 0.95, 10), ("words", "video 1.0 decoded", 0.98, 12),
    ("calibration", "k=1", 0.97, 13), ("calibration", "k=5", 0.99, 13),
    ("calibration", "no signer made worse at any k", 1.0, 13),
]
YES_NO = {"no signer made worse at any k"}


def _seed_of(path: Path) -> int:
    m = re.search(r"_s(\d+)(?:\.json)?$", path.stem if path.suffix else path.name)
    return int(m.group(1)) if m else 0


def _files(results: Path, stem: str) -> list:
    return sorted([results / f"{stem}.json"] + list(results.glob(f"{stem}_s[0-9]*.json")), key=_seed_of)


def _read(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def accuracy(results: Path) -> dict:
    out: dict = {}
    for f in _files(results, "accuracy"):
        doc = _read(f) or {}
        for key, r in doc.items():
            model, _, protocol = key.partition("/")
            if model == "landmark_mlp" and isinstance(r, dict) and "accuracy_given_hand" in r:
                out.setdefault(protocol, {})[_seed_of(f)] = r["accuracy_given_hand"]
                recall = {c: ok / n for c, (ok, n) in r.get("per_letter", {}).items() if n}
                if recall:  # the letter read worst by that seed's fold models, pooled over the folds
                    worst = min(recall, key=recall.get)
                    out.setdefault(f"{protocol} weakest letter", {})[_seed_of(f)] = recall[worst]
                    out.setdefault(f"{protocol} weakest letter names", {})[_seed_of(f)] = worst
    return out


def hand_pixels(results: Path) -> dict:
    out: dict = {}
    for f in (results / "hand_pixels.json", results / "hand_pixels_sizes.json"):
        for key, run in (_read(f) or {}).items():
            m = re.fullmatch(r"size48_e15_s(\d+)", key)
            if not m or not isinstance(run, dict):
                continue
            for protocol, r in run.items():
                if isinstance(r, dict) and FUSED in r.get("summary", {}):
                    out.setdefault(protocol, {})[int(m.group(1))] = r["summary"][FUSED]
    return out


def words(results: Path) -> dict:
    out: dict = {}
    for f in _files(results, "words") + _files(results, "words_videos"):
        doc = _read(f) or {}
        settings = doc.get("settings", {})
        if any(settings.get(k, v) != v for k, v in WORDS_PLAIN.items()):
            continue
        seed = settings.get("seed", _seed_of(f))
        for pace, r in doc.get("summary", {}).items():
            if pace.startswith(("sim ", "video ")):
                out.setdefault(f"{pace} as spelled", {})[seed] = r["raw_accuracy"]
                out.setdefault(f"{pace} decoded", {})[seed] = r["decoded_accuracy"]
    return out


def calibration(results: Path) -> dict:
    out: dict = {}
    files = [results / "calibration.json"] + sorted(results.glob("calibration_s[0-9]*/calibration.json"))
    for f in files:
        seed = _seed_of(f.parent) if f.parent != results else 0
        summary = (_read(f) or {}).get("summary", {})
        for k, r in summary.items():
            if k.isdigit() and "auto" in r:
                out.setdefault(f"k={k}", {})[seed] = r["auto"]
        ks = [r for k, r in summary.items() if k.isdigit() and "never_worse" in r]
        if ks:
            out.setdefault("no signer made worse at any k", {})[seed] = float(all(r["never_worse"] for r in ks))
    return out


FAMILIES = {"accuracy": accuracy, "hand_pixels": hand_pixels, "words": words, "calibration": calibration}


def summarize(results: Path) -> list:
    """One row per goal: the family, figure, goal, issue, each seed's value, mean, std, worst."""
    found = {name: fn(results) for name, fn in FAMILIES.items()}
    rows = []
    for family, figure, goal, issue in GOALS:
        per_seed = dict(sorted(found[family].get(figure, {}).items()))
        names = found[family].get(f"{figure} names", {})
        vals = list(per_seed.values())
        rows.append({
            "family": family, "figure": figure, "goal": goal, "issue": issue, "seeds": per_seed,
            "names": {s: names[s] for s in per_seed if s in names},
            "mean": statistics.mean(vals) if vals else None,
            "std": statistics.stdev(vals) if len(vals) > 1 else None, "worst": min(vals) if vals else None,
        })
    return rows


def _verdict(r: dict) -> str:
    if r["mean"] is None:
        return "not run"
    if r["worst"] >= r["goal"]:
        return "met by every seed"
    if r["figure"] in YES_NO:
        return f"missed by {sum(v < 1 for v in r['seeds'].values())} of {len(r['seeds'])} seeds"
    if r["mean"] >= r["goal"]:
        return "met on the mean only"
    return f"missed by {100 * (r['goal'] - r['mean']):.2f} points"




def table(rows: list) -> str:
    lines = ["| issue | benchmark | figure | goal | seeds | each seed | mean | std | verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["figure"] in YES_NO:
            each = " / ".join("yes" if v >= 1 else "no" for v in r["seeds"].values()) or "–"
            mean = std = "–"
        else:
            each = " / ".join(f"{100 * v:.1f}" + (f" ({r['names'][s]})" if s in r.get("names", {}) else "")
                              for s, v in r["seeds"].items()) or "–"
            mean = "–" if r["mean"] is None else f"{100 * r['mean']:.2f}%"
            std = "–" if r["std"] is None else f"{100 * r['std']:.1f}"
        lines.append(f"| {r['issue']} | {r['family']} | {r['figure']} | {100 * r['goal']:.0f}% | "
                     f"{','.join(map(str, r['seeds'])) or '–'} | {each} | {mean} | {std} | {_verdict(r)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "seeds.json"))
    args = ap.parse_args()
    rows = summarize(Path(args.results))
    md = table(rows)
    write_results(args.out, {"rows": rows}, md)  # prints the table too


if __name__ == "__main__":
    main()
