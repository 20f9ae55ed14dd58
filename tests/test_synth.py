"""The landmark simulator and the photo-path video frames, on real landmarks and real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.reading.synth import LetterBank, SynthOptions, photo_path_frames, synth_word
from tests._reading_bank import real_bank


@pytest.fixture(scope="module")
def bank(data):
    return real_bank(str(data))


def test_bank_holds_real_shapes_in_palm_units(bank):
    assert {"A", "I", "J", "Z", "D", "L", "O"} <= set(bank.shapes)
    shape = bank.sample("L", np.random.default_rng(0))
    assert shape.shape == (21, 3)
    assert np.allclose(shape[0], 0.0)
    palm = np.mean([np.linalg.norm(shape[a, :2] - shape[b, :2]) for a, b in ((0, 5), (0, 9), (0, 17), (5, 17))])
    assert palm == pytest.approx(1.0, abs=1e-6)


def test_word_timeline_pace_and_truth(bank):
    o = SynthOptions(pace=1.0, fps=30, dropout=0.0)
    sw = synth_word("hello", bank, o, np.random.default_rng(1))
    assert sw.word == "HELLO" and [x[0] for x in sw.truth] == list("HELLO")
    ts = np.array([t for t, _ in sw.frames])
    assert np.allclose(np.diff(ts), 1 / 30, atol=1e-6)
    for (_, a, b), (_, c, _d) in zip(sw.truth, sw.truth[1:]):
        assert 0.5 < b - a < 1.0 and 0.1 < c - b < 0.3  # a hold, then a transition or a slide
    assert sw.frames[0][1] is None and sw.frames[-1][1] is None  # no hand before and after
    lm = np.stack([f for _, f in sw.frames if f is not None])
    assert lm.shape[1:] == (21, 3) and lm[:, :, :2].min() > 0 and lm[:, :, :2].max() < 1


def test_dropouts_are_short_and_seeded(bank):
    o = SynthOptions(pace=0.5, dropout=0.2)
    a = synth_word("LOAD", bank, o, np.random.default_rng(3))
    b = synth_word("LOAD", bank, o, np.random.default_rng(3))
    assert [t for t, _ in a.frames] == [t for t, _ in b.frames]
    assert all((x is None) == (y is None) for (_, x), (_, y) in zip(a.frames, b.frames))
    present = [f is not None for _, f in a.frames]
    first, last = present.index(True), len(present) - present[::-1].index(True)
    runs, run = [], 0
    for p in present[first:last]:
        if not p:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    assert runs and max(runs) <= 2


def test_motion_letters_move_the_fingertip(bank):
    rng = np.random.default_rng(2)
    for letter, tip in (("J", 20), ("Z", 8)):
        sw = synth_word(letter, bank, SynthOptions(dropout=0.0), rng)
        (_, start, end), = sw.truth
        pts = np.stack([f[tip, :2] * sw.image_size for t, f in sw.frames if f is not None and start <= t <= end])
        assert np.linalg.norm(np.diff(pts, axis=0), axis=1).sum() > 60  # pixels: about a palm or more
        assert 0.3 <= end - start <= 0.8


def test_mirror_flips_the_hand(bank):
    a = synth_word("L", bank, SynthOptions(dropout=0.0, jitter_px=0, tremor=0), np.random.default_rng(5))
    b = synth_word("L", bank, SynthOptions(dropout=0.0, jitter_px=0, tremor=0, mirror=True), np.random.default_rng(5))
    assert (a.handedness, b.handedness) == ("Right", "Left")
    la = next(f for _, f in a.frames if f is not None)
    lb = next(f for _, f in b.frames if f is not None)
    dx_a = (la[8, 0] - la[0, 0]) * a.image_size[0]
    dx_b = (lb[8, 0] - lb[0, 0]) * b.image_size[0]
    assert dx_a == pytest.approx(-dx_b, rel=0.3, abs=3)  # the hand is scaled per word, mirrored about the wrist


def test_held_letters_name_the_photo_they_show(data):
    """Each held frame names the photo whose landmarks it shows (the word benchmark reads its pixels
    there); frames where the hand morphs or draws a J name none; a bank without paths names none."""
    from tests._reading_bank import detections

    rows = detections(str(data))
    args = (np.stack([h.landmarks for *_, h in rows]), np.array([h.image_size for *_, h in rows]),
            np.array([0 if h.is_left else 1 for *_, h in rows]), [r[0] for r in rows], [r[1] for r in rows])
    with_paths = LetterBank(*args, paths=[str(r[2]) for r in rows])
    sw = synth_word("ALJO", with_paths, SynthOptions(dropout=0.0, pace=1.0), np.random.default_rng(4))
    assert len(sw.photos) == len(sw.frames)
    shown = {}
    for (letter, start, end) in sw.truth:
        inside = [p for (t, _), p in zip(sw.frames, sw.photos) if start <= t < end]
        if letter == "J":
            assert all(p is None for p in inside)  # a moving hand: no photo shows it
            continue
        assert inside and len(set(inside)) == 1 and inside[0] is not None
        assert Path(inside[0]).parent.name == letter.lower()  # massey's folders: one per letter
        shown[letter] = inside[0]
    between = [p for (t, _), p in zip(sw.frames, sw.photos) if not any(s <= t < e for _, s, e in sw.truth)]
    assert between and all(p is None for p in between)
    # the draws are the same with and without paths: the landmarks match frame for frame
    plain = synth_word("ALJO", LetterBank(*args), SynthOptions(dropout=0.0, pace=1.0), np.random.default_rng(4))
    assert set(plain.photos) == {None}
    assert all((a is None and b is None) or np.array_equal(a, b) for (_, a), (_, b) in zip(sw.frames, plain.frames))


def test_bad_input_is_one_clear_error(bank):
    with pytest.raises(FingerspellError, match="no letters"):
        synth_word("123", bank)
    with pytest.raises(FingerspellError, match="no 'C' shapes"):
        synth_word("C", bank)
    with pytest.raises(FingerspellError, match="positive"):
        SynthOptions(fps=0)
    empty = LetterBank(np.zeros((0, 21, 3)), np.zeros((0, 2)), np.zeros(0), [])
    with pytest.raises(FingerspellError):
        empty.sample("A", np.random.default_rng(0))


def test_photo_path_frames_move_a_real_hand(data):
    """MediaPipe finds the photo's hand in the frames, and the hand moves with the offsets."""
    from fingerspell.hands.detector import HandDetector, load_image

    img = load_image(sorted((data / "massey" / "l").glob("hand1_*.jpeg"))[0])
    h, w = img.shape[:2]
    offsets = [(-80.0, 0.0), (0.0, 0.0), (80.0, 40.0)]
    frames = photo_path_frames(img, (0, 0, w, h), offsets, rotations=[0, 0, 15], size=(640, 480))
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
    wrists = []
    with HandDetector(max_hands=1) as det:
        for f in frames:
            hands = det.detect(f)
            assert hands, "MediaPipe lost the moved photo's hand"
            wrists.append(hands[0].pixel_landmarks()[0])
    assert wrists[1][0] - wrists[0][0] == pytest.approx(80, abs=15)
    assert wrists[1][1] == pytest.approx(wrists[0][1], abs=10)
    with pytest.raises(FingerspellError, match="outside"):
        photo_path_frames(img, (w + 10, h + 10, w + 20, h + 20), offsets)
    with pytest.raises(FingerspellError, match="one rotation per offset"):
        photo_path_frames(img, (0, 0, w, h), offsets, rotations=[0])


