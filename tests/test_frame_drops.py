"""Frames a slow reader never takes: a live camera hands a reader that needs about a frame's time
per frame its newest frame, and the ones in between are lost at irregular places. Replayed here
from ``benchmarks/frame_drops.py``: the same film of real photos (MediaPipe on real pixels, the
shipped model), read as a camera's, with the frames its third draw lost."""

from __future__ import annotations

import numpy as np
import pytest

#: the frames of the SMALL film that ``frame_drops.py``'s draw 2 (30% lost) never gave the reader
LOST = {4, 8, 17, 21, 24, 25, 27, 28, 30, 32, 37, 39, 40, 43, 61, 62, 64, 66, 71, 75, 77, 81, 83, 85, 90, 92,
        94, 100, 101, 103, 107, 108, 110, 113, 114, 115, 117, 123, 124, 127, 131, 133, 134, 138, 139, 143,
        144, 148, 149, 150, 155, 156, 160, 162, 165}


@pytest.fixture(scope="module")
def small_film(data):
    """SMALL at 1.0 s a letter from mon95 user_5's photos, as ``benchmarks/phone_files.word_film``."""
    from _tiny_model import mon95

    from fingerspell.hands.detector import HandDetector
    from fingerspell.reading.photovideo import PhotoVideoOptions, photo_of_hand, photo_word_frames

    shots = {}
    with HandDetector(mode="image", max_hands=1) as det:
        for letter in "ALMS":
            img = mon95(data, 5, letter, 1)
            shots[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    return photo_word_frames("SMALL", shots, np.random.default_rng(7), PhotoVideoOptions(size=(640, 480)))[0]


def _read(frames, keep) -> str:
    import fingerspell
    from fingerspell.api import _reading_parts
    from fingerspell.hands.detector import HandDetector
    from fingerspell.runtime.recognizer import Recognizer

    with fingerspell.load() as reader, HandDetector(mode="video", max_hands=1) as det:
        decoder, opts = _reading_parts(None, False, None, False, live=True)
        rec = Recognizer(det, reader.classifier, reader.card, opts, decoder=decoder)
        for i in keep:
            rec.process(frames[i], i / 30.0)
        rec.finish()
        rec.end_side_work()
    return " ".join(w.spelled for w in rec.sentence.words)


def test_a_hold_is_not_read_as_the_hand_speeds_up_across_lost_frames(small_film):
    """A to L: the L shape is there as the hand starts its slow, eased way to the L's place. With
    frames 100, 101 and 103 lost, that start was three frames of L whose motion was never measured
    rising through ``still_speed``; on the third (0.89 palms/s, over the last measured 0.14) the
    hold was read, and the L held after the movement written again: SMALLL. A hold is no longer
    read on a still frame where the hand speeds up again (with every frame it read SMALL before too)."""
    assert _read(small_film, [i for i in range(len(small_film)) if i not in LOST]) == "SMALL"
