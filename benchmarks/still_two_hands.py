"""A resting hand in a still photo: which hand does ``predict`` read? (measured, nothing changed)

    OMP_NUM_THREADS=1 python benchmarks/still_two_hands.py [--json F]

``benchmarks/two_hands.py`` measures video, where the tracker and the signing-hand rules pick the
hand held higher. A still photo is read in image mode with one hand (``predict``): MediaPipe keeps
the palm it is surest of. Frames as in ``two_hands.py``: one letter of each of the 10 signers of
mon95 and massey (every third letter, 77 in all) in a 640x480 frame, with a still hand of the other
data set pasted at a bottom corner (30-40% of the frame's height). Reported: letters read right
without and with the resting hand, and which hands image mode finds with one hand and with two
(S: the signing hand, R: the resting one). The shipped model was trained on these signers: read the
change, not the level.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine, write_results  # noqa: E402
from two_hands import paste, resting_hand  # noqa: E402
from words_video import signer_photos  # noqa: E402

LETTERS = "ABCDEFGHIKLMNOPQRSUVWXY"


def which(hands, line: float) -> str:
    """S for a hand whose centre lies above ``line`` (the signing hand), R below (the resting one)."""
    return "".join("R" if (h.box[1] + h.box[3]) / 2 > line else "S" for h in hands) or "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "still_two_hands.json"))
    args = ap.parse_args()
    import fingerspell
    from fingerspell.data.schema import load_dataset
    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_word_frames

    sets = {n: load_dataset(Path(args.data_dir) / f"{n}.npz") for n in ("mon95", "massey")}
    signers = [(n, g) for n in ("mon95", "massey") for g in sorted(set(sets[n].groups))]
    alone = resting = n = 0
    found = Counter()
    with fingerspell.load() as reader, HandDetector(mode="image", max_hands=1) as one, \
            HandDetector(mode="image", max_hands=2) as two:
        for k, (name, group) in enumerate(signers):
            other = sets["massey" if name == "mon95" else "mon95"]
            for j, letter in enumerate(LETTERS[k % 3::3]):
                rng = np.random.default_rng([k, j])
                frames, _ = photo_word_frames(letter, signer_photos(sets[name], group, rng), rng, PhotoVideoOptions())
                frame = frames[len(frames) // 2]
                crop, height, right = resting_hand(other, rng), rng.uniform(0.3, 0.4), bool(rng.random() < 0.5)
                both = paste([frame], crop, height, right)[0]
                alone += reader.predict(frame, keep_image=False).letter == letter
                resting += reader.predict(both, keep_image=False).letter == letter
                line = both.shape[0] * (1 - height)  # the resting hand's top edge
                found[f"{which(one.detect(both), line)} / {which(two.detect(both), line)}"] += 1
                n += 1
    lines = [f"A resting hand in a still photo ({n} photos of 10 signers; {machine()})", "",
             f"* letters read right alone: {alone} of {n}; with a resting hand in view: {resting} of {n}", "",
             "| hands found with one hand / with two (S signing, R resting) | photos |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in found.most_common()]
    write_results(args.json, {"machine": machine(), "photos": n, "alone": alone, "resting": resting,
                              "found": dict(found)}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
