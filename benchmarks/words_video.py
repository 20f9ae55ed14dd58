"""The word benchmark's real-video part: a word spelled with one signer's photos, written as an
mp4v video, read back and recognised end to end (MediaPipe on the pixels, the fold model, holds,
motion letters, the word decoder). See ``benchmarks/words.py``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict

import cv2
import numpy as np

from fingerspell.hands.exposure import dimmed
from fingerspell.reading.photovideo import Photo, PhotoVideoOptions, photo_of_hand, photo_word_frames, write_video


def signer_photos(data, group: str, rng: np.random.Generator) -> Dict[str, Photo]:
    """One random photo per letter of ``group`` (a signer), with its hand box from the landmarks."""
    out: Dict[str, Photo] = {}
    rows = np.flatnonzero((np.asarray(data.groups) == group) & ~np.asarray(data.no_hand, bool))
    names = np.asarray(data.classes)[np.asarray(data.labels)]
    by_letter: Dict[str, list] = {}
    for i in rows:
        by_letter.setdefault(str(names[i]), []).append(i)
    for letter, idx in by_letter.items():
        i = int(rng.choice(idx))
        img = cv2.imread(str(data.paths[i]))
        if img is None:
            continue
        out[letter] = photo_of_hand(img, np.asarray(data.landmarks[i]))
    return out


def video_word(word: str, data, group: str, checkpoint: Path, decoder, rng: np.random.Generator,
               pace: float = 1.0, fps: float = 30.0, signing_hand: bool = True, dim: float = 0.0,
               lift: bool = True, codec: str = "mp4v", crop_model=None) -> dict:
    """Spell ``word`` with ``group``'s photos on video and read it with the fold model. ``dim``:
    each frame darkened to that share of its brightness, with sensor noise (``hands.exposure.dimmed``); ``lift``
    False turns the detector's dark-frame lift off (hands/exposure.py); ``codec`` "MJPG": the video
    is written as a webcam sends it (JPEG frames in an .avi) instead of mp4v; ``crop_model``: a hand-crop
    model read beside the fold model (models/hand_crop.py)."""
    from words import outcome

    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.classifier import load_classifier
    from fingerspell.runtime.recognizer import Recognizer, RecognizerOptions
    from fingerspell.runtime.signing_hand import SigningHandOptions
    from fingerspell.runtime.sources import VideoSource

    frames, truth = photo_word_frames(word, signer_photos(data, group, rng), rng, PhotoVideoOptions(pace=pace, fps=fps))
    if dim:  # a dim room; the noise is new in every frame (the encoder then smooths some of it)
        frames = [dimmed(f, dim, rng) for f in frames]
    clf, card = load_classifier(checkpoint)
    detector = HandDetector(mode="video", **({} if lift else {"lift_dark": 0}))
    holds = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{word.lower()}.{'avi' if codec == 'MJPG' else 'mp4'}"
        write_video(frames, path, fps=fps, codec=codec)
        opts = RecognizerOptions(signing_hand=SigningHandOptions(enabled=signing_hand))
        with Recognizer(detector, clf, card, opts, decoder=decoder, crop_model=crop_model) as rec, \
                VideoSource(path) as src:
            for frame, t in src:
                r = rec.process(frame, t)
                if r.hold is not None:
                    holds.append(r.hold)
            rec.reader.finish()
            return outcome(word, rec.sentence.words, holds, truth)
