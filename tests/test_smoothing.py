"""Vote windows and hand tracks on scripted frame sequences. (What is written comes from holds:
tests/test_holds.py and tests/test_reader.py.)"""

from __future__ import annotations

import pytest

from fingerspell.errors import FingerspellError
from fingerspell.runtime.smoothing import (
    Observation,
    SmoothingOptions,
    TrackSet,
    VoteWindow,
    accept,
)

SIZE = (640, 480)
LEFT_BOX = (80, 120, 240, 330)
RIGHT_BOX = (400, 110, 560, 320)


def test_window_needs_a_full_window_and_a_strict_majority():
    w = VoteWindow(size=8, majority=0.5)
    for _ in range(7):
        assert w.push("A") is None  # not full yet
    assert w.push("A") == "A"
    for label in ["B", "B", "B", "B"]:
        w.push(label)
    assert w.items().count("A") == 4 and w.stable is None  # 4 of 8 is no majority
    assert w.push("B") == "B"  # 5 of 8
    w.clear()
    for label in ["C", None, None, "C", None, "C", None, "C"]:
        w.push(label)
    assert w.stable is None  # uncertain frames dilute the vote


def test_threshold_accepts_only_confident_predictions():
    assert accept("A", 0.7, 0.7) == "A"
    assert accept("A", 0.69, 0.7) is None
    assert accept("A", float("nan"), 0.7) is None


def test_options_are_checked():
    with pytest.raises(FingerspellError, match="threshold"):
        SmoothingOptions(threshold=1.5)
    with pytest.raises(FingerspellError, match="window"):
        SmoothingOptions(window=0)


def test_two_hands_keep_separate_windows():
    tracks = TrackSet(SmoothingOptions(window=8))
    mixed = VoteWindow(8)
    for frame in range(8):
        left = Observation("Left", LEFT_BOX, SIZE, "A", 0.9)
        right = Observation("Right", RIGHT_BOX, SIZE, "B", 0.9)
        order = [left, right] if frame % 2 == 0 else [right, left]  # MediaPipe's order changes
        got = tracks.update(order)
        for obs, track in zip(order, got):
            mixed.push(obs.label)
            assert track.handedness == obs.handedness
    by_hand = {t.handedness: t for t in tracks.tracks}
    assert len(by_hand) == 2 and len(tracks.tracks) == 2
    assert by_hand["Left"].stable == "A" and by_hand["Right"].stable == "B"
    assert mixed.stable is None  # one shared window would read neither letter


def test_tracks_follow_moving_hands_and_survive_a_handedness_flip():
    tracks = TrackSet(SmoothingOptions(max_missing=2))
    (first,) = tracks.update([Observation("Right", RIGHT_BOX, SIZE, "A", 0.9)])
    x0, y0, x1, y1 = RIGHT_BOX
    (moved,) = tracks.update([Observation("Right", (x0 - 30, y0 + 10, x1 - 30, y1 + 10), SIZE, "A", 0.9)])
    (flipped,) = tracks.update([Observation("Left", (x0 - 30, y0 + 10, x1 - 30, y1 + 10), SIZE, "A", 0.9)])
    assert first.id == moved.id == flipped.id
    (far,) = tracks.update([Observation("Right", (0, 0, 60, 60), SIZE, "A", 0.9)])
    assert far.id != first.id  # a jump across the frame is another hand
    for _ in range(3):
        tracks.update([Observation("Right", (0, 0, 60, 60), SIZE, "A", 0.9)])
    assert [t.id for t in tracks.tracks] == [far.id]  # the first hand aged out after 3 missed frames
