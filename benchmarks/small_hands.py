"""Small hands in large frames: the detector with and without its closer look (hands/tiles.py).

    OMP_NUM_THREADS=1 python benchmarks/small_hands.py [--photos 90] [--words 5] [--json F]

A person sitting back from an HD webcam, or a phone filming upright, shows a hand that is small
beside the frame's long side, and MediaPipe's palm detector, which sees the whole frame shrunk to
192 pixels, misses it. Three measurements, each with ``tile_look`` off and on:

* **photos** (image mode, as ``predict`` reads): real photos of signers (mon95 and asl-alphabets'
  test photos, their own backgrounds) scaled so that the hand's box is a given fraction of the
  frame's long side and centred in 640x480, 1920x1080 and 1080x1920 frames (grey around the
  photo); the share of hands found;
* **false hands**: the same photos with the hand's box filled with the photo's median colour
  (faces, bodies and rooms stay); the share of frames where a hand is "found" (must stay near 0);
* **videos** (video mode, as ``run`` and ``live`` read): words spelled with real photos of mon95
  users (:func:`fingerspell.reading.photovideo.photo_word_frames`) in 1920x1080 and 1080x1920
  frames with the hand a tenth of the long side, read by the shipped model; words right as
  spelled, frames with a hand, and the detector's time per frame (median);
* **empty scenes** (video mode): mon95 photos with the hand's box (and 10 pixels around it) filled
  with the photo's median colour, the person, face and room left, filling a 1280x720 frame, 90 frames
  each with sensor noise: frames where a "hand" is found, videos that write anything, and the
  recognizer's time per frame (median over the videos).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine  # noqa: E402

FRAMES = ((640, 480), (1920, 1080), (1080, 1920))
FRACTIONS = (0.05, 0.07, 0.09, 0.12, 0.16)
WORDS = ("HELLO", "QUIZ", "BOX", "WAVY", "JUMP")


def placed(img: np.ndarray, box, fraction: float, size) -> np.ndarray:
    """``img`` scaled so that ``box`` (the hand) spans ``fraction`` of the frame's long side, centred
    in a grey frame of ``size``."""
    import cv2

    w, h = size
    x0, y0, x1, y1 = box
    s = fraction * max(w, h) / max(x1 - x0, y1 - y0, 1)
    im = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.full((h, w, 3), 128, np.uint8)
    ox, oy = w // 2 - int((x0 + x1) / 2 * s), h // 2 - int((y0 + y1) / 2 * s)
    ya, yb, xa, xb = max(0, oy), min(h, oy + im.shape[0]), max(0, ox), min(w, ox + im.shape[1])
    out[ya:yb, xa:xb] = im[ya - oy:yb - oy, xa - ox:xb - ox]
    return out


def photos(n: int, seed: int = 0) -> list:
    """(image, hand box) of ``n`` photos with a hand found at their own size."""
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.hands.landmarks import landmark_box

    rng = random.Random(seed)
    root = data_root()
    files = rng.sample(sorted((root / "mon95").rglob("*.jpg")), 2 * n // 3)
    files += rng.sample(sorted((root / "asl-alphabets" / "test").rglob("*.jpg")), n - len(files))
    out = []
    with HandDetector(mode="image", max_hands=1) as det:
        for f in files:
            img = load_image(f)
            hands = det.detect(img)
            if hands:
                out.append((img, landmark_box(hands[0].landmarks, (img.shape[1], img.shape[0]))))
    return out


def photo_rows(shots: list) -> dict:
    from fingerspell.hands.detector import HandDetector

    rows = {}
    for look in (False, True):
        with HandDetector(mode="image", max_hands=1, tile_look=look) as det:
            for size in FRAMES:
                key = f"{size[0]}x{size[1]} tiles {'on' if look else 'off'}"
                found = {f: sum(bool(det.detect(placed(img, box, f, size))) for img, box in shots) / len(shots)
                         for f in FRACTIONS}
                blank = []
                for img, (x0, y0, x1, y1) in shots:
                    empty = img.copy()
                    empty[max(0, y0):y1, max(0, x0):x1] = np.median(img.reshape(-1, 3), axis=0)
                    blank.append(bool(det.detect(placed(empty, (x0, y0, x1, y1), 0.09, size))))
                rows[key] = {"found": found, "false_hands": float(np.mean(blank))}
                print(key, {f: f"{v:.0%}" for f, v in found.items()}, f"false hands {np.mean(blank):.0%}", flush=True)
    return rows


def video_rows(n_words: int) -> dict:
    from fingerspell.api import load
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames
    from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions

    root = data_root()
    rows: dict = {}
    with load() as reader, HandDetector(mode="image", max_hands=1) as det:
        for size in FRAMES[1:]:
            for look in (False, True):
                key = f"{size[0]}x{size[1]} tiles {'on' if look else 'off'}"
                right = frames_with_hand = frames = 0
                times = []
                for k, word in enumerate(WORDS[:n_words]):
                    user = f"user_{3 + k % 5}"
                    shots = {}
                    for letter in sorted(set(word)):
                        name = {"J": "I", "Z": "D"}.get(letter, letter)
                        img = load_image(root / "mon95" / user / f"{name}1.jpg")
                        shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
                    # the crop is about twice the hand's box: a hand a tenth of the long side
                    opts = PhotoVideoOptions(size=size, hand_height=0.2 * max(size) / size[1])
                    film, _ = photo_word_frames(word, shots, np.random.default_rng(k), opts)
                    video = HandDetector(mode="video", max_hands=1, tile_look=look)
                    rec = Recognizer(video, reader.classifier, reader.card, RecognizerOptions())
                    for i, frame in enumerate(film):
                        t0 = time.perf_counter()
                        res = rec.process(frame, i / 30.0)
                        times.append(res.timings.get("detection", (time.perf_counter() - t0) * 1000))
                        frames_with_hand += bool(res.hands)
                        frames += 1
                    rec.finish(len(film) / 30.0)
                    spelled = " ".join(w.spelled for w in rec.sentence.words)
                    right += spelled == word
                    print(f"  {key} {word}: {spelled}", flush=True)
                    video.close()
                rows[key] = {"words_right": right, "words": n_words, "frames_with_hand": frames_with_hand / frames,
                             "detection_ms_median": float(np.median(times))}
                print(key, rows[key], flush=True)
    return rows


def empty_rows(n: int = 12) -> dict:
    import cv2

    from fingerspell.api import load
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.hands.landmarks import landmark_box
    from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions

    files = random.Random(1).sample(sorted((data_root() / "mon95").rglob("*.jpg")), n)
    rows = {}
    with load() as reader, HandDetector(mode="image", max_hands=1) as det:
        scenes = []
        for f in files:
            img = load_image(f)
            hands = det.detect(img)
            if hands:
                x0, y0, x1, y1 = landmark_box(hands[0].landmarks, (img.shape[1], img.shape[0]))
                img[max(0, y0 - 10):y1 + 10, max(0, x0 - 10):x1 + 10] = np.median(img.reshape(-1, 3), axis=0)
                scenes.append(cv2.resize(img, (1280, 960))[120:840])
        for look in (False, True):
            found = wrote = 0
            ms = []
            for k, scene in enumerate(scenes):
                noise = np.random.default_rng(k)
                video = HandDetector(mode="video", max_hands=1, tile_look=look)
                rec = Recognizer(video, reader.classifier, reader.card, RecognizerOptions())
                t0 = time.perf_counter()
                for i in range(90):
                    frame = np.clip(scene + noise.normal(0, 2, scene.shape), 0, 255).astype(np.uint8)
                    found += bool(rec.process(frame, i / 30.0).hands)
                ms.append((time.perf_counter() - t0) / 90 * 1000)
                rec.finish(3.0)
                wrote += bool("".join(w.spelled for w in rec.sentence.words))
                video.close()
            key = f"tiles {'on' if look else 'off'}"
            rows[key] = {"frames_with_a_hand": found, "frames": 90 * len(scenes), "videos_that_wrote": wrote,
                         "videos": len(scenes), "ms_per_frame_median": float(np.median(ms))}
            print("empty scenes", key, rows[key], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=90)
    ap.add_argument("--words", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    t0 = time.time()
    doc = {"photos": photo_rows(photos(args.photos)), "videos": video_rows(args.words), "empty": empty_rows(),
           "machine": machine(), "seconds": round(time.time() - t0, 1)}
    print(f"machine: {doc['machine']}; {doc['seconds']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
