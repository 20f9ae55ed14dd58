"""Which photos a profile breaks: one held-out signer of ``benchmarks/calibration.py``, draw by draw.

    OMP_NUM_THREADS=1 python benchmarks/calibration_flips.py mon95/user_5 [--k 1] [--seed 3] [--draws 5]

Same fold model (cached by calibration.py), same draws (the generator is seeded alike, so with one
value of ``--k`` the draws are those of ``calibration.py --ks K --seed S``) and the default method: per
draw the accuracy without and with the profile, the test photos it broke (read right before, wrong
after) with what they became, the letters it fixed, and the calibration photo of each broken letter.
A few seconds with the fold model cached.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calibration as C  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.labels import CLASSES  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("group", help="held-out signer, e.g. mon95/user_5 or massey/hand2")
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--data-dir", default=str(C.REPO / "artifacts" / "data"))
    a = ap.parse_args()
    name = a.group.split("/")[0]
    data = C.letters_of(name, load_dataset(Path(a.data_dir) / f"{name}.npz"))
    setting = argparse.Namespace(epochs=a.epochs, seed=a.seed, data_dir=a.data_dir, train_on="signers",
                                 second_look=True, pixels=False)
    clf, base, emb, mine, x, y, probs_of = C.held_out_signer(name, data, a.group, setting)

    def read(model, idx):
        return C.read_as_reader(probs_of(model, idx))

    before_all = read(clf, np.arange(len(y)))
    method, params = C.METHODS[C.CHOSEN]
    rng = np.random.default_rng(a.seed)
    photo = [Path(str(p)).stem for p in mine.paths]
    for d in range(a.draws):
        split = C.draw(y, a.k, rng)
        if split is None:
            print(f"no photo left to test at k={a.k}")
            return
        ci, ti = split
        prof = C.cal.fit_profile(clf, x[ci], y[ci], base, method=method, embedder=emb, **params)
        after = read(C.cal.ProfiledClassifier(clf, prof, emb), ti)
        ok_before, ok_after = before_all[ti] == y[ti], after == y[ti]
        broke = [i for i in range(len(ti)) if ok_before[i] and not ok_after[i]]
        fixed = Counter(CLASSES[y[ti][i]] for i in range(len(ti)) if ok_after[i] and not ok_before[i])
        print(f"draw {d}: {ok_before.mean():.1%} -> {ok_after.mean():.1%}; fixed {dict(fixed) or '-'}")
        for c in sorted({int(y[ti][i]) for i in broke}):
            shown = [f"{photo[ti[i]]} as {CLASSES[after[i]]}" for i in broke if y[ti][i] == c]
            used = ", ".join(photo[j] for j in ci if y[j] == c)
            print(f"  broke {CLASSES[c]}: {', '.join(shown)}  (calibrated on {used})")


if __name__ == "__main__":
    main()
