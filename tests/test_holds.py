"""Holds on scripted landmark sequences: real hand shapes (MediaPipe on massey photos), the real
shipped model where the reading matters, simple probability vectors where the logic does."""

from __future__ import annotations

from typing import List, Optional

import numpy as np
import pytest

from fingerspell.errors import FingerspellError
from fingerspell.labels import CLASSES
from fingerspell.reading.holds import FrameReading, HoldOptions, HoldSegmenter
from fingerspell.reading.synth import SynthOptions, synth_word
from tests._reading_bank import model_probs, real_bank, segment, written

FPS = 30.0
SIZE = (640, 480)
PALM = 80.0


@pytest.fixture(scope="module")
def bank(data):
    return real_bank(str(data))


def onehot(letter: str, p: float = 0.97) -> np.ndarray:
    v = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    v[CLASSES.index(letter)] = p
    return v


def pose(shape: np.ndarray, offset=(0.0, 0.0)) -> np.ndarray:
    px = shape * PALM
    px[:, :2] += np.array([SIZE[0] / 2, SIZE[1] * 0.65]) + np.asarray(offset) * PALM
    return (px / np.array([SIZE[0], SIZE[1], SIZE[0]])).astype(np.float32)


class Script:
    """Frames at 30 fps: holds (with detection jitter), moves, gaps."""

    def __init__(self, seed: int = 0) -> None:
        self.frames: List[tuple] = []
        self.rng = np.random.default_rng(seed)
        self.t = 0.0

    def add(self, lm: Optional[np.ndarray]) -> None:
        if lm is not None:
            lm = lm + np.concatenate([self.rng.normal(0, 0.8, (21, 2)) / np.array(SIZE), np.zeros((21, 1))], axis=1)
        self.frames.append((self.t, lm))
        self.t += 1 / FPS

    def hold(self, shape, seconds: float, offset=(0.0, 0.0)) -> float:
        start = self.t
        for _ in range(int(round(seconds * FPS))):
            self.add(pose(shape, offset))
        return start

    def move(self, shape, a, b, seconds: float, lift: float = 0.0) -> None:
        n = int(round(seconds * FPS))
        for k in range(1, n + 1):
            u = k / n
            off = np.asarray(a) + (np.asarray(b) - np.asarray(a)) * u + np.array([0, -lift * np.sin(np.pi * u)])
            self.add(pose(shape, off))

    def gap(self, frames: int) -> None:
        for _ in range(frames):
            self.add(None)


def run(script: Script, probs=None, options: Optional[HoldOptions] = None):
    if probs is None:
        probs = model_probs(script.frames, SIZE)
    elif callable(probs):
        probs = [None if lm is None else probs(i) for i, (_, lm) in enumerate(script.frames)]
    return segment(script.frames, probs, SIZE, CLASSES, options)


def test_options_are_checked():
    for bad in (dict(still_speed=0), dict(still_speed=2.0, move_speed=1.0), dict(min_confidence=1.5),
                dict(min_frames=0), dict(min_gap_s=-1), dict(motion_window_s=float("nan"))):
        with pytest.raises(FingerspellError, match="hold option"):
            HoldOptions(**bad)
    assert HoldOptions().min_gap_s == 0.0


def test_bad_frames_are_one_clear_error():
    seg = HoldSegmenter(CLASSES)
    with pytest.raises(FingerspellError, match="29 classes"):
        seg.update(FrameReading(0.0, np.zeros((21, 3)), SIZE, np.ones(5) / 5))
    with pytest.raises(FingerspellError, match=r"\(21, 3\)"):
        seg.update(FrameReading(0.0, np.zeros((20, 3)), SIZE, onehot("A")))
    assert seg.update(FrameReading(0.0, None, SIZE, None)).state == "no_hand"


def test_a_still_hand_writes_one_letter_within_300_ms(bank):
    s = Script()
    start = s.hold(bank.sample("L", s.rng), 3.0)
    ups = run(s)
    assert written(ups) == ["L"]
    hold = next(u.hold for u in ups if u.hold)
    assert hold.kind == "static" and hold.confidence > 0.5 and hold.top[0][0] == "L"
    assert hold.written_at - start <= 0.3
    assert ups[-1].state == "read" and ups[-1].progress == 1.0
    assert max(u.motion for u in ups[5:]) < HoldOptions().still_speed


def test_movement_between_letters_is_never_read(bank):
    """A slow, long morph from B to O through every shape in between writes only B and O."""
    s = Script(1)
    b, o = bank.sample("B", s.rng), bank.sample("O", s.rng)
    s.hold(b, 0.6)
    n = 30
    for k in range(1, n + 1):
        u = k / n
        s.add(pose(b + (o - b) * u, (1.0 * u, 0.3 * np.sin(np.pi * u))))
    t_o = s.hold(o, 0.6, (1.0, 0.0))
    ups = run(s)
    assert written(ups) == ["B", "O"]
    assert all(u.hold is None for u in ups if u.state == "moving")
    assert next(u.hold for u in ups[::-1] if u.hold).written_at >= t_o


def test_label_flicker_and_landmark_jumps_never_repeat_a_letter(bank):
    s = Script(2)
    shape = bank.sample("L", s.rng)
    for k in range(90):
        jump = (0.5, -0.4) if k % 10 == 5 else (0.0, 0.0)  # one-frame landmark jumps
        s.add(pose(shape, jump))

    flicker = {5, 17, 29, 44, 70, 55, 56, 80, 81}  # one- and two-frame flips to a confident B

    def probs(i):
        return onehot("B") if i in flicker else onehot("L")

    assert written(run(s, probs)) == ["L"]
    assert written(run(s)) == ["L"]


