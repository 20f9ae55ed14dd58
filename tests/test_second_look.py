"""The second look: each hand read again by MediaPipe on the mirrored picture (hands/second_look.py),
stored by build-dataset, trained on and averaged by the landmark model. Real photos, real MediaPipe."""

from __future__ import annotations

import numpy as np
import pytest
from _tiny_model import mon95

from fingerspell.data.build import BuildOptions, build_arrays
from fingerspell.data.schema import load_dataset, save_dataset
from fingerspell.features import VectorInput
from fingerspell.hands.detector import HandDetector
from fingerspell.hands.landmarks import hand_vector
from fingerspell.hands.second_look import match_reading, mirror_back
from fingerspell.training.data import with_second_readings


@pytest.fixture(scope="module")
def hands(data):
    with HandDetector(mode="image", second_look=True) as det:
        return [det.detect(mon95(data, 4, letter, 0))[0] for letter in "ALY"]


def test_the_second_reading_is_the_same_hand_read_again(hands):
    for h in hands:
        assert h.second_landmarks is not None and h.second_landmarks.shape == (21, 3)
        gap = np.linalg.norm(h.second_landmarks[:, :2] - h.landmarks[:, :2], axis=1)
        assert gap.mean() < 0.05  # the same hand, where it is in the photo (not its mirror image)
        assert gap.max() > 1e-4  # but MediaPipe's second guess, not a copy


def test_a_reading_of_another_hand_is_not_matched(hands):
    a, other = hands[0].landmarks, hands[0].landmarks.copy()
    other[:, 0] += 0.3  # a hand elsewhere in the picture
    assert match_reading([other], a) is None
    assert np.allclose(match_reading([other, a], a), a)
    assert np.allclose(mirror_back(mirror_back(a)), a)


def test_the_vector_model_reads_both_readings_and_averages(hands):
    inp = VectorInput()
    batch = inp.batch_for_hands(hands)
    assert batch.shape == (2 * len(hands), inp.shape[0])
    assert np.allclose(batch[0], hand_vector(hands[0])) and not np.allclose(batch[0], batch[1])
    assert np.allclose(inp.hand_row(batch, len(hands), 2), hand_vector(hands[2]))
    probs = np.random.default_rng(0).random((len(batch), 5))
    (p0, _), *_ = inp.pick(probs, len(hands))
    assert np.allclose(p0, probs[:2].mean(axis=0))
    # without a second reading (or with the second look off): one row per hand, as before
    for h in hands:
        h_plain = type(h)(h.landmarks, h.handedness, h.score, h.box, h.image_size)
        assert inp.batch_for_hands([h_plain]).shape[0] == 1
    assert VectorInput(second_look=False).batch_for_hands(hands).shape[0] == len(hands)


def test_the_word_simulator_moves_the_second_reading_with_the_first(hands):
    from fingerspell.hands.landmarks import normalize_landmarks
    from fingerspell.reading.synth import LetterBank, SynthOptions, synth_word

    args = (np.stack([h.landmarks for h in hands]), np.array([h.image_size for h in hands]),
            np.array([0 if h.is_left else 1 for h in hands]), list("ALY"))
    second = np.stack([normalize_landmarks(h.second_landmarks, h.image_size, h.handedness)[:63].reshape(21, 3)
                       for h in hands])
    second[2] = np.nan  # Y was read once
    words = [synth_word("ALLY", bank, SynthOptions(pace=0.5), np.random.default_rng(4))
             for bank in (LetterBank(*args, second=second), LetterBank(*args))]
    (with_second, plain) = words
    assert len(with_second.seconds) == len(with_second.frames)
    assert all(s is None for s in plain.seconds)
    for (_, a), (_, b) in zip(with_second.frames, plain.frames):  # the first readings are as before
        assert (a is None) == (b is None) and (a is None or np.allclose(a, b))
    truth = {c: (s, e) for c, s, e in with_second.truth}
    for (t, lm), sec in zip(with_second.frames, with_second.seconds):
        if lm is None or truth["L"][0] > t or t >= truth["L"][1]:
            assert lm is not None or sec is None
            continue
        assert sec is not None and not np.allclose(sec, lm)  # an L frame: read twice, close not equal
        assert np.abs(sec[:, :2] - lm[:, :2]).mean() < 0.05
    y_frames = [s for (t, lm), s in zip(with_second.frames, with_second.seconds)
                if lm is not None and truth["Y"][0] <= t <= truth["Y"][1]]
    assert y_frames and all(s is None for s in y_frames)


