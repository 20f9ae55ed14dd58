"""A camera or phone held tilted: letters read from photos turned in the image plane.

    OMP_NUM_THREADS=1 python benchmarks/tilt.py [--json F]

The landmark vector keeps the hand's orientation (it separates H from U, G from Q), and training
turns hands by up to 15 degrees in the image plane (``data/augment.py vector_rotate_deg``). How far
can the camera tilt? The photos of ``phone_files.py`` (308: mon95 photos 1 and 6 of every letter and
user, mon95's T left out, asl-alphabets' test photos 0-2 of each letter), turned about their centre
by -30 to +30 degrees (edges stretched into the corners), read by ``fingerspell.load().predict``.
The shipped model was trained on these data sets: read the change with the angle, not the level.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine, write_results  # noqa: E402
from phone_files import photo_files  # noqa: E402

ANGLES = (-30, -20, -10, 0, 10, 20, 30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default=str(Path(__file__).resolve().parent / "results" / "tilt.json"))
    args = ap.parse_args()
    import cv2

    import fingerspell

    files = photo_files(data_root())
    right = {a: 0 for a in ANGLES}
    found = {a: 0 for a in ANGLES}
    with fingerspell.load() as reader:
        for i, (path, truth) in enumerate(files):
            img = cv2.imread(str(path))
            h, w = img.shape[:2]
            for a in ANGLES:
                turned = cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), a, 1.0), (w, h),
                                        borderMode=cv2.BORDER_REPLICATE)
                pred = reader.predict(turned, keep_image=False)
                right[a] += pred.letter == truth
                found[a] += pred.letter is not None
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{len(files)} photos", flush=True)
    n = len(files)
    lines = [f"Photos turned in the image plane ({n} photos; {machine()})", "",
             "| turned (degrees, anticlockwise +) | " + " | ".join(str(a) for a in ANGLES) + " |",
             "|---|" + "---|" * len(ANGLES),
             "| letters read right | " + " | ".join(f"{right[a] / n:.1%}" for a in ANGLES) + " |",
             "| hands found | " + " | ".join(f"{found[a] / n:.1%}" for a in ANGLES) + " |"]
    write_results(args.json, {"machine": machine(), "n_photos": n, "right": {str(a): right[a] / n for a in ANGLES},
                              "found": {str(a): found[a] / n for a in ANGLES}}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