def test_short_dropouts_neither_end_nor_split_a_hold(bank):
    s = Script(3)
    shape = bank.sample("A", s.rng)
    for k in range(12):
        s.hold(shape, 0.2)
        s.gap(1 + k % 2)
    ups = run(s)
    assert written(ups) == ["A"]
    assert all(u.state == "read" for u in ups[12:]) and not any(u.unread for u in ups)


def test_double_letters_by_slide_bounce_and_release(bank):
    s = Script(4)
    shape = bank.sample("L", s.rng)
    s.hold(shape, 0.6)
    s.move(shape, (0, 0), (0.4, 0), 0.2)  # slide
    s.hold(shape, 0.6, (0.4, 0))
    s.move(shape, (0.4, 0), (0.4, 0), 0.2, lift=0.3)  # bounce
    s.hold(shape, 0.6, (0.4, 0))
    s.gap(10)  # release
    s.hold(shape, 0.6, (0.4, 0))
    assert written(run(s)) == ["L"] * 4


def test_a_held_letter_wobbling_is_not_written_again(bank):
    """A movement too small for a double letter's bounce or slide (under ``double_distance``, 0.2
    palm), read as the held letter throughout, is the hold wobbling: a K held on video moved 0.14
    palm in two frames and BOOK read BOOKK. The bounces and slides of double letters (0.25-0.5
    palm, the test above) still write the letter twice."""
    for seed in range(3):
        s = Script(seed)
        shape = bank.sample("K", s.rng)
        s.hold(shape, 0.6)
        s.move(shape, (0, 0), (0.14, 0), 2 / FPS)
        s.hold(shape, 0.6, (0.14, 0))
        assert written(run(s)) == ["K"]
        assert written(run(s, options=HoldOptions(double_distance=0.0))) == ["K", "K"]  # without the rule


def test_q_and_y_which_english_never_doubles_are_not_doubled_by_jitter(bank):
    """A Q pointing down, tracked with fingertips a quarter of a palm apart from frame to frame, was
    written two and three times (QQUIZ, QQQUEEN on massey hand1's videos): that jitter and a
    signer's small bounce overlap in size, but English doubles neither Q nor Y, so their wobble
    reaches ``rare_double_distance`` (half a palm), also across a still moment too short to read.
    An L moved as far is still a double letter; a Q slid further, or released, is too."""
    for seed in range(2):
        for letter, want in (("Q", ["Q"]), ("Y", ["Y"]), ("L", ["L"] * 3)):
            s = Script(seed)
            shape = bank.sample(letter, s.rng)
            s.hold(shape, 0.6)
            s.move(shape, (0, 0), (0.3, 0), 3 / FPS)
            s.hold(shape, 0.6, (0.3, 0))
            s.move(shape, (0.3, 0), (0.3, 0), 4 / FPS, lift=0.28)  # a bounce ...
            s.hold(shape, 2 / FPS, (0.3, 0))  # ... a still moment too short for a letter ...
            s.move(shape, (0.3, 0), (0.3, 0), 4 / FPS, lift=0.28)  # ... and another
            s.hold(shape, 0.6, (0.3, 0))
            assert written(run(s)) == want, (letter, seed)
        s = Script(seed)
        shape = bank.sample("Q", s.rng)
        s.hold(shape, 0.6)
        s.move(shape, (0, 0), (0.6, 0), 6 / FPS)  # RAQQA: a slide of over half a palm
        s.hold(shape, 0.6, (0.6, 0))
        s.gap(10)  # or a release
        s.hold(shape, 0.6, (0.6, 0))
        assert written(run(s)) == ["Q"] * 3


def test_the_letters_english_never_doubles_come_from_wordfreq():
    from wordfreq import top_n_list, word_frequency

    from fingerspell.reading.hold_types import RARE_DOUBLES

    most: dict = {}
    for w in top_n_list("en", 50_000):
        for a, b in zip(w.upper(), w.upper()[1:]):
            if a == b and a.isascii() and a.isalpha():
                most[a] = max(most.get(a, 0.0), word_frequency(w, "en"))
    never = {c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if most.get(c, 0.0) < 1e-6}
    assert never == set(RARE_DOUBLES) == {"Q", "Y"}
    assert most["L"] > 1e-3 and most["V"] > 1e-6  # "all"; "savvy"


def _settling_b(bank, seed: int):
    """A B that comes into view still moving into place (eased in and out), then held 0.6 s."""
    s = Script(seed)
    shape = bank.sample("B", s.rng)
    s.gap(5)
    u = np.linspace(0, 1, 10)
    for e in 3 * u ** 2 - 2 * u ** 3:  # eased in and out, as a hand moves
        s.add(pose(shape, (0.3 * e, 0)))
    s.hold(shape, 0.6, (0.3, 0))
    return s, shape


def test_a_hand_that_comes_into_view_moving_slowly_writes_its_first_letter_once(bank):
    """A hand found already moving into place, slowly at first (a video that starts as the hand
    settles), looked still on its first frames: they were read as a hold, and the place where it
    stopped as a second one, so BOOK read BBOOK (``benchmarks/hand_entry.py``). The first hold of a
    hand come into view is not read on a frame where it is speeding up again. A hand that comes into
    view still and then slides still writes its letter twice (LLAMA)."""
    for seed in range(4):
        s, shape = _settling_b(bank, seed)
        assert written(run(s)) == ["B"], seed
        s = Script(seed)
        s.gap(5)
        s.hold(shape, 0.3)
        s.move(shape, (0, 0), (0.4, 0), 0.2)
        s.hold(shape, 0.6, (0.4, 0))
        assert written(run(s)) == ["B", "B"], seed