def test_build_dataset_stores_the_second_reading_and_training_uses_it(data, tmp_path):
    opts = BuildOptions(classes=("A", "B", "C"), limit_per_class=2, cache_dir=str(tmp_path / "cache"),
                        progress=False, workers=1)
    arrays, _ = build_arrays([data / "mon95" / "user_5"], opts)
    assert arrays.has_second.all()
    assert not np.allclose(arrays.second_vectors, arrays.vectors)
    assert np.abs(arrays.second_vectors - arrays.vectors)[:, :63].mean() < 0.2  # same hands
    path = save_dataset(arrays, tmp_path / "d.npz")
    back = load_dataset(path)
    assert np.array_equal(back.second_vectors, arrays.second_vectors) and back.has_second.all()
    doubled = with_second_readings(back)
    assert len(doubled) == 2 * len(back)
    assert np.array_equal(doubled.vectors[len(back):], back.second_vectors)
    assert list(doubled.labels[len(back):]) == list(back.labels)
    # the evaluation reads a photo as the recognizer does: the mean over both readings
    inp = VectorInput()
    probs = inp.dataset_probs(lambda x: x[:, :3].copy(), back)
    assert np.allclose(probs, (back.vectors[:, :3] + back.second_vectors[:, :3]) / 2)
    # a build without the second look: no second reading, and a file without them loads
    plain, _ = build_arrays([data / "mon95" / "user_5"], BuildOptions(
        classes=("A",), limit_per_class=1, cache_dir=None, progress=False, workers=1, second_look=False))
    assert not plain.has_second.any() and np.array_equal(plain.second_vectors, plain.vectors)
    raw = dict(np.load(path))
    del raw["second_vectors"], raw["has_second"]
    np.savez(tmp_path / "old.npz", **raw)
    old = load_dataset(tmp_path / "old.npz")
    assert not old.has_second.any() and np.array_equal(old.second_vectors, old.vectors)
    assert len(with_second_readings(old)) == len(old)


def test_a_video_detector_reads_the_mirrored_frame_alongside(data):
    photo = mon95(data, 6, "B", 0)
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[100:100 + photo.shape[0], 150:150 + photo.shape[1]] = photo
    seconds = []
    with HandDetector(mode="video", max_hands=1, second_look=True) as det:
        for i in range(6):
            hands = det.detect(frame, timestamp_ms=33 * i)
            assert len(hands) == 1
            seconds.append(hands[0].second_landmarks)
        mirror = det._mirror
    assert sum(s is not None for s in seconds) >= 5
    assert mirror._pool._shutdown  # closing the detector stops the second look's thread
    with HandDetector(mode="video", max_hands=1) as plain:
        assert plain.detect(frame, timestamp_ms=0)[0].second_landmarks is None


def test_build_dataset_cli_can_skip_the_second_look(data, tmp_path):
    from fingerspell.cli import main

    args = ["build-dataset", str(data / "mon95" / "user_6"), "--classes", "A", "--limit-per-class", "1",
            "--no-cache", "--quiet", "--workers", "1"]
    assert main(args + ["--out", str(tmp_path / "one.npz"), "--no-second-look"]) == 0
    assert main(args + ["--out", str(tmp_path / "two.npz")]) == 0
    assert not load_dataset(tmp_path / "one.npz").has_second.any()
    assert load_dataset(tmp_path / "two.npz").has_second.all()
