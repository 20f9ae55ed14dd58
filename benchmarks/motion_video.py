"""J and Z on real video, for every signer of the word benchmark: MediaPipe on the pixels.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/motion_video.py [--seeds 3] [--words JOY ZONE JAZZ]
        [--train-on signers|all]

Each word is spelled on video with one signer's photos (``words_video.video_word``: the hand moved
and turned along J and Z paths drawn by the little or index fingertip, in palm sizes of that hand)
and read with that signer's fold model (never trained on the signer). ``benchmarks/words.py``
picks its video words at random, so a signer may get no J at all there; this asks every signer
for every motion word. Prints and writes ``benchmarks/results/motion_video.md``: J and Z found
(as spelled) per signer, and the words as spelled.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="videos of each word per signer (other photos, paths)")
    ap.add_argument("--words", nargs="+", default=["JOY", "ZONE", "JAZZ"])
    ap.add_argument("--train-on", choices=["signers", "all"], default="signers")
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "motion_video.md"))
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    import calibration as bench_cal
    from words_video import video_word

    from fingerspell.data.schema import load_dataset
    from fingerspell.reading.words import WordDecoder

    decoder, t0 = WordDecoder(), time.perf_counter()
    lines = ["| signer | J found | Z found | words as spelled |", "|---|---|---|---|"]
    total = {"J": [0, 0], "Z": [0, 0]}
    for name in ("mon95", "massey"):
        letters = bench_cal.letters_of(name, load_dataset(Path(args.data_dir) / f"{name}.npz"))
        for group in sorted(np.unique(letters.groups).tolist()):
            ckpt = bench_cal.fold_model(name, letters, group, 40, 0,
                                        bench_cal.other_sets(name, args.data_dir, args.train_on))
            found = {"J": [0, 0], "Z": [0, 0]}
            spelled = []
            for seed in range(args.seeds):
                for w in args.words:
                    raw = video_word(w, letters, group, ckpt, decoder, np.random.default_rng(seed))["raw"]
                    spelled.append(raw)
                    for c in "JZ":
                        found[c][0] += min(w.count(c), raw.count(c))
                        found[c][1] += w.count(c)
            for c in "JZ":
                total[c][0] += found[c][0]
                total[c][1] += found[c][1]
            j, z = found["J"], found["Z"]
            row = f"| {group} | {j[0]}/{j[1]} | {z[0]}/{z[1]} | {' '.join(spelled)} |"
            print(row, flush=True)
            lines.append(row)
    lines.append(f"| **all** | **{total['J'][0]}/{total['J'][1]}** | **{total['Z'][0]}/{total['Z'][1]}** | |")
    lines += ["", f"Fold models `--train-on {args.train_on}`, words {', '.join(args.words)}, {args.seeds} videos "
              f"of each per signer; {machine()}, {time.perf_counter() - t0:.0f} s."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-3:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