def test_a_settling_hand_with_frames_a_slow_reader_never_took_writes_its_first_letter_once(bank):
    """A live camera hands a slow reader its newest frame, the ones between are lost at irregular
    places (``benchmarks/frame_drops.py``). Across such a gap the motion is not measured (a high
    figure may be one misplaced detection); frames of a settling hand that came after gaps joined
    its first hold, which grew long enough to be written when the hand moved on: BOOK read BBOOK.
    Those frames now wait for the next measured frame, as a jump across a dropout does. Measured on
    20 draws with 35% of the frames lost: 17 read B once (12 before; 18 with every frame)."""
    once = 0
    for seed in range(20):
        s, _ = _settling_b(bank, seed)
        drop = np.random.default_rng(100 + seed).random(len(s.frames)) < 0.35
        s.frames = [f for f, d in zip(s.frames, drop) if not d or f[1] is None]  # a lost frame: not there at all
        got = written(run(s))
        assert got in (["B"], ["B", "B"]), (seed, got)  # never another letter
        once += got == ["B"]
    assert once >= 16


def test_nothing_is_a_release_and_never_written(bank):
    s = Script(5)
    shape = bank.sample("O", s.rng)
    s.hold(shape, 2.0)
    ups = run(s, lambda i: onehot("NOTHING") if 20 <= i < 32 else onehot("O"))
    assert written(ups) == ["O", "O"]
    assert ups[25].state == "no_hand"
    assert written(run(s, lambda i: onehot("NOTHING"))) == []


def test_space_and_del_are_written_as_letters(bank):
    s = Script(6)
    shape = bank.sample("B", s.rng)
    s.hold(shape, 0.5)
    s.gap(10)
    s.hold(shape, 0.5)
    assert written(run(s, lambda i: onehot("SPACE" if i < 15 else "DEL"))) == ["SPACE", "DEL"]


def test_an_uncertain_hold_is_reported_not_written(bank):
    s = Script(7)
    s.hold(bank.sample("E", s.rng), 1.0)
    s.gap(5)

    def probs(i):
        v = np.full(len(CLASSES), 0.3 / (len(CLASSES) - 2))
        v[CLASSES.index("E")], v[CLASSES.index("S")] = 0.4, 0.3
        return v

    ups = run(s, probs)
    assert written(ups) == []
    unread = [u.unread for u in ups if u.unread]
    assert len(unread) == 1 and unread[0].letter == "E" and unread[0].confidence == pytest.approx(0.4, abs=0.01)
    assert max(u.progress for u in ups) < 1.0


def test_a_reading_change_with_a_still_wrist_is_a_new_letter(bank):
    s = Script(8)
    s.hold(bank.sample("A", s.rng), 2.0)
    assert written(run(s, lambda i: onehot("A" if i < 30 else "S"))) == ["A", "S"]


def test_an_unsure_hold_drifting_to_its_second_letter_stays_one_letter(bank):
    # Measured on the word benchmark: a new signer's O read as O 0.58 / C 0.42 drifted to C for a
    # few frames and wrote BOCOCK for BOOK. An unsure hold (under 0.8) is not split by its own
    # second letter; a sure one still is (above), and an unsure one by a third letter.
    def pair(a: str, b: str, pa: float, pb: float) -> np.ndarray:
        v = np.full(len(CLASSES), (1 - pa - pb) / (len(CLASSES) - 2))
        v[CLASSES.index(a)], v[CLASSES.index(b)] = pa, pb
        return v

    s = Script(9)
    s.hold(bank.sample("O", s.rng), 2.0)
    assert written(run(s, lambda i: pair("O", "C", 0.58, 0.40) if i < 30 else pair("C", "O", 0.56, 0.42))) == ["O"]
    assert written(run(s, lambda i: pair("O", "C", 0.58, 0.40) if i < 30 else pair("X", "O", 0.9, 0.05))) == ["O", "X"]


def test_min_gap_delays_the_next_letter(bank):
    s = Script(9)
    a, b = bank.sample("A", s.rng), bank.sample("B", s.rng)
    s.hold(a, 0.4)
    s.move(b, (0, 0), (0.8, 0), 0.2)
    s.hold(b, 1.5, (0.8, 0))
    hold_times = [u.hold.written_at for u in run(s, options=HoldOptions(min_gap_s=1.0)) if u.hold]
    assert len(hold_times) == 2 and hold_times[1] - hold_times[0] >= 1.0
    fast = [u.hold.written_at for u in run(s) if u.hold]
    assert fast[1] - fast[0] < 0.9


def test_still_j_and_z_probabilities_write_i_and_d(bank):
    s = Script(10)
    s.hold(bank.sample("I", s.rng), 1.0)
    s.gap(10)
    s.hold(bank.sample("D", s.rng), 1.0)
    assert written(run(s, lambda i: onehot("J" if i < 30 else "Z", 0.9))) == ["I", "D"]


@pytest.mark.parametrize("pace", [1.0, 0.5])
def test_a_still_d_or_i_never_gives_j_or_z(bank, pace):
    rng = np.random.default_rng(11)
    for k, word in enumerate(("DIDI", "IDDI", "DIID", "IIDD")):
        sw = synth_word(word, bank, SynthOptions(pace=pace, mirror=bool(k % 2)), rng)
        got = written(segment(sw.frames, model_probs(sw.frames, sw.image_size, sw.handedness), sw.image_size,
                              CLASSES))
        assert "J" not in got and "Z" not in got
        assert got == list(word)