def test_photo_path_frames_turn_the_hand_about_its_pivot():
    """A point of the photo given as ``pivot`` stays where the offsets put it however the hand
    turns (the film's J turns the hand about the little fingertip, which draws the hook)."""
    img = np.zeros((100, 100, 3), np.uint8)
    img[20:23, 70:73] = 255  # the "fingertip"
    img[80:83, 20:23] = 128  # another point, which must move when turned
    frames = photo_path_frames(img, (10, 10, 90, 90), [(0.0, 0.0)] * 3, rotations=[0, 30, 60],
                               size=(320, 240), background=(0, 0, 0), pivot=(71, 21))
    tips = [np.unravel_index(np.argmax(f[:, :, 0]), f.shape[:2]) for f in frames]
    assert max(np.hypot(t[0] - tips[0][0], t[1] - tips[0][1]) for t in tips) <= 2
    others = [np.argwhere((f[:, :, 0] > 60) & (f[:, :, 0] < 200)).mean(axis=0) for f in frames]
    assert np.hypot(*(others[2] - others[0])) > 20
    plain = photo_path_frames(img, (10, 10, 90, 90), [(0.0, 0.0)], size=(320, 240), background=(0, 0, 0))
    assert np.array_equal(plain[0], frames[0])  # unturned, the pivot changes nothing
