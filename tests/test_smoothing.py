"""Vote windows, hand tracks and the sentence builder on scripted frame sequences (10 fps clock)."""

from __future__ import annotations

import pytest

from fingerspell.errors import FingerspellError
from fingerspell.runtime.smoothing import (
    Observation,
    SentenceBuilder,
    SmoothingOptions,
    TrackSet,
    VoteWindow,
    accept,
)

FPS = 10
SIZE = (640, 480)
LEFT_BOX = (80, 120, 240, 330)
RIGHT_BOX = (400, 110, 560, 320)


class Script:
    """Feeds a TrackSet + SentenceBuilder frame by frame, the way the recognizer does."""

    def __init__(self, **kw) -> None:
        self.options = SmoothingOptions(**kw)
        self.tracks = TrackSet(self.options)
        self.builder = SentenceBuilder(self.options)
        self.frame = 0

    @property
    def t(self) -> float:
        return self.frame / FPS

    def hold(self, label: str, seconds: float, confidence: float = 0.95, box=RIGHT_BOX) -> "Script":
        for _ in range(int(round(seconds * FPS))):
            (track,) = self.tracks.update([Observation("Right", box, SIZE, label, confidence)])
            self.builder.update(self.t, track.stable, hand_present=True)
            self.frame += 1
        return self

    def away(self, frames: int) -> "Script":
        for _ in range(frames):
            self.tracks.update([])
            self.builder.update(self.t, None, hand_present=False)
            self.frame += 1
        return self

    @property
    def text(self) -> str:
        return self.builder.text


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


def test_low_confidence_is_ignored():
    s = Script().hold("A", 3.0, confidence=0.6)
    assert s.text == ""
    assert s.tracks.tracks[0].label == "A" and s.tracks.tracks[0].stable is None
    s.hold("A", 1.0, confidence=0.9)
    assert s.text == "A"


def test_cooldown_holds_the_next_letter_back():
    b = SentenceBuilder(SmoothingOptions(cooldown_s=2.0))
    assert b.update(0.0, "A").text == "A"
    for i in range(1, 20):  # B is stable from 0.1 s but the cooldown runs to 2.0 s
        assert b.update(i / 10, "B") is None
    event = b.update(2.0, "B")
    assert event is not None and event.kind == "letter" and event.text == "AB" and event.time == 2.0
    # The same timing through a vote window: A written when its window fills (0.7 s), B not before 2.7 s.
    s = Script().hold("A", 1.0).hold("B", 1.0)
    assert s.text == "A"
    s.hold("B", 1.0)
    assert s.text == "AB"
    assert [e.time for e in s.builder.events] == pytest.approx([0.7, 2.7])


def test_holding_a_letter_longer_never_doubles_it():
    s = Script().hold("L", 10.0)
    assert s.text == "L"
    s.away(1).hold("L", 5.0)  # one missed detection is not letting go
    assert s.text == "L"


def test_released_and_signed_again_gives_a_double_letter():
    s = Script().hold("L", 2.0).away(3).hold("L", 2.5)
    assert s.text == "LL"
    s = Script().hold("O", 2.0).hold("NOTHING", 1.0).hold("O", 2.0)
    assert s.text == "OO"


def test_another_stable_letter_in_between_releases_the_first():
    s = Script().hold("A", 1.0).hold("B", 0.6).hold("A", 2.0)
    # B was stable (so A was let go) but never written: the cooldown had not passed.
    assert s.text == "AA"


def test_re_signed_letter_waits_for_the_cooldown():
    s = Script().hold("L", 0.8).away(2).hold("L", 1.0)
    assert s.text == "L"  # released and stable again at 1.0 s, but the first L was written at 0.7 s
    s.hold("L", 0.7)
    assert s.text == "L"
    s.hold("L", 0.1)
    assert s.text == "LL"
    assert s.builder.events[1].time == pytest.approx(2.7)


def test_space_and_delete_signs():
    s = Script().hold("H", 2.0).hold("I", 2.0).hold("SPACE", 2.0)
    assert s.text == "HI "
    s.hold("Y", 2.0)
    assert s.text == "HI Y"
    s.hold("DEL", 4.0)
    assert s.text == "HI "  # holding DEL deletes once
    s.away(3).hold("DEL", 2.0)
    assert s.text == "HI"
    kinds = [e.kind for e in s.builder.events]
    assert kinds == ["letter", "letter", "space", "letter", "delete", "delete"]


def test_nothing_writes_nothing():
    s = Script().hold("NOTHING", 5.0)
    assert s.text == "" and s.builder.events == []


def test_ui_space_delete_reset():
    b = SentenceBuilder()
    b.update(0.0, "A")
    assert b.add_space() == "A "
    b.update(3.0, "B")
    assert b.text == "A B"
    assert b.delete() == "A "
    assert b.delete() == "A"
    assert b.delete() == ""
    assert b.delete() == ""  # nothing left to delete: no error
    b.update(6.0, "C")
    assert b.reset() == ""
    assert b.update(9.0, "C") is None  # C is still held: a reset does not write it again
    b.update(9.1, None, hand_present=False)
    b.update(9.2, None, hand_present=False)
    assert b.update(9.3, "C").text == "C"


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


def test_builder_is_usable_from_two_threads():
    import threading

    b = SentenceBuilder(SmoothingOptions(cooldown_s=0.0))

    def ui():
        for _ in range(500):
            b.add_space()
            b.delete()

    th = threading.Thread(target=ui)
    th.start()
    letters = "ABABABABAB"
    for i, letter in enumerate(letters):
        b.update(float(i), letter)
    th.join()
    assert b.text == letters