@pytest.mark.parametrize("pace", [1.0, 0.5])
def test_words_with_doubles_and_motion_letters_at_pace(bank, pace):
    """Simulated words (real shapes, real model, jitter, tremor, dropouts): right, and every static
    letter written within 300 ms of its hold's start."""
    rng = np.random.default_rng(12)
    for k, word in enumerate(("HELLO", "JAZZ", "BOOK", "JOKE", "DAZE", "KISS", "SILLY")):
        sw = synth_word(word, bank, SynthOptions(pace=pace, mirror=bool(k % 2)), rng)
        ups = segment(sw.frames, model_probs(sw.frames, sw.image_size, sw.handedness), sw.image_size, CLASSES)
        assert "".join(written(ups)) == word
        taken_back = {id(u.retract) for u in ups if u.retract is not None}
        holds = [u.hold for u in ups if u.hold and id(u.hold) not in taken_back]
        statics = [h for h in holds if h.kind == "static"]
        truth = [(c, a) for c, a, _ in sw.truth if c not in "JZ"]
        assert [h.letter for h in statics] == [c for c, _ in truth]
        for h, (_, start) in zip(statics, truth):
            assert 0 < h.written_at - start <= 0.3, (word, h)
        assert [h.letter for h in holds if h.kind == "motion"] == [c for c in word if c in "JZ"]


def test_the_frame_clock_keeps_durations_at_lower_frame_rates():
    from fingerspell.reading.tracking import FrameClock

    clock = FrameClock()
    assert clock.frames(5) == 5 and clock.slack() == 0  # no frames yet: 30 fps
    for k in range(20):
        clock.tick(k / 30)
    assert [clock.frames(n) for n in (3, 5)] == [3, 5] and abs(clock.slack()) < 1e-9
    clock.reset()
    for k in range(20):
        clock.tick(k / 15)
    assert [clock.frames(n) for n in (1, 3, 5)] == [1, 2, 3]  # one or two frames of dropout: still 2
    assert clock.slack() == pytest.approx(1 / 30)
    clock.tick(100.0)  # a pause in the stream is not a frame interval
    assert clock.frames(5) == 3


def test_words_at_15_fps(bank):
    """A camera at 15 fps (dim light, a browser over Wi-Fi): the segmenter measures the frame rate
    and counts its frames in time. Every word right at 1.0 s a letter; at 0.5 s (a hold is then
    4 or 5 frames) all but one at most, where frame counts fixed for 30 fps read 5 of these 8."""
    words = ("HELLO", "JAZZ", "BOOK", "JOKE", "DAZE", "KISS", "SILLY", "HIDE")
    rng = np.random.default_rng(15)
    for pace, need in ((1.0, len(words)), (0.5, len(words) - 1)):
        right = 0
        for k, word in enumerate(words):
            sw = synth_word(word, bank, SynthOptions(pace=pace, fps=15.0, mirror=bool(k % 2)), rng)
            ups = segment(sw.frames, model_probs(sw.frames, sw.image_size, sw.handedness), sw.image_size, CLASSES)
            right += "".join(written(ups)) == word
        assert right >= need, (pace, right)


def test_a_j_drawn_out_of_a_written_i_takes_the_i_back(bank):
    rng = np.random.default_rng(13)
    sw = synth_word("J", bank, SynthOptions(pace=1.0, dropout=0.0), rng)
    (_, start, _end), = sw.truth
    # hold the I shape a whole second before drawing the J: the I gets written first
    first = next(i for i, (t, lm) in enumerate(sw.frames) if t >= start)
    frames = list(sw.frames[:first]) + [(0.0, sw.frames[first - 1][1])] * 30 + list(sw.frames[first:])
    frames = [(i / FPS, lm) for i, (_, lm) in enumerate(frames)]
    ups = segment(frames, model_probs(frames, sw.image_size), sw.image_size, CLASSES)
    letters = [u.hold.letter for u in ups if u.hold]
    assert letters == ["I", "J"]
    retract = next(u.retract for u in ups if u.hold and u.hold.letter == "J")
    assert retract is not None and retract.letter == "I"
    assert written(ups) == ["J"]
    # the I held, wobbling (0.14 palm in two frames: not a double letter), then the J: the same
    from fingerspell.reading.tracking import palm_size_2d

    w, h = sw.image_size
    palm = palm_size_2d(sw.frames[first - 1][1][:, :2] * np.array([w, h])) / w
    shifted = [(0.0, lm if lm is None else lm + np.array([0.07 * palm * k, 0.0, 0.0], np.float32))
               for k, (_, lm) in [(0, f) for f in sw.frames[:first]] + [(0, sw.frames[first - 1])] * 20
               + [(1, sw.frames[first - 1]), (2, sw.frames[first - 1])] + [(2, sw.frames[first - 1])] * 20
               + [(2, f) for f in sw.frames[first:]]]
    shifted = [(i / FPS, lm) for i, (_, lm) in enumerate(shifted)]
    ups = segment(shifted, model_probs(shifted, sw.image_size), sw.image_size, CLASSES)
    assert [u.hold.letter for u in ups if u.hold] == ["I", "J"] and written(ups) == ["J"]


def _photo(data, letter: str, index: int = 0):
    from fingerspell.hands.detector import load_image

    img = load_image(sorted((data / "massey" / letter).glob("hand1_*.jpeg"))[index])
    return img, (0, 0, img.shape[1], img.shape[0])


