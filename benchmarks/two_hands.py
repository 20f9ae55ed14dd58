"""A hand resting in view while the other spells: is the word still read?

    python benchmarks/two_hands.py [--words HELLO JUMP] [--signers 10] [--seed 0]

Videos of words spelled with real photos of the 10 signers of mon95 and massey (as in
``benchmarks/words.py``'s real-video part, 1.0 s a letter, 30 fps), written as mp4v and read end to
end by the shipped model. Into each, a still hand is pasted at a bottom corner: a photo of another
data set's signer (a relaxed letter shape: A, B, C, O or S), cropped around the hand and scaled to
30-40% of the frame's height. Three versions of each video:

* ``alone``: no other hand (the reference);
* ``resting``: the other hand in view from the first frame, before the spelling hand comes up;
* ``comes in``: the other hand enters at 1.5 s, while the word is being spelled.

Each is read with one hand tracked (the default) and with two, with the signing-hand logic
(``runtime/signing_hand.py``) on and off. Reported: words read right, looks at the whole frame
per video, milliseconds per frame. The shipped model trained on these signers' photos, so the
figure to read is the change against ``alone``, not the level. Results go to
``benchmarks/results/two_hands.json`` and ``two_hands.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, data_root, machine  # noqa: E402
from words_video import signer_photos  # noqa: E402

from fingerspell.data.schema import load_dataset  # noqa: E402
from fingerspell.hands.landmarks import landmark_box  # noqa: E402
from fingerspell.reading.photovideo import PhotoVideoOptions, photo_word_frames, write_video  # noqa: E402

RESTING_SHAPES = ("A", "B", "C", "O", "S")
VARIANTS = ("alone", "resting", "comes in")
READS = (("alone", 1, True), ("alone", 1, False), ("resting", 1, True), ("resting", 1, False),
         ("resting", 2, True), ("resting", 2, False), ("comes in", 1, True), ("comes in", 1, False))
COMES_IN_S = 1.5


def resting_hand(data, rng: np.random.Generator) -> np.ndarray:
    """A crop of a random photo of a relaxed letter shape, around its hand (a third of its side more)."""
    names = np.asarray(data.classes)[np.asarray(data.labels)]
    rows = np.flatnonzero(np.isin(names, RESTING_SHAPES) & ~np.asarray(data.no_hand, bool))
    while True:
        i = int(rng.choice(rows))
        img = cv2.imread(str(data.paths[i]))
        if img is not None:
            break
    x0, y0, x1, y1 = landmark_box(np.asarray(data.landmarks[i]), (img.shape[1], img.shape[0]))
    m = int(0.33 * max(x1 - x0, y1 - y0))
    return img[max(0, y0 - m):y1 + m, max(0, x0 - m):x1 + m]


def paste(frames, crop: np.ndarray, height: float, right: bool, start: int = 0):
    """The crop, ``height`` of the frame's height, pasted at the bottom left (or right) corner of
    every frame from ``start`` on."""
    h0, w0 = frames[0].shape[:2]
    h = int(height * h0)
    crop = cv2.resize(crop, (max(1, int(crop.shape[1] * h / crop.shape[0])), h))
    crop = crop[:, : w0 // 3]
    x = w0 - crop.shape[1] if right else 0
    out = []
    for i, f in enumerate(frames):
        if i >= start:
            f = f.copy()
            f[h0 - h:, x:x + crop.shape[1]] = crop
        out.append(f)
    return out


def read(path: Path, classifier, card, max_hands: int, on: bool) -> dict:
    from fingerspell.api import _reading_parts
    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions
    from fingerspell.runtime.signing_hand import SigningHandOptions
    from fingerspell.runtime.sources import VideoSource

    opts = RecognizerOptions(signing_hand=SigningHandOptions(enabled=on))
    decoder, opts = _reading_parts(opts, True, None, learn=False)
    with HandDetector(mode="video", max_hands=max_hands) as det, VideoSource(path) as src:
        rec = Recognizer(det, classifier, card, opts, decoder=decoder)
        t0, n = time.perf_counter(), 0
        for frame, t in src:
            rec.process(frame, t)
            n += 1
        ms = (time.perf_counter() - t0) / max(n, 1) * 1000
        rec.finish()
        looks = rec.signing.looks
        rec.signing.close()
        return {"text": rec.sentence.text.strip(), "looks": looks, "ms_per_frame": ms}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", nargs="+", default=["HELLO", "JUMP"])
    ap.add_argument("--signers", type=int, default=10, help="how many of the 10 signers")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=str(REPO / "artifacts" / "data"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "two_hands.json"))
    args = ap.parse_args(argv)
    data_root()
    from accuracy import ensure_datasets

    from fingerspell.runtime.classifier import load_classifier

    ensure_datasets(Path(args.data_dir), 96)
    sets = {n: load_dataset(Path(args.data_dir) / f"{n}.npz") for n in ("mon95", "massey")}
    signers = [(n, g) for n in ("mon95", "massey") for g in sorted(set(sets[n].groups))][: args.signers]
    classifier, card = load_classifier(None)
    rows = []
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, group) in enumerate(signers):
            other = sets["massey" if name == "mon95" else "mon95"]
            for word in args.words:
                rng = np.random.default_rng([args.seed, k, sum(map(ord, word))])
                frames, _ = photo_word_frames(word, signer_photos(sets[name], group, rng), rng, PhotoVideoOptions())
                crop, height, right = resting_hand(other, rng), rng.uniform(0.3, 0.4), bool(rng.random() < 0.5)
                videos = {"alone": frames, "resting": paste(frames, crop, height, right),
                          "comes in": paste(frames, crop, height, right, start=int(COMES_IN_S * 30))}
                paths = {}
                for v, fr in videos.items():
                    paths[v] = Path(tmp) / f"{k}_{word}_{v.replace(' ', '_')}.mp4"
                    write_video(fr, paths[v], fps=30.0)
                for v, mh, on in READS:
                    r = read(paths[v], classifier, card, mh, on)
                    rows.append({"signer": group, "word": word, "video": v, "max_hands": mh, "on": on, **r,
                                 "right": r["text"] == word})
                    print(f"{group:14s} {word:6s} {v:9s} hands={mh} {'on ' if on else 'off'} -> {r['text']!r:12s} "
                          f"looks {r['looks']} {r['ms_per_frame']:.1f} ms/frame", flush=True)
    summary = {}
    for v, mh, on in READS:
        sel = [r for r in rows if r["video"] == v and r["max_hands"] == mh and r["on"] == on]
        summary[f"{v}, {mh} hand{'s' if mh > 1 else ''}, {'on' if on else 'off'}"] = {
            "videos": len(sel), "right": int(sum(r["right"] for r in sel)),
            "looks_per_video": float(np.mean([r["looks"] for r in sel])),
            "ms_per_frame": float(np.median([r["ms_per_frame"] for r in sel]))}
    report = {"summary": summary, "rows": rows, "seconds": round(time.time() - t_start, 1), "machine": machine(),
              "settings": vars(args)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    md = ["| video | hands tracked | signing-hand logic | words right | looks per video | ms per frame |",
          "|---|---|---|---|---|---|"]
    for key, s in summary.items():
        v, mh, on = key.split(", ")
        md.append(f"| {v} | {mh.split()[0]} | {on} | {s['right']} / {s['videos']} | {s['looks_per_video']:.1f} | "
                  f"{s['ms_per_frame']:.1f} |")
    md.append(f"\n{len(signers)} signers x {len(args.words)} words ({', '.join(args.words)}), seed {args.seed}; "
              f"{report['seconds']:.0f} s on {report['machine']}.\n")
    out.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
