"""Phone photos and videos, stored sideways with a tag that turns them upright.

    OMP_NUM_THREADS=1 python benchmarks/orientation.py [--json F]

A phone keeps the sensor's landscape pixels and writes how to show them (a photo's EXIF
orientation, a video's display matrix). A reader that ignores the tag sees every hand turned by a
quarter, and the letters are read from their orientation as well as their shape (H/U, G/Q, K/P).

* **photos**: real photos of signers the model may or may not have seen (mon95 photos 1 and 6 of
  every letter of every user, two sittings, and asl-alphabets' test photos 0-2; mon95's T left out),
  each written as a phone JPEG turned a quarter with its EXIF tag (6: turn clockwise to show, and
  8: anticlockwise). Read three ways with ``fingerspell.load().predict``: the photo as it is, the phone
  file (the tag applied, as ``predict`` reads it now), and the stored pixels without the tag (what
  ``predict`` read before 2026-12-06);
* **videos**: words spelled with real photos of mon95 users (photovideo), stored as a phone stores
  an upright film (each frame turned a quarter, a display matrix to turn it back; imageio-ffmpeg's
  ffmpeg writes the tag), read by ``reader.read`` as ``run`` reads a file, and the same frames read
  untagged (what the reader saw before).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine, write_results  # noqa: E402

WORDS = ("HELLO", "QUICK", "PAGE", "BOX", "WORLD")  # no T: mon95's T is not the ASL T
TAGS = {6: "ROTATE_90", 8: "ROTATE_270"}  # EXIF tag -> how the stored pixels were turned from upright


def photo_files(root: Path) -> list:
    files = []
    for user in sorted((root / "mon95").glob("user_*")):
        files += [(p, p.stem[0]) for p in sorted(user.glob("*.jpg")) if p.stem[1:] in ("1", "6") and p.stem[0] != "T"]
    for letter_dir in sorted((root / "asl-alphabets" / "test").iterdir()):
        if len(letter_dir.name) == 1:
            files += [(p, letter_dir.name) for p in sorted(letter_dir.glob("*.jpg"))[:3]]
    return files


def photo_rows(reader, files: list, tmp: Path) -> dict:
    import cv2
    from PIL import Image

    right = {"as taken": 0, **{f"phone (tag {t}) read now": 0 for t in TAGS},
             **{f"phone (tag {t}) read untagged": 0 for t in TAGS}}
    for i, (path, truth) in enumerate(files):
        upright = Image.open(path).convert("RGB")
        right["as taken"] += reader.predict(str(path)).letter == truth
        for tag, turn in TAGS.items():
            exif = Image.Exif()
            exif[0x0112] = tag
            phone = tmp / f"phone_{tag}.jpg"
            upright.transpose(getattr(Image.Transpose, turn)).save(phone, exif=exif, quality=95)
            right[f"phone (tag {tag}) read now"] += reader.predict(str(phone)).letter == truth
            stored = cv2.imdecode(np.fromfile(str(phone), np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            right[f"phone (tag {tag}) read untagged"] += reader.predict(stored).letter == truth
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(files)} photos", flush=True)
    return {k: v / len(files) for k, v in right.items()}


def video_rows(reader, tmp: Path) -> dict:
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames, write_video
    from fingerspell.runtime.video_out import bundled_ffmpeg

    ffmpeg = bundled_ffmpeg()
    if not ffmpeg:
        raise SystemExit("imageio-ffmpeg's ffmpeg is needed to tag the videos: pip install imageio-ffmpeg")
    root = data_root()
    rows = {"words": len(WORDS), "right tagged": 0, "right untagged": 0, "read": []}
    with HandDetector(mode="image", max_hands=1) as det:
        for k, word in enumerate(WORDS):
            user = f"user_{3 + k % 5}"
            shots = {}
            for letter in sorted(set(word)):
                img = load_image(root / "mon95" / user / f"{letter}1.jpg")
                shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
            film, _ = photo_word_frames(word, shots, np.random.default_rng(k), PhotoVideoOptions(size=(480, 640)))
            stored = tmp / "stored.mp4"
            write_video([np.ascontiguousarray(np.rot90(f, k=-1)) for f in film], stored, fps=30.0)
            phone = tmp / "phone.mp4"
            subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(stored),
                            "-c", "copy", str(phone)], check=True)
            now = reader.read(str(phone), fps=30, learn=False, decode=False).text.strip()
            before = reader.read(str(stored), fps=30, learn=False, decode=False).text.strip()
            rows["right tagged"] += now == word
            rows["right untagged"] += before == word
            rows["read"].append({"word": word, "user": user, "tagged": now, "untagged": before})
            print(f"  {word} ({user}): tag applied {now!r}, untagged {before!r}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default=str(Path(__file__).resolve().parent / "results" / "orientation.json"))
    args = ap.parse_args()
    import fingerspell

    files = photo_files(data_root())
    with tempfile.TemporaryDirectory() as tmp, fingerspell.load() as reader:
        photos = photo_rows(reader, files, Path(tmp))
        videos = video_rows(reader, Path(tmp))
    lines = [f"Phone photos and videos ({len(files)} photos, {videos['words']} words; {machine()})", "",
             "| photos | letters read right |", "|---|---|"]
    lines += [f"| {k} | {v:.1%} |" for k, v in photos.items()]
    lines += ["", "| videos (upright film stored turned, with a display matrix) | words right as spelled |",
              "|---|---|",
              f"| tag applied (read now) | {videos['right tagged']} of {videos['words']} |",
              f"| untagged (read before) | {videos['right untagged']} of {videos['words']} |"]
    lines += [f"* {r['word']} ({r['user']}): {r['tagged']} / {r['untagged']}" for r in videos["read"]]
    write_results(args.json, {"machine": machine(), "photos": photos, "n_photos": len(files), "videos": videos},
                  "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