@pytest.mark.parametrize("motion,step", [("Z", 1), ("J", 1), ("Z", 2), ("J", 2)])
def test_a_word_with_a_motion_letter_and_a_double_letter_from_real_photos(data, motion, step):
    """ZOO / JOO: a real Z (index) or I photo moved along a Z or J path, a real O photo held, slid
    and held again; MediaPipe on every frame, the shipped model, the hold segmenter. ``step`` 2:
    every other frame, as a 15 fps camera films it."""
    from fingerspell.hands.detector import HandDetector
    from fingerspell.hands.landmarks import normalize_landmarks
    from fingerspell.reading.synth import _j_path, _z_path, photo_path_frames

    first_img, first_box = _photo(data, "z" if motion == "Z" else "i")
    o_img, o_box = _photo(data, "o")
    s = np.linspace(0, 1, 16)
    s = s * s * (3 - 2 * s)
    if motion == "Z":
        path, turn = _z_path(s, 1.0, 120.0, 90.0), np.zeros(16)
    else:
        path, turn = _j_path(s, -1.0, 80.0, 50.0), -40.0 * s
    offsets = [(0.0, 0.0)] * 6 + [tuple(p) for p in path] + [tuple(path[-1])] * 12
    rotations = [0.0] * 6 + list(turn) + [turn[-1]] * 12
    frames = photo_path_frames(first_img, first_box, offsets, rotations, size=SIZE)
    slide_in = [(160.0 * (1 - u), 0.0) for u in np.linspace(0, 1, 6)]
    slide = [(40.0 * u, 0.0) for u in np.linspace(0, 1, 6)]
    frames += photo_path_frames(o_img, o_box, slide_in + [(0.0, 0.0)] * 18 + slide + [(40.0, 0.0)] * 18, size=SIZE)
    frames += [np.zeros_like(frames[0])] * 8
    clf = _model()
    seg = HoldSegmenter(clf.classes)
    letters = []
    with HandDetector(max_hands=1) as det:
        for i, frame in list(enumerate(frames))[::step]:
            hands = det.detect(frame)
            lm = probs = None
            if hands:
                h = hands[0]
                lm = h.landmarks
                probs = clf.predict_proba(normalize_landmarks(h.landmarks, h.image_size, h.handedness)[None])[0]
            up = seg.update(FrameReading(i / FPS, lm, SIZE, probs))
            if up.retract is not None and not np.isnan(up.retract.written_at) and letters:
                letters.pop()
            if up.hold is not None:
                letters.append(up.hold.letter)
    assert letters == [motion, "O", "O"]


def _model():
    from tests._reading_bank import model

    return model()


def test_a_j_drawn_by_the_little_finger_on_video_is_read_as_j(data):
    """JOY on video from massey hand1's photos (MediaPipe on every frame, the shipped model, the
    reader's segmenter). The video film turns the hand about its little fingertip and draws the J
    in palm sizes of that hand, as a signer's J is. The first film drew the hook with the photo's
    centre in a fixed unit, too small for massey's large hands: every massey J came out as II."""
    from fingerspell.hands.detector import HandDetector, load_image
    from fingerspell.hands.landmarks import normalize_landmarks
    from fingerspell.reading.photovideo import Photo, photo_of_hand, photo_word_frames

    photos = {}
    with HandDetector(max_hands=1, mode="image") as det:
        for letter in "IOY":
            img = load_image(sorted((data / "massey" / letter.lower()).glob("hand1_*.jpeg"))[0])
            photos[letter] = photo_of_hand(img, det.detect(img)[0].landmarks)
    clf = _model()

    def read(photos) -> list:
        frames, _ = photo_word_frames("JOY", photos, np.random.default_rng(0))
        seg, letters = HoldSegmenter(clf.classes), []
        with HandDetector(max_hands=1) as det:
            for i, frame in enumerate(frames):
                hands = det.detect(frame)
                lm = probs = None
                if hands:
                    lm = hands[0].landmarks
                    vec = normalize_landmarks(lm, hands[0].image_size, hands[0].handedness)
                    probs = clf.predict_proba(vec[None])[0]
                up = seg.update(FrameReading(i / FPS, lm, (frames[0].shape[1], frames[0].shape[0]), probs))
                if up.retract is not None and not np.isnan(up.retract.written_at) and letters:
                    letters.pop()
                if up.hold is not None:
                    letters.append(up.hold.letter)
        return letters

    assert read(photos) == ["J", "O", "Y"]
    centred = {k: Photo(p.image, p.box, p.thumb_right) for k, p in photos.items()}  # the first film
    assert "J" not in read(centred)


def _z_drawn_from_a_held_d(bank, fps: float, pause_at_corner: int = 0):
    """Frames of a Z drawn out of a D held for a second (real D landmarks), at ``fps``; with
    ``pause_at_corner`` frames of stillness where the first stroke turns."""
    rng = np.random.default_rng(21)
    sw = synth_word("Z", bank, SynthOptions(pace=1.0, dropout=0.0, fps=fps), rng)
    (_, start, end), = sw.truth
    first = next(i for i, (t, _) in enumerate(sw.frames) if t >= start)
    last = next(i for i, (t, _) in enumerate(sw.frames) if t >= end)
    tips = np.array([lm[8, :2] for _, lm in sw.frames[first:last]])
    turn = first + int(np.argmax(np.abs(np.diff(tips[:, 0])) < np.abs(np.diff(tips[:, 1]))))  # the 1st corner
    lms = [lm for _, lm in sw.frames]
    lms = lms[:first] + [lms[first - 1]] * int(fps) + lms[first:turn] + [lms[turn]] * pause_at_corner + lms[turn:]
    return [(i / fps, lm) for i, lm in enumerate(lms)], sw.image_size


