"""Frames a slow reader never takes: a live camera hands a reader that needs about a frame's time
per frame its newest frame, and the ones in between are lost at irregular places. Replayed here
from ``benchmarks/frame_drops.py`` with its own code: the same film of real photos (MediaPipe on
real pixels, the shipped model), read as a camera's, with the frames its third draw lost."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

#: the frames of the SMALL film that ``frame_drops.py``'s draw 2 (30% lost) never gave the reader
LOST = {4, 8, 17, 21, 24, 25, 27, 28, 30, 32, 37, 39, 40, 43, 61, 62, 64, 66, 71, 75, 77, 81, 83, 85, 90, 92,
        94, 100, 101, 103, 107, 108, 110, 113, 114, 115, 117, 123, 124, 127, 131, 133, 134, 138, 139, 143,
        144, 148, 149, 150, 155, 156, 160, 162, 165}


def test_a_hold_is_not_read_as_the_hand_speeds_up_across_lost_frames(data, monkeypatch):
    """A to L: the L shape is there as the hand starts its slow, eased way to the L's place. With
    frames 100, 101 and 103 lost, that start was three frames of L whose motion was never measured
    rising through ``still_speed``; on the third (0.89 palms/s, over the last measured 0.14) the
    hold was read, and the L held after the movement written again: SMALLL. A hold is no longer
    read on a still frame where the hand speeds up again (with every frame it read SMALL before too)."""
    import fingerspell
    from fingerspell.hands.detector import HandDetector

    monkeypatch.setenv("FINGERSPELL_DATA", str(data))
    from frame_drops import read_film
    from phone_files import VFR_WORDS, word_film

    with HandDetector(mode="image", max_hands=1) as det:
        frames = word_film(det, "SMALL", VFR_WORDS.index("SMALL"))  # mon95 user_5's photos
    assert len(frames) == 172  # the film the draw was made on
    with fingerspell.load() as reader:
        assert read_film(reader, frames, [i for i in range(len(frames)) if i not in LOST]) == "SMALL"