def test_an_unsure_d_that_a_z_is_drawn_from_is_taken_back_by_the_reader(bank):
    """A new signer's D read at 0.45: the segmenter does not write it, the reader writes it as an
    unsure hold when the hand moves, and the Z drawn out of it takes it back (it was DZ)."""
    from fingerspell.reading.reader import Reader

    frames, size = _z_drawn_from_a_held_d(bank, 30.0)
    reader = Reader(CLASSES)
    ups = [reader.update(FrameReading(t, lm, size, None if lm is None else onehot("D", 0.45))) for t, lm in frames]
    assert [u.hold.letter for u in ups if u.hold] == ["D", "Z"]
    assert any(u.retract is not None and u.retract.letter == "D" for u in ups)
    assert reader.sentence.current == "Z"
    # a segmenter caller that writes only confident holds has nothing to take back
    seg_ups = segment(frames, [None if lm is None else onehot("D", 0.45) for _, lm in frames], size, CLASSES)
    assert written(seg_ups) == ["Z"]


@pytest.mark.parametrize("fps", [15.0, 30.0])
def test_a_z_that_stops_at_a_corner_for_a_frame_is_still_a_z(bank, fps):
    frames, size = _z_drawn_from_a_held_d(bank, fps, pause_at_corner=1)
    ups = segment(frames, [None if lm is None else onehot("D") for _, lm in frames], size, CLASSES)
    assert written(ups) == ["Z"]


def test_at_15_fps_a_two_frame_pause_between_shapes_is_not_a_letter(bank):
    """At 15 fps a hold can be read from 2 frames; both must read its letter. A Z whose last frame
    is already turning into the next shape (D 0.6, O 0.4), one O frame that the motion filter still
    sees on the spot, then the move to the O: one O (ZOONE came out of 15 fps videos before)."""
    frames, size = _z_drawn_from_a_held_d(bank, 15.0)
    end = max(i for i, (_, lm) in enumerate(frames) if lm is not None)
    frames = frames[:end + 1]
    last = frames[-1][1]
    shift = np.array([0.03, 0.0, 0.0], dtype=np.float32)
    tail = [last + shift * k for k in range(1, 5)] + [last + shift * 4] * 15
    lms = [lm for _, lm in frames] + tail
    probs = [None if lm is None else onehot("D") for _, lm in frames] + [onehot("O")] * len(tail)
    probs[len(frames) - 1] = 0.6 * onehot("D") + 0.4 * onehot("O")  # the Z's last frame, turning into O
    ups = segment([(i / 15.0, lm) for i, lm in enumerate(lms)], probs, size, CLASSES)
    assert written(ups) == ["Z", "O"]


def test_a_z_whose_hand_shape_a_new_signer_makes_look_like_k_is_still_a_z(bank):
    """mon95 user_5's index finger (D, and the Z drawn with it) is read as K at 0.7 by a model that
    never saw them: the Z gate counts K, and the K hold the Z is drawn from is taken back."""
    frames, size = _z_drawn_from_a_held_d(bank, 30.0)
    k_like = 0.7 * onehot("K", 1.0) + 0.2 * onehot("D", 1.0) + 0.1 * onehot("L", 1.0)
    ups = segment(frames, [None if lm is None else k_like for _, lm in frames], size, CLASSES)
    assert written(ups) == ["Z"]
    # the same hand held still, or moved without drawing a Z, stays a K
    s = Script(31)
    shape = bank.sample("D", s.rng)
    s.hold(shape, 1.0)
    s.move(shape, (0, 0), (1.5, 0.3), 0.4)
    s.hold(shape, 1.0, offset=(1.5, 0.3))
    assert written(run(s, lambda i: k_like)) == ["K", "K"]


def test_an_unsure_end_pose_after_a_j_is_not_a_letter(bank):
    """After a J the hand often rests in its I shape; a new signer's I read I 0.45 / Y 0.4 never
    gets sure, and the reader used to write it as an unsure I when the hand moved on (massey hand4's
    JOY came out as JIOY). The end pose of a J or Z is absorbed whether it is read sure or not."""
    from fingerspell.reading.reader import Reader

    rng = np.random.default_rng(13)
    sw = synth_word("J", bank, SynthOptions(pace=1.0, dropout=0.0), rng)
    (_, _start, end), = sw.truth
    last = max(i for i, (t, lm) in enumerate(sw.frames) if lm is not None and t <= end)
    lms = [lm for _, lm in sw.frames[:last + 1]] + [sw.frames[last][1]] * 20  # the I shape held 0.67 s
    unsure = 0.45 * onehot("I", 1.0) + 0.4 * onehot("Y", 1.0) + 0.15 * onehot("L", 1.0)
    probs = [None if lm is None else (onehot("I", 0.9) if i <= last else unsure) for i, lm in enumerate(lms)]
    shift = np.array([0.08, 0.0, 0.0], dtype=np.float32)  # then the hand moves on to an O
    lms += [lms[-1] + shift * k for k in range(1, 8)] + [lms[-1] + shift * 7] * 20
    probs += [onehot("B", 0.6)] * 7 + [onehot("O")] * 20
    reader = Reader(CLASSES)
    ups = [reader.update(FrameReading(i / FPS, lm, sw.image_size, p)) for i, (lm, p) in enumerate(zip(lms, probs))]
    assert any(u.unread is None and u.hold is not None and u.hold.letter == "J" for u in ups)
    assert reader.sentence.current == "JO"


def _a_then_k_at_15_fps(bank, seed: int, k_offsets) -> List[str]:
    """A held 8 frames at 15 fps, then K at each of ``k_offsets`` (palm sizes to the right; None: a
    frame without a detection), then the hand gone: the letters written."""
    a, k = bank.shapes["A"][0], bank.shapes["K"][0]
    rng = np.random.default_rng(seed)
    lms, probs = [], []
    for shape, letter, off in [(a, "A", 0.0)] * 8 + [(k, "K", o) for o in k_offsets] + [(None, None, None)] * 8:
        if off is None:
            lms.append(None)
            probs.append(None)
            continue
        lm = pose(shape, (off, 0.0))
        lm[:, :2] += rng.normal(0, 0.8, (21, 2)) / np.array(SIZE)
        lms.append(lm)
        probs.append(onehot(letter))
    return written(segment([(i / 15.0, lm) for i, lm in enumerate(lms)], probs, SIZE, CLASSES))


def test_at_15_fps_a_last_letter_with_a_dropout_in_its_short_hold_is_written(bank):
    """At 15 fps and half a second a letter, a hold is four frames. The last letter of a word,
    reached by a move, loses one frame to a detection dropout and the hand then leaves: the frame
    after the gap shows the hand as still as before it, so it counts towards the hold (it used to
    leave the motion unknown, the hand stayed 'moving', one still frame was left and BLACK came
    out of the word benchmark as BLAC)."""
    assert _a_then_k_at_15_fps(bank, 3, [0.5, 1.0, 1.5, 1.5, None, 1.5, 1.5]) == ["A", "K"]


def test_at_15_fps_a_last_letter_reached_during_a_dropout_is_written(bank):
    """The hand reaches the last letter while the detector misses two frames (at 15 fps), then
    is still for three frames and leaves. The median filter still holds positions from before
    the gap and shows motion that is not there; two successive detections that agree the hand is
    still count instead (FIXED came out of the word benchmark as FIXE). A hand that was still
    before such a gap and is found elsewhere after it has moved: that still splits the hold
    (tests/test_live_layout.py)."""
    assert _a_then_k_at_15_fps(bank, 4, [0.4, 0.8, None, None, 1.5, 1.5, 1.5]) == ["A", "K"]


def test_the_motion_after_a_dropout_is_known_only_when_the_hand_stayed_still():
    from fingerspell.reading.tracking import MotionTracker, palm_size_2d

    hand = pose(np.random.default_rng(0).normal(0, 0.5, (21, 3)))
    px = hand[:, :2] * np.array(SIZE)
    tracker = MotionTracker(0.1, still_speed=0.7)
    speeds = [tracker.push(i / 15.0, px) for i in range(4)]
    assert speeds[0] != speeds[0] and max(speeds[1:]) < 0.1  # nan with no history, then still
    assert tracker.push(5 / 15.0, px) < 0.1  # one frame missing, the hand where it was: still
    assert not tracker.jumped
    moved = tracker.push(7 / 15.0, px + np.array([40.0, 0.0]))  # missing again, and half a palm away
    assert moved != moved  # unknown (a misplaced detection or a move): the state stays as it was
    assert tracker.jumped  # and the hold reader waits for the next frame before it reads on it
    drift = MotionTracker(0.1, still_speed=0.7)
    for i in range(4):
        drift.push(i / 15.0, px)
    palm = palm_size_2d(px)
    drift.push(6 / 15.0, px + np.array([0.15 * palm, 0.0]))  # 1.1 palm/s over the gap, but 0.15 palm
    assert not drift.jumped  # a settling hand's or the detector's drift across a gap: no move
    moving = MotionTracker(0.1, still_speed=0.7)
    speeds = [moving.push(i / 15.0, px + np.array([8.0 * i, 0.0])) for i in range(4)]
    assert min(speeds[2:]) > 0.7  # a hand moving before the gap, found further on after it:
    moving.push(6 / 15.0, px + np.array([48.0, 0.0]))
    assert not moving.jumped  # no still hold to keep it from


def _a_then_k_at_30_fps(bank, k_frames: int, options: Optional[HoldOptions] = None) -> List[str]:
    """A held a third of a second, a 4-frame move to K, K held ``k_frames`` frames, the hand gone."""
    a, k = bank.shapes["A"][0], bank.shapes["K"][0]
    rng = np.random.default_rng(7)
    steps = [(a, "A", 0.0)] * 10 + [(k, "K", 0.4 * i) for i in range(1, 5)] + [(k, "K", 1.6)] * k_frames
    lms = []
    for shape, _, off in steps:
        lm = pose(shape, (off, 0.0))
        lm[:, :2] += rng.normal(0, 0.8, (21, 2)) / np.array(SIZE)
        lms.append(lm)
    frames = [(i / FPS, lm) for i, lm in enumerate(lms + [None] * 8)]
    probs = [onehot(letter) for _, letter, _ in steps] + [None] * 8
    return written(segment(frames, probs, SIZE, CLASSES, options))


def test_a_last_letter_held_a_fifth_of_a_second_is_written(bank):
    """Three letters a second: the last one is held about 0.2 s and the hand leaves. The motion
    calls the hand still only a few frames after it stopped (it is measured over 0.1 s, from
    median-filtered positions), so those frames alone were too few and the letter vanished; the
    frames before them with the hand already in place now count when the hold is cut short."""
    assert _a_then_k_at_30_fps(bank, 6) == ["A", "K"]
    assert _a_then_k_at_30_fps(bank, 6, HoldOptions(settle_distance=0.0)) == ["A"]  # as it was
    assert _a_then_k_at_30_fps(bank, 2) == ["A"]  # a pause of two frames is still no letter


def test_words_at_three_letters_a_second(bank):
    """Simulated words at 0.33 s a letter (about 0.2 s of hold each; real shapes, the shipped model,
    jitter, tremor and dropouts): 7 of these 8 at least, where the motion's frames alone read 1."""
    words = ("HELLO", "JAZZ", "BOOK", "JOKE", "DAZE", "KISS", "SILLY", "HIDE")
    for options, need in ((None, len(words) - 1), (HoldOptions(settle_distance=0.0), 0)):
        rng = np.random.default_rng(33)
        right = 0
        for k, word in enumerate(words):
            sw = synth_word(word, bank, SynthOptions(pace=1 / 3, mirror=bool(k % 2)), rng)
            probs = model_probs(sw.frames, sw.image_size, sw.handedness)
            right += "".join(written(segment(sw.frames, probs, sw.image_size, CLASSES, options))) == word
        assert right >= need if options is None else right <= 2, (options, right)


def test_words_at_four_letters_a_second(bank):
    """Simulated words at 0.25 s a letter (a hold of four or five frames, 0.1 s of movement between
    letters). The motion calls the hand still about three frames after it stops; the frames before
    that count when the hand stood within ``settle_distance`` of where it holds, but at 0.05 palm
    sizes jitter and tremor put most of them out, and a hold within 0.25 s of a J or Z got none
    (JOKE read JKE, JAZZ JZZ): 0 of these 8 words were read. Now 0.07 palm, and after a J or Z only
    a hold in the motion's own hand shape is taken for its end pose."""
    words = ("JOKE", "JAZZ", "HIDE", "DAZE", "HAZY", "JOLLY", "BLAZE", "HELLO")

    def right(options=None) -> int:
        rng = np.random.default_rng(7)
        got = 0
        for k, word in enumerate(words):
            sw = synth_word(word, bank, SynthOptions(pace=0.25, mirror=bool(k % 2)), rng)
            probs = model_probs(sw.frames, sw.image_size, sw.handedness)
            got += "".join(written(segment(sw.frames, probs, sw.image_size, CLASSES, options))) == word
        return got

    assert right() >= len(words) - 1
    assert right(HoldOptions(settle_distance=0.0)) <= 2  # without the frames before a hold


def _segment_steps(steps, rng, fps: float):
    """Segment scripted steps: (shape, letter, offset in palm sizes to the right) or None (a frame
    without a detection), with detection jitter."""
    lms = []
    for step in steps:
        lm = None if step is None else pose(step[0], (step[2], 0.0))
        if lm is not None:
            lm[:, :2] += rng.normal(0, 0.8, (21, 2)) / np.array(SIZE)
        lms.append(lm)
    probs = [None if st is None else onehot(st[1]) for st in steps]
    return segment([(i / fps, lm) for i, lm in enumerate(lms)], probs, SIZE, CLASSES)


@pytest.mark.parametrize("gap", [1, 2])
def test_a_short_hold_that_slips_across_a_dropout_is_one_letter(bank, gap):
    """A hold too short for its still frames alone is read when the hand moves on, but only once
    the movement proves real (four moving frames): a K held a moment, one or two frames without a
    detection, and the same K found a third of a palm aside (a detector's slip) and held on, is
    one K. Read at the first moving frame, it came out twice (on video, a new signer's DUCK as
    DUCKK)."""
    a, k = bank.shapes["A"][0], bank.shapes["K"][0]
    rng = np.random.default_rng(5)
    steps = ([(a, "A", 0.0)] * 10 + [(k, "K", 0.4 * i) for i in range(1, 5)] + [(k, "K", 1.6)] * 4
             + [None] * gap + [(k, "K", 1.9)] * 12 + [None] * 8)
    ups = _segment_steps(steps, rng, FPS)
    assert written(ups) == ["A", "K"]
    assert "moving" in [u.state for u in ups[20:]]  # the slip was seen as a movement


@pytest.mark.parametrize("word,pace,seed", [("AZ", 1.0, 107), ("AZ", 1.0, 130), ("AJ", 0.5, 3)])
def test_a_motion_letter_drawn_out_of_a_short_pause_takes_its_shape_back(bank, word, pace, seed):
    """The hand pauses a moment in the D (or I) shape and draws the Z (or J): the pause, too short
    for its still frames alone, is read once the movement proves real, as the hold the path left,
    so the Z takes it back (it came out as ADZ, the older hold the movement resumed being taken for
    the one it left)."""
    sw = synth_word(word, bank, SynthOptions(pace=pace), np.random.default_rng(seed))
    ups = segment(sw.frames, model_probs(sw.frames, sw.image_size, sw.handedness), sw.image_size, CLASSES)
    assert "".join(written(ups)) == word


def test_a_hold_is_not_read_on_a_frame_found_elsewhere_after_a_dropout(bank):
    """At 15 fps the hand stops at the end of a J (still its I shape), starts to change to E,
    the detector misses two frames while the hand moves on, and finds it elsewhere reading E.
    The motion on that frame is unknown; the hold it would complete must wait for the next
    frame's motion (which shows the move), or the E is written there and again where the hand
    comes to rest (a new signer's JELLY came out of the 15 fps word benchmark as JEELLY)."""
    a, k = bank.shapes["A"][0], bank.shapes["K"][0]
    rng = np.random.default_rng(11)
    steps = ([(a, "A", 0.0)] * 8 + [(a, "A", o) for o in (0.5, 1.0, 1.3, 1.45, 1.5, 1.5)] + [(k, "K", 1.5), None, None]
             + [(k, "K", 2.5)] * 8 + [None] * 8)
    ups = _segment_steps(steps, rng, 15.0)
    assert written(ups) == ["A", "K"]
